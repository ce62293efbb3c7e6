package daemon

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// LogMaxBytes is the size at which the daemon's log is rotated (one old file, <log>.1, is kept).
const LogMaxBytes = 10 << 20

// LogFile is the daemon's size-bounded log: past max bytes, the file becomes <path>.1 (replacing
// the previous one) and a new one starts. lumberjack is unsuitable (DESIGN §10), and this is all
// the daemon needs. After each (re)open the file is also put on fd 2, so a Go panic, which the
// runtime writes to fd 2, lands in the log.
type LogFile struct {
	path  string
	max   int64
	toFD2 bool
	mu    sync.Mutex
	f     *os.File
	size  int64
}

// OpenLog opens (appending) the log at path, rotated past max bytes; toFD2 also puts it on fd 2.
func OpenLog(path string, max int64, toFD2 bool) (*LogFile, error) {
	l := &LogFile{path: path, max: max, toFD2: toFD2}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *LogFile) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("daemon log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("daemon log: %w", err)
	}
	if l.toFD2 {
		if err := unix.Dup3(int(f.Fd()), 2, 0); err != nil {
			_ = f.Close()
			return fmt.Errorf("daemon log on stderr: %w", err)
		}
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its bound.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.size > 0 && l.size+int64(len(p)) > l.max {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

func (l *LogFile) rotate() error {
	_ = l.f.Close()
	if err := os.Rename(l.path, l.path+".1"); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("daemon log rotate: %w", err)
	}
	return l.open()
}

// Close closes the file (fd 2, when it was put there, stays open on it).
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
