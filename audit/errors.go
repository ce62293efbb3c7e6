package audit

import "errors"

// Sentinel errors. Errors returned by this package wrap them, so callers test with errors.Is.
var (
	// ErrClosed is returned by Append after Close.
	ErrClosed = errors.New("audit: log is closed")
	// ErrUnavailable is returned by Append once a write or fsync has failed: the log refuses
	// every further event until troupe is restarted with a writable audit directory.
	ErrUnavailable = errors.New("audit: log unavailable after a failed write")
	// ErrInvalidEvent is returned by Append for an event it cannot record as given.
	ErrInvalidEvent = errors.New("audit: invalid event")
	// ErrLocked is returned by Open when another process is writing the same audit log.
	ErrLocked = errors.New("audit: log is in use by another troupe process")
	// ErrNoLog is returned by the readers when the audit directory does not exist.
	ErrNoLog = errors.New("audit: no audit log")
)
