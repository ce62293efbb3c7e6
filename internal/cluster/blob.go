package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// blobs is the part of the shared blob dir that holds what records cannot carry inline:
// content-addressed files, <dir>/records/sha256/<first 2 hex>/<64 hex>. A file is complete
// before any record names it (written aside, then renamed) and never changes after, so a node
// fenced halfway through a write leaves at most a file nobody names, which Sweep removes.
type blobs struct{ dir string }

const blobScheme = "sha256:"

func (b blobs) root() string { return filepath.Join(b.dir, "records", "sha256") }

func (b blobs) path(sum string) string { return filepath.Join(b.root(), sum[:2], sum) }

// put stores data and returns its reference. When the file exists already its time is
// refreshed, so that a sweep running meanwhile spares it.
func (b blobs) put(data []byte) (string, error) {
	raw := sha256.Sum256(data)
	sum := hex.EncodeToString(raw[:])
	p := b.path(sum)
	now := time.Now()
	if err := os.Chtimes(p, now, now); err == nil {
		return blobScheme + sum, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("blob dir: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+sum[:8]+"-*")
	if err != nil {
		return "", fmt.Errorf("blob dir: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("blob dir: write %s: %w", p, err)
	}
	return blobScheme + sum, nil
}

// get reads the blob ref names, and checks that it is what was stored.
func (b blobs) get(ref string) ([]byte, error) {
	sum, ok := strings.CutPrefix(ref, blobScheme)
	if !ok || len(sum) != 2*sha256.Size {
		return nil, fmt.Errorf("blob reference %q: want sha256:<64 hex digits>", ref)
	}
	data, err := os.ReadFile(b.path(sum))
	if err != nil {
		return nil, fmt.Errorf("blob dir: %w (is the shared blob dir mounted on this node?)", err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("blob dir: %s is corrupt: its content does not hash to its name", b.path(sum))
	}
	return data, nil
}

// sweep removes the blobs that keep does not name and that were last written before cutoff
// (the cutoff spares a blob written for a record whose transaction is still on its way).
func (b blobs) sweep(keep map[string]bool, cutoff time.Time) (int, error) {
	n := 0
	err := filepath.WalkDir(b.root(), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := d.Name()
		if keep[blobScheme+name] || info.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}
