package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/daemon"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// startDaemonProc starts `troupe daemon` on dir with args and waits until it answers; the test's
// end kills it should it still run.
func startDaemonProc(t *testing.T, dir string, args ...string) (*exec.Cmd, *bytes.Buffer, chan error) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(troupeBinary(t), append([]string{"--data-dir", dir, "daemon"}, args...)...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		exited <- nil
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := daemon.GetStatus(context.Background(), daemon.HTTPClient(dir)); err == nil {
			return cmd, &stderr, exited
		}
		select {
		case err := <-exited:
			t.Fatalf("troupe daemon exited at start: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("troupe daemon did not answer within 15 s:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitExit waits for the daemon process to exit and returns its error.
func waitExit(t *testing.T, exited chan error, d time.Duration) error {
	t.Helper()
	select {
	case err := <-exited:
		exited <- err
		return err
	case <-time.After(d):
		t.Fatalf("troupe daemon did not exit within %s", d)
		return nil
	}
}

func TestDaemonCommandStatusStopAndLog(t *testing.T) {
	dir := testutil.ShortDir(t)
	if code := run([]string{"--data-dir", dir, "daemon", "status"}); code != 3 {
		t.Fatalf("daemon status with none running: exit %d, want 3", code)
	}
	if code := run([]string{"--data-dir", dir, "daemon", "stop"}); code != 0 {
		t.Fatalf("daemon stop with none running: exit %d, want 0", code)
	}
	logPath := filepath.Join(dir, daemon.LogName)
	cmd, _, exited := startDaemonProc(t, dir, "--idle-exit", "0", "--log-file", logPath)
	if code := run([]string{"--data-dir", dir, "daemon", "status", "--json"}); code != 0 {
		t.Fatalf("daemon status with a daemon: exit %d, want 0", code)
	}
	st, err := daemon.GetStatus(context.Background(), daemon.HTTPClient(dir))
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != cmd.Process.Pid || st.Version != version || st.IdleExitSeconds != 0 || st.Sessions != 0 || st.RunningChildren != 0 {
		t.Fatalf("status = %+v", st)
	}
	var doc check
	for _, c := range runChecks(context.Background(), dir, "") {
		if c.Name == "daemon" {
			doc = c
		}
	}
	if doc.Status != statusOK || !strings.Contains(doc.Found, "running: pid "+strconv.Itoa(st.PID)) {
		t.Fatalf("doctor's daemon line: %+v", doc)
	}

	// A second daemon on the same dir refuses, naming the first's pid.
	out, err := exec.Command(troupeBinary(t), "--data-dir", dir, "daemon").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "already running") ||
		!strings.Contains(string(out), "pid "+strconv.Itoa(st.PID)) {
		t.Fatalf("second daemon: %v\n%s", err, out)
	}

	if code := run([]string{"--data-dir", dir, "daemon", "stop"}); code != 0 {
		t.Fatalf("daemon stop: exit %d, want 0", code)
	}
	if err := waitExit(t, exited, 5*time.Second); err != nil {
		t.Fatalf("troupe daemon after stop: %v", err)
	}
	if code := run([]string{"--data-dir", dir, "daemon", "status"}); code != 3 {
		t.Fatalf("daemon status after stop: exit %d, want 3", code)
	}
	if _, err := os.Stat(daemon.SocketPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket after stop: %v", err)
	}
	logText, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"troupe daemon serving", `"pid":` + strconv.Itoa(st.PID), "daemon stopping", "POST /daemon/stop"} {
		if !strings.Contains(string(logText), want) {
			t.Fatalf("daemon.log lacks %q:\n%s", want, logText)
		}
	}
}

func TestDaemonCommandSIGTERMAndIdleExit(t *testing.T) {
	dir := testutil.ShortDir(t)
	cmd, stderr, exited := startDaemonProc(t, dir, "--idle-exit", "0")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, exited, 10*time.Second); err != nil {
		t.Fatalf("troupe daemon after SIGTERM: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "daemon stopping") {
		t.Fatalf("stderr lacks the stop line:\n%s", stderr.String())
	}

	_, stderr, exited = startDaemonProc(t, dir, "--idle-exit", "0.5")
	if err := waitExit(t, exited, 10*time.Second); err != nil {
		t.Fatalf("troupe daemon after idle exit: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "daemon_idle_exit") {
		t.Fatalf("stderr does not say why it exited:\n%s", stderr.String())
	}
}
