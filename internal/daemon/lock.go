package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
