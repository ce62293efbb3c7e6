package process

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// PID implements Process.
func (p *realProcess) PID() int { return p.pid }

// Record implements Process.
func (p *realProcess) Record() Record { return p.record }

// Done implements Process.
func (p *realProcess) Done() <-chan struct{} { return p.done }

// Exit implements Process.
func (p *realProcess) Exit() ExitStatus {
	select {
	case <-p.done:
		return p.status
	default:
		return ExitStatus{}
	}
}

// Write implements Process.
func (p *realProcess) Write(ctx context.Context, b []byte) error {
	if p.stdin == nil {
		return ErrNoStdin
	}
	select {
	case p.writeSem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("write to stdin of process %d: another write is still blocked: %w (%w)", p.pid, ErrNotReading, ctx.Err())
	}
	defer func() { <-p.writeSem }()

	// The pipe is non-blocking underneath, so a deadline in the past wakes a blocked Write.
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		p.stdin.SetWriteDeadline(time.Unix(1, 0))
		close(fired)
	})
	n, err := p.stdin.Write(b)
	if !stop() {
		<-fired
		p.stdin.SetWriteDeadline(time.Time{})
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("write to stdin of process %d: %d of %d bytes written when %v: %w", p.pid, n, len(b), ctx.Err(), ErrNotReading)
	case errors.Is(err, os.ErrClosed):
		return fmt.Errorf("write to stdin of process %d: %w", p.pid, ErrStdinClosed)
	case errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("write to stdin of process %d: it closed its stdin or exited: %w", p.pid, ErrStdinClosed)
	}
	return fmt.Errorf("write to stdin of process %d: %d of %d bytes written: %w", p.pid, n, len(b), err)
}

// CloseStdin implements Process.
func (p *realProcess) CloseStdin() error {
	if p.stdin == nil {
		return ErrNoStdin
	}
	p.closeStdin.Do(func() {
		if err := p.stdin.Close(); err != nil {
			p.stdinErr = fmt.Errorf("close stdin of process %d: %w", p.pid, err)
		}
	})
	return p.stdinErr
}

// Stop implements Process.
func (p *realProcess) Stop(ctx context.Context, grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if p.spec.Terminal != nil {
		// As when a terminal window closes: an interactive shell ignores SIGTERM, not SIGHUP.
		if err := p.signal(syscall.SIGHUP); err != nil {
			return err
		}
	}
	if err := p.signal(syscall.SIGTERM); err != nil {
		return err
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	p.killOnce.Do(func() { close(p.killNow) })
	if err := p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop process group %d: still running after SIGKILL when %v: %w", p.pid, ctx.Err(), ErrNotStopped)
	}
}

// exitStatus turns what cmd.Wait reported into an ExitStatus.
func exitStatus(ps *os.ProcessState, err error) ExitStatus {
	if ps == nil {
		s := ExitStatus{Code: -1}
		if err != nil {
			s.Err = "wait for the process: " + err.Error()
		}
		return s
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ExitStatus{Code: -1, Signal: signalName(ws.Signal())}
	}
	return ExitStatus{Code: ps.ExitCode()}
}

// startError explains why a process could not start.
func startError(spec Spec, err error) error {
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return fmt.Errorf("start %q: not found in PATH: install it or fix the preset's command: %w", spec.Command, err)
	case errors.Is(err, os.ErrNotExist) && spec.Dir != "":
		return fmt.Errorf("start %q in %q: the program or the working directory does not exist: %w", spec.Command, spec.Dir, err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("start %q: permission denied (is it executable, is the workspace readable?): %w", spec.Command, err)
	}
	return fmt.Errorf("start %q: %w", spec.Command, err)
}

// newToken returns 16 random bytes in hex.
func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a process token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// closeFiles closes every file of fs.
func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// joinErr appends msg to an ExitStatus.Err text.
func joinErr(old, msg string) string {
	if old == "" {
		return msg
	}
	return old + "; " + msg
}
