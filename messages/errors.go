package messages

import (
	"fmt"
	"unicode/utf8"
)

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
	// CodePermissionDenied: the principal's scope does not allow the tool (DESIGN §12).
	CodePermissionDenied Code = "permission_denied"
	// CodeApprovalPending: the call waits for a person (require_approval, DESIGN §15); nothing
	// changed, and the same call made again after `troupe approve ID` runs.
	CodeApprovalPending Code = "approval_pending"
	// CodeApprovalDenied: a person refused the call; nothing changed.
	CodeApprovalDenied Code = "approval_denied"
	CodeInternal       Code = "internal"
)

// Error is the typed error every actor reply carries instead of panicking.
type Error struct {
	Code    Code
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

// maxQuoted is the longest string argument an error message quotes whole; a longer one (a
// 10 MB id) is quoted as its start and its length, so that an error never echoes its input.
const maxQuoted = 128

// maxMessage bounds a whole message, whatever went into it.
const maxMessage = 4096

// Errorf builds an *Error with a formatted message; string arguments over 128 bytes appear as
// their start and their length.
func Errorf(code Code, format string, args ...any) *Error {
	short := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok && len(s) > maxQuoted {
			a = Shorten(s, maxQuoted)
		}
		short[i] = a
	}
	msg := fmt.Sprintf(format, short...)
	if len(msg) > maxMessage {
		msg = Shorten(msg, maxMessage/2)
	}
	return &Error{Code: code, Message: msg}
}

// Shorten returns s when it has at most n bytes, otherwise its first n bytes (cut at a UTF-8
// boundary) followed by "… (<length> bytes)".
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

// UserFixable reports whether the error is one the caller can fix.
func (e *Error) UserFixable() bool { return e != nil && e.Code != CodeInternal }
