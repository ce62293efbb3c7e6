package tokens

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Store creates, revokes and lists the tokens of a data dir; it is what `troupe token` uses.
// Every call reads the file afresh, so several Stores and processes may share a data dir.
type Store struct {
	dir string
	now func() time.Time
}

// Open returns the store of dataDir. Nothing is read or created until a call needs it.
func Open(dataDir string) *Store {
	return &Store{dir: dataDir, now: time.Now}
}

// Path is the token file's path.
func (s *Store) Path() string { return filepath.Join(s.dir, FileName) }

// Create makes a token named name with scope and returns it; this is the only time the token is
// seen, since only its hash is kept. A name in use by a token that is not revoked is refused;
// a revoked one is replaced.
func (s *Store) Create(name string, scope Scope) (string, Record, error) {
	if err := ValidateName(name); err != nil {
		return "", Record{}, err
	}
	if _, err := ParseScope(string(scope)); err != nil {
		return "", Record{}, err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return "", Record{}, fmt.Errorf("data dir %s: %w", s.dir, err)
	}
	token := newToken()
	rec := Record{Name: name, Scope: scope, CreatedAt: s.now().UTC().Truncate(time.Second)}
	err := s.update(func(entries []entry) ([]entry, error) {
		i := slices.IndexFunc(entries, func(e entry) bool { return e.Name == name })
		if i < 0 {
			return append(entries, entry{Record: rec, Hash: hashToken(token)}), nil
		}
		if !entries[i].Revoked() {
			return nil, fmt.Errorf("%w: a token named %q exists; revoke it first (troupe token revoke %s) or pick another name",
				ErrNameTaken, name, name)
		}
		entries[i] = entry{Record: rec, Hash: hashToken(token)}
		return entries, nil
	})
	if err != nil {
		return "", Record{}, err
	}
	return token, rec, nil
}

// Revoke marks the token named name revoked; it stays listed, so the principal names in the
// audit log keep their meaning. Revoking a revoked token changes nothing.
func (s *Store) Revoke(name string) error {
	notFound := fmt.Errorf("%w: %q; see the names with troupe token list", ErrNoSuchName, name)
	if _, err := os.Stat(s.dir); errors.Is(err, fs.ErrNotExist) {
		return notFound
	}
	return s.update(func(entries []entry) ([]entry, error) {
		i := slices.IndexFunc(entries, func(e entry) bool { return e.Name == name })
		if i < 0 {
			return nil, notFound
		}
		if entries[i].Revoked() {
			return nil, errUnchanged
		}
		at := s.now().UTC().Truncate(time.Second)
		entries[i].RevokedAt = &at
		return entries, nil
	})
}

// List returns every token's record, revoked ones included, sorted by name.
func (s *Store) List() ([]Record, error) {
	entries, err := readFile(s.Path())
	if err != nil {
		return nil, err
	}
	recs := make([]Record, len(entries))
	for i, e := range entries {
		recs[i] = e.Record
	}
	slices.SortFunc(recs, func(a, b Record) int { return strings.Compare(a.Name, b.Name) })
	return recs, nil
}

// Authenticate returns the principal of a bearer token: ErrUnknown when no token matches,
// ErrRevoked (with the record) when it was revoked. The daemon uses a Verifier instead, which
// does not read the file on every request.
func (s *Store) Authenticate(token string) (Record, error) {
	entries, err := readFile(s.Path())
	if err != nil {
		return Record{}, err
	}
	return authenticate(entries, token)
}

// errUnchanged tells update that there is nothing to write.
var errUnchanged = errors.New("unchanged")

// update runs change on the file's entries under the lock and writes what it returns. A file
// that cannot be parsed is an error and is left as it is.
func (s *Store) update(change func([]entry) ([]entry, error)) error {
	lock, err := lockFile(filepath.Join(s.dir, lockName))
	if err != nil {
		return err
	}
	defer lock.Close() // releases the flock
	entries, err := readFile(s.Path())
	if err != nil {
		return err
	}
	entries, err = change(entries)
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.Name, b.Name) })
	return writeFile(s.Path(), entries)
}
