package process

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFakeInteractiveEchoes(t *testing.T) {
	f := NewFake()
	o := newTestOutput(t, 0)
	p, err := f.Start(Spec{Command: "agent", Stdin: true, Stdout: o.Writer("stdout")})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(context.Background(), []byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	fp := f.Processes()[0]
	if text(o, "stdout") != "hi\n" || string(fp.Input()) != "hi\n" {
		t.Errorf("echo: got %q, input %q; want both %q", text(o, "stdout"), fp.Input(), "hi\n")
	}
	if len(f.Running()) != 1 {
		t.Errorf("running: got %d, want 1", len(f.Running()))
	}
	p.CloseStdin()
	waitDone(t, p)
	if p.Exit() != (ExitStatus{}) || !fp.StdinClosed() || len(f.Running()) != 0 {
		t.Errorf("after end of input: exit %+v, stdin closed %v; want code 0, true", p.Exit(), fp.StdinClosed())
	}
	if err := p.Write(context.Background(), []byte("x")); !errors.Is(err, ErrStdinClosed) {
		t.Errorf("write after exit: got %v, want ErrStdinClosed", err)
	}
}

func TestFakePerMessageArgs(t *testing.T) {
	f := NewFake()
	o := newTestOutput(t, 0)
	args, _ := ExpandArgs([]string{"-p", "{message}"}, "hello world")
	p, err := f.Start(Spec{Command: "claude", Args: args, Stdout: o.Writer("stdout")})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, p)
	if got := text(o, ""); got != "-p hello world\n" {
		t.Errorf("output: got %q", got)
	}
	if err := p.Write(context.Background(), []byte("x")); !errors.Is(err, ErrNoStdin) {
		t.Errorf("write without stdin: got %v, want ErrNoStdin", err)
	}
}

func TestFakeFinishAndDie(t *testing.T) {
	f := NewFake()
	f.Behave("worker", FakeBehavior{Linger: true, Silent: true})
	a, _ := f.Start(Spec{Command: "worker"})
	b, _ := f.Start(Spec{Command: "worker", Stdin: true})
	b.Write(context.Background(), []byte("ignored"))
	b.CloseStdin()
	select {
	case <-b.Done():
		t.Fatal("a lingering process ended with its input")
	default:
	}
	f.Processes()[0].Finish(3)
	f.Processes()[1].Die("SIGSEGV")
	if a.Exit() != (ExitStatus{Code: 3}) || b.Exit() != (ExitStatus{Code: -1, Signal: "SIGSEGV"}) {
		t.Errorf("got %+v and %+v", a.Exit(), b.Exit())
	}
	if a.PID() <= 1<<22 || a.PID() == b.PID() || a.Record().PGID != a.PID() {
		t.Errorf("pids %d, %d: want distinct, above any real PID", a.PID(), b.PID())
	}
}

func TestFakeStopModes(t *testing.T) {
	f := NewFake()
	f.Behave("stubborn", FakeBehavior{Stop: StopOnKill, Linger: true})
	f.Behave("stuck", FakeBehavior{Stop: StopNever, Linger: true})
	f.Behave("plain", FakeBehavior{Linger: true})
	ctx := context.Background()
	for cmd, want := range map[string]string{"plain": "SIGTERM", "stubborn": "SIGKILL"} {
		p, _ := f.Start(Spec{Command: cmd})
		if err := p.Stop(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if got := p.Exit(); got != (ExitStatus{Code: -1, Signal: want}) {
			t.Errorf("%s: got %+v, want killed by %s", cmd, got, want)
		}
	}
	p, _ := f.Start(Spec{Command: "stuck"})
	if err := p.Stop(ctx, 0); !errors.Is(err, ErrNotStopped) {
		t.Errorf("stuck: got %v, want ErrNotStopped", err)
	}
	fp := f.Processes()[2]
	fp.SetStop(StopOnTerm)
	if err := p.Stop(ctx, 0); err != nil || fp.StopCalls() != 2 {
		t.Errorf("after SetStop: got %v with %d calls, want nil after 2", err, fp.StopCalls())
	}
	if err := p.Stop(ctx, 0); err != nil {
		t.Errorf("stop after exit: %v", err)
	}
}

func TestFakeStartErrAndKillStale(t *testing.T) {
	f := NewFake()
	boom := errors.New("boom")
	f.Behave("broken", FakeBehavior{StartErr: boom})
	if _, err := f.Start(Spec{Command: "broken"}); !errors.Is(err, boom) {
		t.Errorf("start: got %v, want boom", err)
	}
	if _, err := f.Start(Spec{}); err == nil {
		t.Error("start without command: got no error")
	}
	f.Behave("agent", FakeBehavior{Linger: true})
	p, _ := f.Start(Spec{Command: "agent"})
	if killed, err := f.KillStale(p.Record(), time.Second); !killed || err != nil || p.Exit().Signal != "SIGKILL" {
		t.Errorf("KillStale: got %v, %v, exit %+v", killed, err, p.Exit())
	}
	if killed, _ := f.KillStale(p.Record(), time.Second); killed {
		t.Error("KillStale of an ended process: got killed")
	}
	if len(f.StaleKills()) != 2 {
		t.Errorf("StaleKills: got %d, want 2", len(f.StaleKills()))
	}
	// A fake record names no real process, should it reach the real KillStale.
	if killed, err := KillStale(p.Record(), time.Second); killed || err != nil {
		t.Errorf("real KillStale of a fake record: got %v, %v", killed, err)
	}
}
