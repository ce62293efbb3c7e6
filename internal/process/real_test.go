package process

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// start starts spec with the real driver, output into a fresh Output, and stops it at cleanup.
func start(t *testing.T, spec Spec) (Process, *Output) {
	t.Helper()
	o := newTestOutput(t, 0)
	spec.Stdout, spec.Stderr = o.Writer("stdout"), o.Writer("stderr")
	p, err := Real().Start(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(context.Background(), time.Second); err != nil {
			t.Error(err)
		}
	})
	return p, o
}

func TestInteractiveCatEchoes(t *testing.T) {
	p, o := start(t, Spec{Command: "cat", Stdin: true})
	ctx := context.Background()
	for _, line := range []string{"hello", "world"} {
		last := o.LastSeq()
		if err := p.Write(ctx, []byte(line+"\n")); err != nil {
			t.Fatal(err)
		}
		if err := o.Wait(ctx, last); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "both echoes", func() bool { return text(o, "stdout") == "hello\nworld\n" })
	if err := p.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	waitDone(t, p)
	if got := p.Exit(); got != (ExitStatus{}) {
		t.Errorf("exit after end of input: got %+v, want code 0", got)
	}
	if err := p.Write(ctx, []byte("late\n")); !errors.Is(err, ErrStdinClosed) {
		t.Errorf("write after exit: got %v, want ErrStdinClosed", err)
	}
}

func TestPerMessageViaStdin(t *testing.T) {
	args, viaStdin := ExpandArgs([]string{"a-z", "A-Z"}, "shout this")
	if !viaStdin {
		t.Fatal("tr's args hold no placeholder: the message must go to stdin")
	}
	p, o := start(t, Spec{Command: "tr", Args: args, Stdin: true})
	if err := p.Write(context.Background(), []byte("shout this\n")); err != nil {
		t.Fatal(err)
	}
	p.CloseStdin()
	waitDone(t, p)
	if got := text(o, ""); got != "SHOUT THIS\n" {
		t.Errorf("output: got %q, want %q", got, "SHOUT THIS\n")
	}
	if p.Exit().Code != 0 {
		t.Errorf("exit: got %+v, want code 0", p.Exit())
	}
}

func TestPerMessageViaArgsIsOneArgumentNoShell(t *testing.T) {
	msg := `$(echo pwned); ` + "`id`" + ` 'quoted' "double" * {message}` + "\nline two"
	args, viaStdin := ExpandArgs([]string{"%s|", "{message}"}, msg)
	if viaStdin {
		t.Fatal("the placeholder is in the args: the message must not go to stdin")
	}
	p, o := start(t, Spec{Command: "printf", Args: args})
	waitDone(t, p)
	if got, want := text(o, "stdout"), msg+"|"; got != want {
		t.Errorf("output: got %q, want %q", got, want)
	}
}

func TestCrashOutputAndExitCode(t *testing.T) {
	p, o := start(t, Spec{Command: "sh", Args: []string{"-c", "echo out; echo err >&2; exit 3"}})
	waitDone(t, p)
	if got := p.Exit(); got != (ExitStatus{Code: 3}) {
		t.Errorf("exit: got %+v, want code 3", got)
	}
	if got := text(o, "stdout"); got != "out\n" {
		t.Errorf("stdout: got %q, want %q", got, "out\n")
	}
	if got := text(o, "stderr"); got != "err\n" {
		t.Errorf("stderr: got %q, want %q", got, "err\n")
	}
	r := o.Read(0, 0)
	if len(r.Chunks) != 2 || r.Chunks[0].Seq >= r.Chunks[1].Seq {
		t.Errorf("chunks: got %+v, want two with increasing seq", r.Chunks)
	}
}

func TestKilledBySignal(t *testing.T) {
	p, _ := start(t, Spec{Command: "sh", Args: []string{"-c", "kill -SEGV $$"}})
	waitDone(t, p)
	if got, want := p.Exit(), (ExitStatus{Code: -1, Signal: "SIGSEGV"}); got != want {
		t.Errorf("exit: got %+v, want %+v", got, want)
	}
}

