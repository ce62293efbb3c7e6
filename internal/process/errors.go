package process

import "errors"

// Errors callers can test for with errors.Is. The messages are written for the person who has to
// act on them; the wrapping errors add which process or file is concerned.
var (
	// ErrNoStdin is returned by Write when the process was started with Spec.Stdin false.
	ErrNoStdin = errors.New("the process was started without a stdin pipe (Spec.Stdin is false): the message must go in its arguments")
	// ErrStdinClosed is returned by Write after CloseStdin, or after the process exited.
	ErrStdinClosed = errors.New("the process's stdin is closed: start a new process to send more input")
	// ErrNotReading is returned by Write when the process stops accepting input before the
	// context ends (its stdin pipe is full).
	ErrNotReading = errors.New("the process is not reading its stdin")
	// ErrNotStopped is returned by Stop when the process is still running when the context ends,
	// even after SIGKILL (a process stuck in the kernel, or a fake told never to stop).
	ErrNotStopped = errors.New("the process did not stop")
	// ErrClosed is returned by Output's writers and by Wait once the Output is closed.
	ErrClosed = errors.New("the output is closed")
	// ErrLogExists is returned by NewOutput when the log file already exists.
	ErrLogExists = errors.New("the output log already exists: reopen it with ReopenOutput, or move it aside")
	// ErrLogDamaged is returned by ReopenOutput when the log file is damaged before its end.
	ErrLogDamaged = errors.New("the output log is damaged: move it aside to start a fresh one (its readable part can be inspected by hand)")
)
