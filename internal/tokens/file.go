package tokens

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// File names in the data dir.
const (
	FileName = "tokens.json"
	lockName = "tokens.lock"
)

// formatVersion is the "version" of the file this code writes and reads.
const formatVersion = 1

// fileData is tokens.json.
type fileData struct {
	Version int     `json:"version"`
	Tokens  []entry `json:"tokens"`
}

// entry is a record as stored: the record and its token's hash.
type entry struct {
	Record
	Hash string `json:"hash"` // hex SHA-256 of the token (see hashToken)
}

var hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// parse decodes and checks the file's contents; path only names the file in errors.
func parse(path string, b []byte) ([]entry, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %s: %s; fix or move the file away (every token in it is then lost)",
			ErrMalformed, path, fmt.Sprintf(format, a...))
	}
	var f fileData
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, bad("%v", err)
	}
	if dec.More() {
		return nil, bad("data after the JSON object")
	}
	if f.Version != formatVersion {
		return nil, bad("version %d, this troupe reads version %d", f.Version, formatVersion)
	}
	seen := make(map[string]bool, len(f.Tokens))
	for i, e := range f.Tokens {
		if err := ValidateName(e.Name); err != nil {
			return nil, bad("token %d: %v", i, err)
		}
		if _, err := ParseScope(string(e.Scope)); err != nil {
			return nil, bad("token %q: %v", e.Name, err)
		}
		if !hashRE.MatchString(e.Hash) {
			return nil, bad("token %q: the hash is not 64 hex digits", e.Name)
		}
		if seen[e.Name] {
			return nil, bad("token %q appears twice", e.Name)
		}
		seen[e.Name] = true
	}
	return f.Tokens, nil
}

// readFile reads and parses path; a missing file holds no tokens.
func readFile(path string) ([]entry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return parse(path, b)
}

// writeFile replaces path with entries atomically: a temporary file in the same directory,
// synced, renamed over path, then the directory synced, so a crash leaves the old file or the
// new one, never a mix. The caller holds the lock.
func writeFile(path string, entries []entry) (err error) {
	if entries == nil {
		entries = []entry{}
	}
	b, err := json.MarshalIndent(fileData{Version: formatVersion, Tokens: entries}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tokens-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("writing the token file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
