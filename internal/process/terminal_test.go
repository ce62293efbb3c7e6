package process

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestTerminalProcessEchoesResizesAndHangsUp(t *testing.T) {
	p, o := start(t, Spec{Command: "bash", Args: []string{"--norc", "--noprofile", "-i"}, Terminal: &TermSize{Rows: 24, Cols: 80},
		Env: []string{"PS1=$ "}})
	ctx := context.Background()
	if err := p.Write(ctx, []byte("stty size; tty; echo TERM=$TERM\r")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the size, the tty and TERM", func() bool {
		s := text(o, "stdout")
		return strings.Contains(s, "24 80") && strings.Contains(s, "/dev/pts/") && strings.Contains(s, "TERM=xterm-256color")
	})
	if err := p.Resize(30, 100); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(ctx, []byte("stty size\r")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new size", func() bool { return strings.Contains(text(o, "stdout"), "30 100") })
	if text(o, "stderr") != "" {
		t.Errorf("a terminal has one output, all in stdout; stderr got %q", text(o, "stderr"))
	}
	// An interactive bash ignores SIGTERM: Stop's SIGHUP ends it well before the grace.
	if err := p.Stop(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if ex := p.Exit(); ex.Signal != "SIGHUP" && ex.Code == 0 {
		t.Errorf("bash after Stop: %+v, want ended by SIGHUP", ex)
	}
}

func TestTerminalIsTheControllingTerminal(t *testing.T) {
	p, o := start(t, Spec{Command: "sh", Args: []string{"-c", "exec 3</dev/tty && echo opened; cat /proc/$$/stat"},
		Terminal: &TermSize{Rows: 24, Cols: 80}})
	waitDone(t, p)
	s := text(o, "stdout")
	if !strings.Contains(s, "opened") {
		t.Fatalf("the program could not open /dev/tty (no controlling terminal): %q", s)
	}
	// /proc/PID/stat: pid (comm) state ppid pgrp session tty_nr tpgid …
	pid := strings.Fields(s[strings.Index(s, "opened")+len("opened"):])[0]
	f := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	if len(f) < 6 || f[2] != pid || f[3] != pid || f[5] != pid {
		t.Errorf("pid %s, pgrp, session, tty, tpgid = %v: want the leader of its own session, in the foreground", pid, f[2:6])
	}
}

func TestResizeOfAPipeProcessIsRefused(t *testing.T) {
	p, _ := start(t, Spec{Command: "cat", Stdin: true})
	if err := p.Resize(10, 10); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("Resize on pipes: %v, want ErrNoTerminal", err)
	}
}

func TestTerminalSizeIsChecked(t *testing.T) {
	for _, s := range []TermSize{{0, 80}, {24, 0}, {-1, 5}, {70000, 80}} {
		if _, err := Real().Start(Spec{Command: "true", Terminal: &s}); err == nil {
			t.Errorf("a terminal of %+v started", s)
		}
	}
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		t.Skip("no /dev/ptmx")
	}
}
