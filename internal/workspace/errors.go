package workspace

import "errors"

// Errors that callers can test with errors.Is. Their messages are completed with the path and
// with what to do where they are returned.
var (
	// ErrNotGitRepo reports a directory that is not inside a git working tree.
	ErrNotGitRepo = errors.New("not inside a git working tree")
	// ErrNotOwned reports a path that troupe did not create and therefore will not remove.
	ErrNotOwned = errors.New("not a workspace troupe created")
	// ErrInvalidWorkspace reports a user-supplied workspace that cannot be used.
	ErrInvalidWorkspace = errors.New("invalid workspace")
	// ErrInvalidID reports a session or snapshot id that cannot name a directory or a git ref.
	ErrInvalidID = errors.New("invalid id")
	// ErrGitMissing reports that git is not installed (or not on PATH).
	ErrGitMissing = errors.New("git is not installed or not on PATH: install git to preserve work in repositories")
	// ErrRestoreConflict reports preserved work that cannot be restored without losing something.
	ErrRestoreConflict = errors.New("cannot restore preserved work safely")
)

// ErrHoldsRepository reports a troupe-created workspace that is itself a git repository: its
// .git holds the preserved refs, so removing it would lose them.
var ErrHoldsRepository = errors.New("workspace holds a git repository")
