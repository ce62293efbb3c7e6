package messages

import "fmt"

// Code classifies an error so that the tool layer can tell a problem the user can fix (answered as
// a tool error that says what to do) from an internal fault (a JSON-RPC error and a log line).
type Code string

// The error codes. Every code but Internal is user-fixable.
const (
	CodeInvalidArgument Code = "invalid_argument"
	CodeNotFound        Code = "not_found"
	CodeAlreadyExists   Code = "already_exists"
	CodeExpired         Code = "expired"
	CodeDeleting        Code = "deleting"
	CodeLimitExceeded   Code = "limit_exceeded"
	CodeTooLarge        Code = "too_large"
	CodeBusy            Code = "busy"
	CodeRolledBack      Code = "rolled_back"
	CodeUnavailable     Code = "unavailable"
	CodeInternal        Code = "internal"
)

// Error is the typed error every actor reply carries instead of panicking.
type Error struct {
	Code    Code
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// UserFixable reports whether the error is one the caller can fix.
func (e *Error) UserFixable() bool { return e != nil && e.Code != CodeInternal }
