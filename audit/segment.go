package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultSegmentSize is the size past which the writer starts a new segment.
const DefaultSegmentSize int64 = 64 << 20

// File is what the writer needs of a segment file. Options.WrapFile may wrap the *os.File the
// writer opens, to inject failures in tests.
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// SegmentName returns the file name of segment n (1-based): audit-000001.jsonl, ….
func SegmentName(n int) string { return fmt.Sprintf("audit-%06d.jsonl", n) }

// parseSegmentName returns n for a name SegmentName(n) would produce.
func parseSegmentName(name string) (int, bool) {
	mid, ok := strings.CutPrefix(name, "audit-")
	if !ok {
		return 0, false
	}
	mid, ok = strings.CutSuffix(mid, ".jsonl")
	if !ok || len(mid) < 6 {
		return 0, false
	}
	for _, c := range mid {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(mid)
	if err != nil || n < 1 || SegmentName(n) != name {
		return 0, false
	}
	return n, true
}

// listSegments returns the segment numbers in dir, ascending.
func listSegments(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: has troupe run with this data directory? (see --data-dir)", ErrNoLog, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: reading %s: %w", dir, err)
	}
	var segs []int
	for _, e := range entries {
		if n, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			segs = append(segs, n)
		}
	}
	sort.Ints(segs)
	return segs, nil
}

// syncDir fsyncs a directory so that files created or renamed in it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	return errors.Join(serr, d.Close())
}

// segmentWriter appends batches of lines to the current segment, rotating by size. It is used
// only by the goroutine holding the flushing role.
type segmentWriter struct {
	dir   string
	max   int64
	n     int // current segment number
	f     File
	size  int64
	wrap  func(*os.File) File
	onNew func(n int) // called after a rotation, for logging
	// onSync, when set, is told how long each fsync of a segment took (Log.SetFsyncHook).
	onSync func(time.Duration)
}

// open opens segment n for appending (creating it when create is set).
func (s *segmentWriter) open(n int, create bool) error {
	flags := os.O_WRONLY | os.O_APPEND
	if create {
		flags |= os.O_CREATE | os.O_EXCL
	}
	path := filepath.Join(s.dir, SegmentName(n))
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return fmt.Errorf("audit: opening segment %s: %w", path, err)
	}
	var size int64
	st, err := f.Stat()
	if err == nil {
		size = st.Size()
		if st.Mode().Perm() != 0o600 {
			err = f.Chmod(0o600)
		}
	}
	if err == nil && create {
		err = syncDir(s.dir)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("audit: preparing segment %s: %w", path, err)
	}
	s.n, s.size = n, size
	s.f = File(f)
	if s.wrap != nil {
		s.f = s.wrap(f)
	}
	return nil
}

// writeBatch writes buf, whose lines end at the offsets in ends, and fsyncs. A line never
// straddles two segments; a segment grows past max only by a single line larger than max.
func (s *segmentWriter) writeBatch(buf []byte, ends []int) error {
	chunk, prevEnd := 0, 0
	for _, end := range ends {
		pending := int64(prevEnd - chunk)
		if s.size+pending > 0 && s.size+pending+int64(end-prevEnd) > s.max {
			if err := s.writeSync(buf[chunk:prevEnd]); err != nil {
				return err
			}
			if err := s.rotate(); err != nil {
				return err
			}
			chunk = prevEnd
		}
		prevEnd = end
	}
	return s.writeSync(buf[chunk:prevEnd])
}

func (s *segmentWriter) writeSync(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	n, err := s.f.Write(p)
	s.size += int64(n)
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", SegmentName(s.n), err)
	}
	start := time.Now()
	err = s.f.Sync()
	if s.onSync != nil {
		s.onSync(time.Since(start))
	}
	if err != nil {
		return fmt.Errorf("fsync of %s: %w", SegmentName(s.n), err)
	}
	return nil
}

// rotate closes the current segment (already fsynced) and creates the next.
func (s *segmentWriter) rotate() error {
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", SegmentName(s.n), err)
	}
	s.f = nil
	if err := s.open(s.n+1, true); err != nil {
		return err
	}
	if s.onNew != nil {
		s.onNew(s.n)
	}
	return nil
}

func (s *segmentWriter) close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// forEachLine calls fn for every line of r, without its "\n". The last line is passed with
// complete false when r does not end with "\n". line is valid only during the call.
func forEachLine(r io.Reader, fn func(line []byte, complete bool) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var long []byte // a line longer than the reader's buffer, assembled
	inLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long, inLong = append(long, chunk...), true
			continue
		}
		line := chunk
		if inLong {
			long = append(long, chunk...)
			line = long
		}
		switch {
		case err == nil:
			if ferr := fn(line[:len(line)-1], true); ferr != nil {
				return ferr
			}
		case err == io.EOF:
			if len(line) > 0 {
				return fn(line, false)
			}
			return nil
		default:
			return err
		}
		long, inLong = long[:0], false
	}
}
