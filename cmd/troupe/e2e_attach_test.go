package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// attachOnPTY runs `troupe attach id` on a PTY of rows×cols, as a person in their shell.
func attachOnPTY(t *testing.T, dir, id string, rows, cols uint16) (*exec.Cmd, *os.File, *testutil.LockedBuffer, chan error) {
	t.Helper()
	cmd := exec.Command(troupeBinary(t), "attach", id)
	cmd.Env = append(os.Environ(), e2eEnv(dir)...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close(); _ = cmd.Process.Kill() })
	var seen testutil.LockedBuffer
	go func() { _, _ = io.Copy(&seen, ptmx) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return cmd, ptmx, &seen, exited
}

func TestE2EAttach(t *testing.T) {
	t.Parallel()
	s, dir := terminalServer(t)
	s.ok("create_agent", map[string]any{"session_id": "t", "name": "sh", "preset": "bash"})
	s.ok("send_keys", map[string]any{"agent_id": "t/sh", "text": "echo before-attach", "keys": []string{"Enter"}, "wait_seconds": 5})
	s.ok("create_agent", map[string]any{"session_id": "t", "name": "pipe", "preset": "echo"})

	_, ptmx, seen, exited := attachOnPTY(t, dir, "t/sh", 30, 100)
	eventually(t, 10*time.Second, "the repaint of the screen on the person's terminal", func() bool { return strings.Contains(seen.String(), "before-attach") })
	eventually(t, 10*time.Second, "the agent's terminal at the person's size", func() bool {
		size := s.ok("read_agent_screen", map[string]any{"agent_id": "t/sh"})["size"].(map[string]any)
		return size["rows"] == float64(30) && size["cols"] == float64(100)
	})
	if _, err := ptmx.Write([]byte("echo typed-by-a-person\r")); err != nil {
		t.Fatal(err)
	}
	onScreen(t, s, "t/sh", "what the person typed", exactly("typed-by-a-person"))
	eventually(t, 10*time.Second, "the answer on the person's terminal", func() bool { return strings.Count(seen.String(), "typed-by-a-person") >= 2 })
	// The person resizes their window; the model types meanwhile and the person sees it.
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 35, Cols: 110}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the agent's terminal follows the window", func() bool {
		size := s.ok("read_agent_screen", map[string]any{"agent_id": "t/sh"})["size"].(map[string]any)
		return size["rows"] == float64(35) && size["cols"] == float64(110)
	})
	s.ok("send_keys", map[string]any{"agent_id": "t/sh", "text": "echo typed-by-the-model", "keys": []string{"Enter"}, "wait_seconds": 5})
	eventually(t, 10*time.Second, "the model's typing on the person's terminal", func() bool { return strings.Contains(seen.String(), "typed-by-the-model") })

	// Ctrl-] detaches: the command ends well, the agent runs on at its own size.
	if _, err := ptmx.Write([]byte{0x1d}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("troupe attach after Ctrl-]: %v\n%s", err, seen.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("troupe attach did not end at Ctrl-]:\n%s", seen.String())
	}
	// What it printed last may still be on its way through the PTY.
	eventually(t, 10*time.Second, "a word on detaching", func() bool { return strings.Contains(seen.String(), "detached from t/sh; it keeps running") })
	eventually(t, 10*time.Second, "the agent running at its own size again", func() bool {
		res := s.ok("read_agent_screen", map[string]any{"agent_id": "t/sh"})
		return res["status"] == "running" && res["size"].(map[string]any)["rows"] == float64(40)
	})
	eventually(t, 10*time.Second, "the attach in the audit log, taken and given back", func() bool {
		logged := resultJSON(s.ok("audit_query", map[string]any{"action": "terminal.attach"}))
		return strings.Count(logged, `"t/sh"`) >= 2 && strings.Contains(logged, `"detached":true`)
	})

	// Refusals, saying what to do.
	_, _, seen, exited = attachOnPTY(t, dir, "t/pipe", 24, 80)
	var exitErr *exec.ExitError
	if err := <-exited; !errors.As(err, &exitErr) {
		t.Errorf("attach to an agent on pipes ended with %v, want a failure", err)
	}
	eventually(t, 10*time.Second, "the refusal saying why", func() bool { return strings.Contains(seen.String(), "not on a terminal") })
	cmd := exec.Command(troupeBinary(t), "attach", "t/sh")
	cmd.Env = append(os.Environ(), e2eEnv(dir)...)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "needs a terminal") {
		t.Errorf("attach without a terminal: %v %q", err, out)
	}
}
