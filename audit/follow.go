package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// DefaultPoll is how often Follow looks for new lines.
const DefaultPoll = 200 * time.Millisecond

// Follow calls fn for every event with seq > after, oldest first, including those appended
// later, until ctx is done (it then returns nil) or fn returns an error. It polls the files
// every poll (DefaultPoll when 0). Unreadable lines are skipped; Verify reports them.
func Follow(ctx context.Context, auditDir string, after uint64, poll time.Duration, fn func(Event) error) error {
	if poll <= 0 {
		poll = DefaultPoll
	}
	fw := follower{dir: auditDir, after: after, fn: fn}
	defer fw.close()
	for {
		progressed, err := fw.step()
		if err != nil {
			return err
		}
		if progressed {
			continue
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// follower reads one segment at a time from where it left off.
type follower struct {
	dir     string
	after   uint64
	fn      func(Event) error
	n       int // current segment; 0 before the first
	f       *os.File
	off     int64
	partial []byte
	buf     [64 << 10]byte
}

// step reads what is new and reports whether it made progress.
func (fw *follower) step() (bool, error) {
	if fw.f == nil {
		return fw.openFirst()
	}
	if st, err := fw.f.Stat(); err == nil && st.Size() < fw.off {
		// The writer cut a torn tail at its start-up: drop the partial line.
		fw.off, fw.partial = st.Size(), fw.partial[:0]
	}
	n, err := fw.f.ReadAt(fw.buf[:], fw.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("audit: reading %s: %w", SegmentName(fw.n), err)
	}
	if n > 0 {
		fw.off += int64(n)
		return true, fw.consume(fw.buf[:n])
	}
	if _, err := os.Stat(filepath.Join(fw.dir, SegmentName(fw.n+1))); err != nil {
		return false, nil
	}
	// The next segment exists, so this one is complete: a partial line left is torn.
	fw.f.Close()
	fw.f, fw.partial = nil, fw.partial[:0]
	return true, fw.open(fw.n + 1)
}

// openFirst opens the segment that holds seq after+1, when there is one.
func (fw *follower) openFirst() (bool, error) {
	segs, err := listSegments(fw.dir)
	if err != nil || len(segs) == 0 {
		return false, err
	}
	start := segs[0]
	for i := len(segs) - 1; i > 0; i-- {
		if first, ok := firstSeq(fw.dir, segs[i]); ok && first <= fw.after+1 {
			start = segs[i]
			break
		}
	}
	return true, fw.open(start)
}

func (fw *follower) open(n int) error {
	f, err := os.Open(filepath.Join(fw.dir, SegmentName(n)))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	fw.f, fw.n, fw.off = f, n, 0
	return nil
}

// consume handles newly read bytes: every complete line is parsed and passed on.
func (fw *follower) consume(p []byte) error {
	fw.partial = append(fw.partial, p...)
	rest := fw.partial
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		line := rest[:i]
		rest = rest[i+1:]
		e, err := parseEvent(line)
		if err != nil || e.Seq <= fw.after {
			continue
		}
		fw.after = e.Seq
		if err := fw.fn(e); err != nil {
			return err
		}
	}
	fw.partial = append(fw.partial[:0], rest...)
	return nil
}

func (fw *follower) close() {
	if fw.f != nil {
		fw.f.Close()
	}
}

// firstSeq returns the seq of the first line of segment n.
func firstSeq(dir string, n int) (uint64, bool) {
	f, err := os.Open(filepath.Join(dir, SegmentName(n)))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var seq uint64
	ok := false
	_ = forEachLine(f, func(line []byte, complete bool) error {
		if e, err := parseEvent(line); err == nil && complete {
			seq, ok = e.Seq, true
		}
		return errStop
	})
	return seq, ok
}
