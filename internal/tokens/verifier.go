package tokens

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// CheckInterval is how often, at most, a Verifier looks at the token file: a token created or
// revoked is seen by the next request after that, well within DESIGN §12's second.
const CheckInterval = 200 * time.Millisecond

// Verifier authenticates bearer tokens for a running daemon from a cached copy of the token
// file, re-read when the file changed (its inode, size, mtime or ctime; every write is a rename,
// so a new inode). When the file cannot be read or parsed it keeps serving the last good copy and
// reports the problem to its error callback, once per distinct problem. Safe for concurrent use.
type Verifier struct {
	path    string
	onError func(error)
	now     func() time.Time

	mu      sync.Mutex
	checked time.Time // when the file was last looked at
	key     fileKey   // the file the cache holds
	entries []entry   // the last good contents
	lastErr string    // the problem reported last, so it is not reported at every check
}

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier)

// WithErrorLog sets the callback told when the token file cannot be read or parsed (and the
// previous contents stay in use).
func WithErrorLog(f func(error)) VerifierOption { return func(v *Verifier) { v.onError = f } }

// withClock replaces time.Now, for tests.
func withClock(now func() time.Time) VerifierOption { return func(v *Verifier) { v.now = now } }

// NewVerifier returns a Verifier of dataDir's token file. The file is first read by the first
// Authenticate.
func NewVerifier(dataDir string, opts ...VerifierOption) *Verifier {
	v := &Verifier{path: filepath.Join(dataDir, FileName), onError: func(error) {}, now: time.Now}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Authenticate returns the principal of a bearer token: ErrUnknown when no token matches,
// ErrRevoked (with the record) when it was revoked.
func (v *Verifier) Authenticate(token string) (Record, error) {
	v.mu.Lock()
	now := v.now()
	fresh := v.checked.IsZero() || now.Sub(v.checked) >= CheckInterval
	if fresh {
		v.checked = now
		v.refresh()
	}
	entries := v.entries // never modified in place: refresh swaps the slice
	v.mu.Unlock()
	rec, err := authenticate(entries, token)
	if errors.Is(err, ErrUnknown) && !fresh {
		// A token created since the last look works at once: look again (an fstat unless the
		// file changed; bad tokens are rate-limited before they get here).
		v.mu.Lock()
		v.checked = v.now()
		v.refresh()
		entries = v.entries
		v.mu.Unlock()
		rec, err = authenticate(entries, token)
	}
	return rec, err
}

// fileKey tells one version of the file from another without reading it.
type fileKey struct {
	exists       bool
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // nanoseconds
}

// refresh re-reads the file when it changed. The caller holds v.mu.
func (v *Verifier) refresh() {
	f, err := os.Open(v.path)
	if errors.Is(err, fs.ErrNotExist) {
		// No file is a legitimate state (no token was ever created): no tokens.
		v.key, v.entries, v.lastErr = fileKey{}, nil, ""
		return
	}
	if err != nil {
		v.report(fmt.Errorf("token file %s: %w; still using the tokens read before", v.path, err))
		return
	}
	defer f.Close()
	// Stat the open file, not the path, so the key describes exactly what is read.
	fi, err := f.Stat()
	if err != nil {
		v.report(fmt.Errorf("token file %s: %w; still using the tokens read before", v.path, err))
		return
	}
	key := keyOf(fi)
	if key == v.key {
		return
	}
	b, err := io.ReadAll(f)
	if err == nil {
		var entries []entry
		if entries, err = parse(v.path, b); err == nil {
			v.key, v.entries, v.lastErr = key, entries, ""
			return
		}
	}
	// Remember the key of the bad file, so it is not read again until it changes.
	v.key = key
	v.report(fmt.Errorf("%w; still using the tokens read before", err))
}

// report passes err to the error callback unless it was the problem reported last.
func (v *Verifier) report(err error) {
	if err.Error() == v.lastErr {
		return
	}
	v.lastErr = err.Error()
	v.onError(err)
}
