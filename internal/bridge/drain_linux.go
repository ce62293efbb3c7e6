//go:build linux

package bridge

import (
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// unread (FIONREAD, named TIOCINQ in x/sys) returns how many bytes written to w (a pipe to the client) the client has not read
// yet, and whether that can be known (Linux answers FIONREAD on either end of a pipe).
func unread(w io.Writer) (int, bool) {
	f, ok := w.(*os.File)
	if !ok {
		return 0, false
	}
	// Not f.Fd(): it would put the file in blocking mode for good.
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	n, ierr := 0, error(nil)
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }); err != nil || ierr != nil {
		return 0, false
	}
	return n, true
}

// waitRead waits, at most timeout, until the client has read everything written to it so far.
func (lw *lineWriter) waitRead(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		n, ok := unread(lw.w)
		if !ok || n == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
