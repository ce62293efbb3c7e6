package process

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// FakeProcess is a Process of Fake, with controls for tests.
type FakeProcess struct {
	spec     Spec
	behavior FakeBehavior
	record   Record
	done     chan struct{}

	mu          sync.Mutex
	stop        StopMode
	status      ExitStatus
	input       []byte
	stdinClosed bool
	stopCalls   int
	size        TermSize // of a terminal process
	waiting     bool     // what InputWaiting answers
}

// Size is the terminal size of a terminal process (Spec.Terminal, then Resize).
func (p *FakeProcess) Size() TermSize {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size
}

// SetInputWaiting sets what InputWaiting answers from now on (true at the start).
func (p *FakeProcess) SetInputWaiting(waiting bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting = waiting
}

// InputWaiting implements Process: as set with SetInputWaiting, false once it ended.
func (p *FakeProcess) InputWaiting() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return false, nil
	default:
	}
	return p.waiting, nil
}

// Resize implements Process.
func (p *FakeProcess) Resize(rows, cols int) error {
	if p.spec.Terminal == nil {
		return ErrNoTerminal
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.size = TermSize{Rows: rows, Cols: cols}
	return nil
}

// Spec is the Spec the process was started with.
func (p *FakeProcess) Spec() Spec { return p.spec }

// Input returns everything written to its stdin so far.
func (p *FakeProcess) Input() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.input...)
}

// StdinClosed reports whether CloseStdin was called.
func (p *FakeProcess) StdinClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdinClosed
}

// StopCalls counts the calls of Stop.
func (p *FakeProcess) StopCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopCalls
}

// SetStop changes how the process reacts to Stop from now on (to inject a failure to stop).
func (p *FakeProcess) SetStop(m StopMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stop = m
}

// Emit writes data to the process's "stdout" or "stderr" as the process would; it is discarded
// when the Spec has no writer for it.
func (p *FakeProcess) Emit(stream, data string) error {
	w := p.spec.Stdout
	if stream == "stderr" {
		w = p.spec.Stderr
	}
	if w == nil {
		return nil
	}
	_, err := io.WriteString(w, data)
	return err
}

// Finish makes the process exit on its own with code.
func (p *FakeProcess) Finish(code int) { p.end(ExitStatus{Code: code}) }

// Die makes the process die of a signal ("SIGSEGV", …).
func (p *FakeProcess) Die(signal string) { p.end(ExitStatus{Code: -1, Signal: signal}) }

// end ends the process with status unless it has ended already; it reports whether it did.
func (p *FakeProcess) end(status ExitStatus) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return false
	default:
	}
	p.status = status
	close(p.done)
	return true
}

// PID implements Process.
func (p *FakeProcess) PID() int { return p.record.PID }

// Record implements Process.
func (p *FakeProcess) Record() Record { return p.record }

// Done implements Process.
func (p *FakeProcess) Done() <-chan struct{} { return p.done }

// Exit implements Process.
func (p *FakeProcess) Exit() ExitStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Write implements Process: the bytes are kept (Input) and echoed to stdout unless Silent (on a
// terminal as a terminal echoes: a carriage return as "\r\n").
func (p *FakeProcess) Write(ctx context.Context, b []byte) error {
	if !p.spec.Stdin && p.spec.Terminal == nil {
		return ErrNoStdin
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write to stdin of fake process %d: %w (%w)", p.PID(), ErrNotReading, err)
	}
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		return fmt.Errorf("write to stdin of fake process %d: it exited: %w", p.PID(), ErrStdinClosed)
	default:
	}
	if p.stdinClosed {
		p.mu.Unlock()
		return fmt.Errorf("write to stdin of fake process %d: %w", p.PID(), ErrStdinClosed)
	}
	p.input = append(p.input, b...)
	p.mu.Unlock()
	if p.behavior.Silent {
		return nil
	}
	if p.spec.Terminal != nil {
		return p.Emit("stdout", strings.ReplaceAll(string(b), "\r", "\r\n"))
	}
	return p.Emit("stdout", string(b))
}

// CloseStdin implements Process: the process finishes with its ExitCode unless it lingers.
func (p *FakeProcess) CloseStdin() error {
	if !p.spec.Stdin && p.spec.Terminal == nil {
		return ErrNoStdin
	}
	p.mu.Lock()
	p.stdinClosed = true
	p.mu.Unlock()
	if !p.behavior.Linger {
		p.Finish(p.behavior.ExitCode)
	}
	return nil
}

// Stop implements Process according to the process's StopMode.
func (p *FakeProcess) Stop(ctx context.Context, grace time.Duration) error {
	p.mu.Lock()
	p.stopCalls++
	mode := p.stop
	p.mu.Unlock()
	select {
	case <-p.done:
		return nil
	default:
	}
	switch mode {
	case StopOnKill:
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.done:
			return nil
		case <-t.C:
		case <-ctx.Done():
		}
		p.end(ExitStatus{Code: -1, Signal: "SIGKILL"})
		return nil
	case StopNever:
		return fmt.Errorf("stop fake process %d: told never to stop: %w", p.PID(), ErrNotStopped)
	}
	p.end(ExitStatus{Code: -1, Signal: "SIGTERM"})
	return nil
}
