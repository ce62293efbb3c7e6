//go:build unix

package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockName is the lock file in the audit directory.
const lockName = ".lock"

// lockDir takes an exclusive advisory lock on dir's lock file, so that only one process writes
// the log. The lock goes with the returned file.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: opening the lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s is locked): stop the other troupe server or give this one "+
				"another --data-dir", ErrLocked, path)
		}
		return nil, fmt.Errorf("audit: locking %s: %w", path, err)
	}
	return f, nil
}
