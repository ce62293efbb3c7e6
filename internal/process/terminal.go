package process

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// TermSize is the size of a process's terminal in cells.
type TermSize struct {
	Rows, Cols int
}

// ErrNoTerminal is returned by Resize for a process started without Spec.Terminal.
var ErrNoTerminal = errors.New("the process was started on pipes, not on a terminal: only terminal agents (mode \"terminal\") have a size")

// openTerminal creates the PTY of a terminal process: the child gets the slave as stdin, stdout
// and stderr (and as its controlling terminal, see sysProcAttr); the parent keeps the master for
// both directions.
//
// creack/pty hands the master out after calling Fd() on it, which puts it in blocking mode for
// good: no read deadline, so a drain could not be bounded (DESIGN §10's sharp edges). The master
// used is a non-blocking duplicate, which the runtime poller serves.
func (p *realProcess) openTerminal(cmd *exec.Cmd) ([]*os.File, error) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("open a terminal for %q: %w", p.spec.Command, err)
	}
	fd, err := unix.FcntlInt(ptmx.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	ptmx.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		tty.Close()
		return nil, fmt.Errorf("open a terminal for %q: %w", p.spec.Command, err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := setSize(master, *p.spec.Terminal); err != nil {
		tty.Close()
		master.Close()
		return nil, fmt.Errorf("size the terminal of %q: %w", p.spec.Command, err)
	}
	p.tty = tty.Name()
	p.stdin, p.outputs = master, []*os.File{master}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	return []*os.File{tty}, nil
}

// sysProcAttr is how a process starts: in a process group of its own — on a terminal, in a
// session of its own with the PTY as its controlling terminal (which makes it a group leader
// too, and gives ^C and job control to the programs on it).
func (p *realProcess) sysProcAttr() *syscall.SysProcAttr {
	if p.spec.Terminal != nil {
		return &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Pdeathsig: syscall.SIGKILL}
	}
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Resize implements Process: the PTY gets the new size, and the program SIGWINCH.
func (p *realProcess) Resize(rows, cols int) error {
	if p.spec.Terminal == nil {
		return ErrNoTerminal
	}
	if err := setSize(p.stdin, TermSize{Rows: rows, Cols: cols}); err != nil {
		return fmt.Errorf("resize the terminal of process %d: %w", p.pid, err)
	}
	return nil
}

// setSize sets the window size of the PTY whose master is f, without putting f in blocking mode.
func setSize(f *os.File, s TermSize) error {
	if s.Rows <= 0 || s.Cols <= 0 || s.Rows > 0xffff || s.Cols > 0xffff {
		return fmt.Errorf("a terminal of %d rows and %d columns is not possible", s.Rows, s.Cols)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	err = rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(s.Rows), Col: uint16(s.Cols)})
	})
	return errors.Join(err, ierr)
}

// InputWaiting implements Process.
func (p *realProcess) InputWaiting() (bool, error) {
	select {
	case <-p.done:
		return false, nil
	default:
	}
	return InputWaiting(p.pid)
}

// Echoing reports whether the terminal echoes what is typed: false at a password prompt
// (`read -s`, sudo, ssh), where typed text must not be recorded (the audit log keeps its HMAC).
func (p *realProcess) Echoing() (bool, error) {
	if p.spec.Terminal == nil {
		return false, ErrNoTerminal
	}
	rc, err := p.stdin.SyscallConn()
	if err != nil {
		return false, err
	}
	var t *unix.Termios
	var ierr error
	if err := rc.Control(func(fd uintptr) { t, ierr = unix.IoctlGetTermios(int(fd), unix.TCGETS) }); err != nil {
		return false, err
	}
	if ierr != nil {
		return false, fmt.Errorf("read the terminal settings of process %d: %w", p.pid, ierr)
	}
	return t.Lflag&unix.ECHO != 0, nil
}
