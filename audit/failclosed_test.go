package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// failingFile is a segment file that fails on demand: a write writes half its bytes and fails,
// or an fsync fails (after waiting for release, when set).
type failingFile struct {
	*os.File
	failWrite, failSync *atomic.Bool
	release             chan struct{} // nil: fail at once
}

func (f *failingFile) Write(p []byte) (int, error) {
	if f.failWrite.Load() {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, syscall.ENOSPC
	}
	return f.File.Write(p)
}

func (f *failingFile) Sync() error {
	if f.failSync.Load() {
		if f.release != nil {
			<-f.release
		}
		return syscall.EIO
	}
	return f.File.Sync()
}

type sink struct {
	failWrite, failSync atomic.Bool
	release             chan struct{}
}

func (s *sink) wrap(f *os.File) File {
	return &failingFile{File: f, failWrite: &s.failWrite, failSync: &s.failSync, release: s.release}
}

// mutatingTool is how the tools layer uses the log: no "requested" record, no change.
func mutatingTool(l *Log, changed *bool) error {
	if _, err := l.Append(context.Background(), Event{Action: "session.delete", Stage: StageRequested, Session: "s1"}); err != nil {
		return err
	}
	*changed = true
	return nil
}

func TestFailedFsyncFailsClosed(t *testing.T) {
	var s sink
	l, data := openLog(t, Options{WrapFile: s.wrap})
	changed := false
	if err := mutatingTool(l, &changed); err != nil || !changed {
		t.Fatalf("healthy log: err %v, changed %v", err, changed)
	}
	s.failSync.Store(true)
	changed = false
	if err := mutatingTool(l, &changed); !errors.Is(err, ErrUnavailable) || changed {
		t.Fatalf("failing fsync: err %v, changed %v; want ErrUnavailable and no change", err, changed)
	}
	s.failSync.Store(false)
	if err := mutatingTool(l, &changed); !errors.Is(err, ErrUnavailable) || changed {
		t.Fatalf("after a failure: err %v, changed %v; want the log to keep refusing", err, changed)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A restart with a healthy disk continues the chain.
	l2, err := Open(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l2, 1)
	l2.Close()
	if r := mustVerify(t, data); !r.OK {
		t.Fatalf("after restart: %v", r)
	}
}

func TestFailedWriteLeavesATornTailThatRecovers(t *testing.T) {
	var s sink
	l, data := openLog(t, Options{WrapFile: s.wrap})
	appendN(t, l, 2)
	s.failWrite.Store(true)
	if _, err := l.Append(context.Background(), Event{Action: "session.create"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("failing write: err %v, want ErrUnavailable", err)
	}
	l.Close()
	if r := mustVerify(t, data); r.OK || r.Segment != SegmentName(1) || r.Line != 4 {
		t.Fatalf("before restart: %v; want a torn line 4", r)
	}
	l2, err := Open(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l2.Close()
	if r := mustVerify(t, data); !r.OK || len(r.TornFiles) != 1 {
		t.Fatalf("after restart: %v; want intact with one torn file moved aside", r)
	}
}

func TestEveryWaiterOfAFailedBatchGetsTheError(t *testing.T) {
	s := sink{release: make(chan struct{})}
	l, _ := openLog(t, Options{WrapFile: s.wrap})
	s.failSync.Store(true)
	const n = 6
	errs := make(chan error, n)
	var wg sync.WaitGroup
	start := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.Append(context.Background(), Event{Action: "session.create"})
			errs <- err
		}()
	}
	start() // becomes the flusher and blocks in Sync
	waitFor(t, "a flush in progress", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.flushing })
	for i := 1; i < n; i++ {
		start()
	}
	waitFor(t, "five queued events", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return len(l.ends) == n-1 })
	close(s.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("waiter: err %v, want ErrUnavailable", err)
		}
	}
}

func TestUnwritableDirectoryIsAClearError(t *testing.T) {
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, DirName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if l, err := Open(data, Options{}); err == nil || !containsAll(err.Error(), "audit", DirName) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("Open with a file in the way: err = %v", err)
	}
}
