package process

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// fakePIDBase is above the largest PID Linux can give (2^22), so that a fake Record can never
// name a real process, even if it reaches the real KillStale by mistake.
const fakePIDBase = 1 << 23

// StopMode is how a fake process reacts to Stop.
type StopMode int

const (
	// StopOnTerm: it exits at SIGTERM, at once.
	StopOnTerm StopMode = iota
	// StopOnKill: it ignores SIGTERM and exits at SIGKILL, once the grace period (or ctx) is over.
	StopOnKill
	// StopNever: it never exits; Stop returns ErrNotStopped at once, as the real Stop would when
	// its ctx ran out.
	StopNever
)

// FakeBehavior says how the fake processes of one command act.
//
// By default a fake process behaves like cat when started with Spec.Stdin (it echoes what it is
// written to its stdout and exits 0 when its stdin is closed) and like echo without it (it writes
// its arguments joined by spaces and a newline, then exits 0).
type FakeBehavior struct {
	// StartErr makes Start fail with this error.
	StartErr error
	// Stop is how the processes react to Stop.
	Stop StopMode
	// Silent turns the echo off.
	Silent bool
	// ExitCode is the code they exit with when they finish on their own.
	ExitCode int
	// Linger keeps them running after their input ends (or, without stdin, after the echo),
	// until Finish, Die or Stop.
	Linger bool
}

// Fake is a Driver for unit and property tests: its processes are Go values, no OS processes, and
// tests steer them (Behave, FakeProcess.Emit, Finish, Die, SetStop). Safe for concurrent use.
type Fake struct {
	mu        sync.Mutex
	behaviors map[string]FakeBehavior
	procs     []*FakeProcess
	stale     []Record
}

// NewFake returns a Fake whose processes all have the default FakeBehavior.
func NewFake() *Fake { return &Fake{behaviors: map[string]FakeBehavior{}} }

// Behave sets the behavior of the processes started with command from now on.
func (f *Fake) Behave(command string, b FakeBehavior) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.behaviors[command] = b
}

// Processes returns every process started so far, in start order.
func (f *Fake) Processes() []*FakeProcess {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*FakeProcess(nil), f.procs...)
}

// Running returns the processes that have not ended, in start order.
func (f *Fake) Running() []*FakeProcess {
	var out []*FakeProcess
	for _, p := range f.Processes() {
		select {
		case <-p.done:
		default:
			out = append(out, p)
		}
	}
	return out
}

// StaleKills returns the records KillStale was called with, in call order.
func (f *Fake) StaleKills() []Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Record(nil), f.stale...)
}

// Start implements Driver.
func (f *Fake) Start(spec Spec) (Process, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	b := f.behaviors[spec.Command]
	if b.StartErr != nil {
		f.mu.Unlock()
		return nil, fmt.Errorf("start %q: %w", spec.Command, b.StartErr)
	}
	pid := fakePIDBase + len(f.procs)
	p := &FakeProcess{
		spec:     spec,
		behavior: b,
		stop:     b.Stop,
		record:   Record{PID: pid, PGID: pid, StartTime: uint64(pid), Token: fmt.Sprintf("fake-%d", pid)},
		done:     make(chan struct{}),
		waiting:  true,
	}
	if spec.Terminal != nil {
		p.size = *spec.Terminal
	}
	f.procs = append(f.procs, p)
	f.mu.Unlock()
	if !spec.Stdin && spec.Terminal == nil {
		if !b.Silent {
			p.Emit("stdout", strings.Join(spec.Args, " ")+"\n")
		}
		if !b.Linger {
			p.Finish(b.ExitCode)
		}
	}
	return p, nil
}

// KillStale implements Driver: a record of one of its running processes ends it with SIGKILL
// (true); any other record finds nothing (false).
func (f *Fake) KillStale(rec Record, grace time.Duration) (bool, error) {
	f.mu.Lock()
	f.stale = append(f.stale, rec)
	var target *FakeProcess
	for _, p := range f.procs {
		if p.record == rec {
			target = p
		}
	}
	f.mu.Unlock()
	if target == nil {
		return false, nil
	}
	return target.end(ExitStatus{Code: -1, Signal: "SIGKILL"}), nil
}

// The fakes implement the interfaces they stand in for.
var (
	_ Driver  = (*Fake)(nil)
	_ Process = (*FakeProcess)(nil)
	_ Driver  = realDriver{}
	_ Process = (*realProcess)(nil)
)
