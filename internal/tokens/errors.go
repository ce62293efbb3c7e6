package tokens

import "errors"

// Sentinel errors; the errors returned wrap them with what the user can do.
var (
	// ErrUnknown: no token matches (Authenticate).
	ErrUnknown = errors.New("unknown token")
	// ErrRevoked: the token matched a record that was revoked (Authenticate).
	ErrRevoked = errors.New("token revoked")
	// ErrInvalidName: a token name breaks the naming rule.
	ErrInvalidName = errors.New("invalid token name")
	// ErrInvalidScope: a scope that is not read, write, audit or admin.
	ErrInvalidScope = errors.New("invalid scope")
	// ErrNameTaken: Create with the name of a token that is not revoked.
	ErrNameTaken = errors.New("token name in use")
	// ErrNoSuchName: Revoke of a name that was never created.
	ErrNoSuchName = errors.New("no token with that name")
	// ErrMalformed: tokens.json cannot be parsed; it is never overwritten then.
	ErrMalformed = errors.New("malformed token file")
)
