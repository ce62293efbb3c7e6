package process

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperReport is what the helper process tells the test, through a file.
type helperReport struct {
	Record     Record `json:"record"`
	Grandchild int    `json:"grandchild"`
	Error      string `json:"error,omitempty"`
}

// runHelper is the helper process. It calls Start from a goroutine locked to its thread that then
// exits, so that the runtime ends that thread (as it does for any goroutine exiting while locked):
// a driver that forked on the caller's thread would see its child get the parent-death signal
// there. It checks that the child still answers after that thread is gone, reports, and waits to
// be killed. The child, sh, starts a sleep that has no parent-death signal of its own.
func runHelper() {
	// Keep the main goroutine on the main thread: the runtime never ends that thread (it parks
	// it), so the goroutine below must not run there.
	runtime.LockOSThread()
	out := os.Getenv(helperEnv)
	var rep helperReport
	rep.Error = helperRun(out, &rep)
	b, _ := json.Marshal(rep)
	os.WriteFile(out+".tmp", b, 0o600)
	os.Rename(out+".tmp", out)
	select {} // until SIGKILL
}

// helperRun does the work of runHelper and returns what went wrong, if anything.
func helperRun(out string, rep *helperReport) string {
	o, err := NewOutput(out+".log", 0)
	if err != nil {
		return err.Error()
	}
	var p Process
	var tid int
	started := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the runtime ends this thread when we return
		tid = syscall.Gettid()
		p, err = Real().Start(Spec{
			Command: "sh",
			// A grandchild that leaves the process group and the session by a double fork
			// and setsid, as a daemon does: only the cgroup or the token can find it.
			Args:   []string{"-c", `(setsid sh -c 'echo $$; exec sleep 1000' &); read x; echo alive; sleep 1000`},
			Stdin:  true,
			Stdout: o.Writer("stdout"),
		})
		close(started)
	}()
	<-started
	if err != nil {
		return err.Error()
	}
	rep.Record = p.Record()
	threadGone := func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid))
		return os.IsNotExist(err)
	}
	if !poll(time.Minute, nil, threadGone) {
		return "the thread that called Start did not end"
	}
	if !poll(time.Minute, nil, func() bool { return strings.Contains(text(o, ""), "\n") }) {
		return "no output from the child"
	}
	if _, err := fmt.Sscan(text(o, ""), &rep.Grandchild); err != nil {
		return err.Error()
	}
	if err := p.Write(context.Background(), []byte("go\n")); err != nil {
		return "the child died with the thread that called Start: " + err.Error()
	}
	if !poll(time.Minute, nil, func() bool { return strings.Contains(text(o, ""), "alive") }) {
		return "the child died with the thread that called Start: no answer"
	}
	return ""
}

func TestParentDeathSignalAndStaleStrays(t *testing.T) {
	for _, mode := range []string{"cgroup", "token"} {
		t.Run(mode, func(t *testing.T) {
			env := []string{"TROUPE_NO_CGROUP=0"}
			if mode == "token" {
				env = []string{"TROUPE_NO_CGROUP=1"}
			} else {
				requireCgroups(t)
			}
			testStaleStrays(t, mode, env)
		})
	}
}

func testStaleStrays(t *testing.T, mode string, env []string) {
	report := filepath.Join(t.TempDir(), "report.json")
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(append(os.Environ(), env...), helperEnv+"="+report)
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	var rep helperReport
	waitFor(t, "the helper's report", func() bool {
		b, err := os.ReadFile(report)
		return err == nil && json.Unmarshal(b, &rep) == nil
	})
	t.Cleanup(func() { syscall.Kill(rep.Grandchild, syscall.SIGKILL) })
	leader := rep.Record.PID
	if rep.Error != "" {
		t.Fatalf("helper: %s", rep.Error)
	}
	if (rep.Record.Cgroup != "") != (mode == "cgroup") {
		t.Fatalf("record %+v in mode %s: want a cgroup exactly when cgroups are on", rep.Record, mode)
	}
	if !running(leader) {
		t.Fatalf("the helper's child %d died while the helper lives", leader)
	}

	helper.Process.Kill()
	helper.Wait()
	waitFor(t, "the child to die with the helper (parent-death signal)", func() bool { return !running(leader) })

	// The grandchild has no parent-death signal: it is what KillStale is for.
	if !running(rep.Grandchild) {
		t.Fatalf("grandchild %d died too: nothing left for KillStale to find", rep.Grandchild)
	}
	wrong := rep.Record
	wrong.Token = "not-the-token"
	if killed, err := KillStale(wrong, time.Second); killed || err != nil || !running(rep.Grandchild) {
		t.Fatalf("KillStale with another token: got killed=%v err=%v, want nothing touched", killed, err)
	}
	killed, err := KillStale(rep.Record, 5*time.Second)
	if err != nil || !killed {
		t.Fatalf("KillStale: got killed=%v err=%v, want killed", killed, err)
	}
	if running(rep.Grandchild) {
		t.Errorf("grandchild %d still running after KillStale", rep.Grandchild)
	}
	if killed, err := KillStale(rep.Record, time.Second); killed || err != nil {
		t.Errorf("KillStale again: got killed=%v err=%v, want nothing found", killed, err)
	}
}
