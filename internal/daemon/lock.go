package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrAlreadyRunning is returned by Serve when another daemon holds the data dir's lock.
var ErrAlreadyRunning = errors.New("a troupe daemon is already running for this data dir")

// Lock is the data dir's daemon lock, held for the daemon's life.
type Lock struct{ f *os.File }

// Release drops the lock (nil-safe).
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}

// Acquire takes the exclusive, non-blocking flock on <data>/daemon.lock and writes our pid into
// it; ErrAlreadyRunning (naming the holder's pid) when another daemon holds it. The file is never
// removed: removing a lock file others may have open races. Take it before opening the store, and
// release it after closing it, so a next daemon never finds the store in use.
func Acquire(dataDir string) (*Lock, error) {
	path := filepath.Join(dataDir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("daemon lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := "unknown"
			if b, rerr := os.ReadFile(path); rerr == nil && strings.TrimSpace(string(b)) != "" {
				pid = strings.TrimSpace(string(b))
			}
			return nil, fmt.Errorf("%w (pid %s, lock %s); stop it with `troupe daemon stop` or use another --data-dir", ErrAlreadyRunning, pid, path)
		}
		return nil, fmt.Errorf("daemon lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// LockHeld reports whether a daemon holds the data dir's lock now (the probe takes and drops a
// shared lock without waiting).
func LockHeld(dataDir string) bool {
	f, err := os.Open(filepath.Join(dataDir, LockName))
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	return errors.Is(err, syscall.EWOULDBLOCK)
}

// AcquireWait is Acquire, retried for up to wait while the holder does not answer on the socket:
// a daemon that stopped serving still holds the lock while it closes its store and audit log,
// and a daemon started in that window (a bridge's next call) should follow it, not fail. A
// holder that answers is refused at once.
func AcquireWait(ctx context.Context, dataDir string, wait time.Duration) (*Lock, error) {
	deadline := time.Now().Add(wait)
	for {
		l, err := Acquire(dataDir)
		if err == nil || !errors.Is(err, ErrAlreadyRunning) || time.Now().After(deadline) {
			return l, err
		}
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		_, serr := GetStatus(sctx, HTTPClient(dataDir))
		cancel()
		if serr == nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}
