package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// HeadName is the head file in the audit directory: the last durable seq and hash, rewritten in
// place after every fsynced batch (without its own fsync: after a crash it may lag behind the
// log, never run ahead of it). Verify uses it to notice lines cut from the end of the log.
const HeadName = "audit.head"

// headFormat has a fixed length, so that rewriting in place never leaves stale bytes.
const headFormat = "troupe-audit-head v1 seq=%020d hash=%64s\n"

// headLen is the length of every head file.
var headLen = len(fmt.Sprintf(headFormat, 0, genesisHash))

// headState is what a head file records.
type headState struct {
	Seq  uint64
	Hash string
}

// readHead reads the head file in dir; exists is false when there is none.
func readHead(dir string) (h headState, exists bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, HeadName))
	if errors.Is(err, fs.ErrNotExist) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("audit: reading %s: %w", HeadName, err)
	}
	if len(b) != headLen {
		return h, true, fmt.Errorf("audit: %s is damaged (%d bytes, want %d)", HeadName, len(b), headLen)
	}
	if _, err := fmt.Sscanf(string(b), headFormat, &h.Seq, &h.Hash); err != nil || !isHex([]byte(h.Hash)) || len(h.Hash) != hashHexLen {
		return h, true, fmt.Errorf("audit: %s is damaged (%q)", HeadName, b)
	}
	return h, true, nil
}

// headFile is the writer's open head file.
type headFile struct {
	f   *os.File
	buf []byte
}

// openHeadFile opens (creating) the head file in dir for rewriting.
func openHeadFile(dir string) (*headFile, error) {
	path := filepath.Join(dir, HeadName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: opening %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: setting the mode of %s: %w", path, err)
	}
	return &headFile{f: f, buf: make([]byte, 0, headLen)}, nil
}

// write records seq and hash; with sync it also fsyncs the file.
func (h *headFile) write(s headState, sync bool) error {
	h.buf = fmt.Appendf(h.buf[:0], headFormat, s.Seq, s.Hash)
	if _, err := h.f.WriteAt(h.buf, 0); err != nil {
		return fmt.Errorf("audit: writing %s: %w", HeadName, err)
	}
	if sync { // at open and close: drop any longer, foreign content, then make it durable
		if err := h.f.Truncate(int64(len(h.buf))); err != nil {
			return fmt.Errorf("audit: writing %s: %w", HeadName, err)
		}
		if err := h.f.Sync(); err != nil {
			return fmt.Errorf("audit: fsync of %s: %w", HeadName, err)
		}
	}
	return nil
}

func (h *headFile) close() error { return h.f.Close() }