func TestStopEndsWholeGroupNoZombies(t *testing.T) {
	p, o := start(t, Spec{Command: "sh", Args: []string{"-c", "sleep 1000 & echo $!; sleep 1000"}})
	grandchild := atoi(t, firstLine(t, o))
	if !running(grandchild) {
		t.Fatalf("grandchild %d not running before Stop", grandchild)
	}
	if err := p.Stop(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if running(grandchild) {
		t.Errorf("grandchild %d still running after Stop", grandchild)
	}
	if running(p.PID()) {
		t.Errorf("leader %d still running after Stop", p.PID())
	}
	if z := ourZombies(t); len(z) > 0 {
		t.Errorf("zombie children left: %v", z)
	}
	if got := p.Exit(); got.Code != -1 || got.Signal != "SIGTERM" {
		t.Errorf("exit: got %+v, want killed by SIGTERM", got)
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	p, o := start(t, Spec{Command: "sh", Args: []string{"-c", `trap "" TERM; echo ready; sleep 1000`}})
	firstLine(t, o) // the trap is set
	if err := p.Stop(context.Background(), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := p.Exit(); got.Code != -1 || got.Signal != "SIGKILL" {
		t.Errorf("exit: got %+v, want killed by SIGKILL", got)
	}
	if z := ourZombies(t); len(z) > 0 {
		t.Errorf("zombie children left: %v", z)
	}
}

func TestStopWithEndedContextStillKills(t *testing.T) {
	p, o := start(t, Spec{Command: "sh", Args: []string{"-c", `trap "" TERM; echo ready; sleep 1000`}})
	firstLine(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Stop(ctx, time.Hour); err != nil && !errors.Is(err, ErrNotStopped) {
		t.Fatalf("stop: got %v, want nil or ErrNotStopped", err)
	}
	waitDone(t, p)
	if got := p.Exit().Signal; got != "SIGKILL" {
		t.Errorf("signal: got %q, want SIGKILL", got)
	}
}

func TestLeftoversEndWithLeader(t *testing.T) {
	p, o := start(t, Spec{Command: "sh", Args: []string{"-c", "sleep 1000 & echo $!"}})
	waitDone(t, p)
	grandchild := atoi(t, firstLine(t, o))
	if running(grandchild) {
		t.Errorf("grandchild %d still running after its leader exited", grandchild)
	}
	if got := p.Exit(); got != (ExitStatus{}) {
		t.Errorf("exit: got %+v, want code 0", got)
	}
}

func TestEnvironmentAndWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TROUPE_TEST_SERVER_VAR", "from-server")
	p, o := start(t, Spec{
		Command: "sh",
		Args:    []string{"-c", `pwd; echo "$TROUPE_TEST_SERVER_VAR $PRESET $CALL"; echo "$` + TokenEnv + `"`},
		Env:     []string{"PRESET=preset", "CALL=preset", "CALL=call"},
		Dir:     dir,
	})
	waitDone(t, p)
	want := dir + "\nfrom-server preset call\n" + p.Record().Token + "\n"
	if got := text(o, "stdout"); got != want {
		t.Errorf("output: got %q, want %q", got, want)
	}
	if len(p.Record().Token) != 32 {
		t.Errorf("token: got %q, want 32 hex digits", p.Record().Token)
	}
}

func TestRecord(t *testing.T) {
	p, _ := start(t, Spec{Command: "sleep", Args: []string{"1000"}})
	st, err := readStat(p.PID())
	if err != nil {
		t.Fatal(err)
	}
	want := Record{PID: p.PID(), PGID: p.PID(), StartTime: st.StartTime, Token: p.Record().Token}
	if cgroupBase() != "" {
		want.Cgroup = filepath.Join(cgroupBase(), want.Token)
	}
	if got := p.Record(); got != want || st.PGRP != p.PID() {
		t.Errorf("record: got %+v (process group %d), want %+v", got, st.PGRP, want)
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"no command", Spec{}, "set the preset's command"},
		{"unknown program", Spec{Command: "troupe-no-such-program"}, "not found in PATH"},
		{"missing directory", Spec{Command: "true", Dir: filepath.Join(dir, "gone")}, "does not exist"},
		{"bad env entry", Spec{Command: "true", Env: []string{"NOEQUALS"}}, "is not KEY=VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Real().Start(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	p, _ := start(t, Spec{Command: "sleep", Args: []string{"1000"}})
	if err := p.Write(context.Background(), []byte("x")); !errors.Is(err, ErrNoStdin) {
		t.Errorf("write without stdin: got %v, want ErrNoStdin", err)
	}
	q, _ := start(t, Spec{Command: "sleep", Args: []string{"1000"}, Stdin: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// sleep never reads: the pipe fills up and the write blocks until ctx ends.
	if err := q.Write(ctx, make([]byte, 4<<20)); !errors.Is(err, ErrNotReading) {
		t.Errorf("write to a process that does not read: got %v, want ErrNotReading", err)
	}
	q.CloseStdin()
	if err := q.Write(context.Background(), []byte("x")); !errors.Is(err, ErrStdinClosed) {
		t.Errorf("write after CloseStdin: got %v, want ErrStdinClosed", err)
	}
}

func TestOutputPipeHeldOutsideGroup(t *testing.T) {
	// A process that leaves the group (setsid) and sheds its environment, where there are no
	// cgroups, cannot be found to be ended with its leader; it keeps the pipe open: the output
	// is cut off after a short drain instead of being waited for forever.
	withCgroups(t, false)
	p, o := start(t, Spec{
		Command: "sh",
		Args:    []string{"-c", `env -i setsid sh -c 'echo $$; exec sleep 1000' & read x; exit 0`},
		Stdin:   true,
	})
	escaped := atoi(t, firstLine(t, o)) // printed after setsid: it has left the group
	t.Cleanup(func() { syscall.Kill(escaped, syscall.SIGKILL) })
	p.CloseStdin() // the leader exits
	waitDone(t, p)
	if got := p.Exit(); got.Code != 0 || !strings.Contains(got.Err, "cut off") {
		t.Errorf("exit: got %+v, want code 0 and an error about the cut-off output", got)
	}
}
