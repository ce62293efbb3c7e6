package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const agentPresets = `
[presets.echo]
command = "cat"
mode = "interactive"

[presets.upper]
command = "tr"
args = ["a-z", "A-Z"]
mode = "per-message"

[presets.say]
command = "printf"
args = ["said: %s\n", "{message}"]
mode = "per-message"

[presets.crash]
command = "sh"
args = ["-c", "echo oops >&2; exit 7"]

[presets.tree]
command = "sh"
args = ["-c", "sleep 1000 & echo $!; sleep 1000 & echo $!; wait"]

[presets.slow]
command = "sh"
args = ["-c", "sleep 30"]
mode = "per-message"

[presets.flaky]
command = "sh"
args = ["-c", "echo run; exit 1"]
restart = "on-failure"
`

// agentServer starts troupe with the test presets and one session "w".
func agentServer(t *testing.T, dir string) *troupeProc {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(agentPresets), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServer(t, dir, "TROUPE_LOG_LEVEL=warn")
}

// alive reports whether pid runs (a zombie counts as ended: PID 1 here does not reap orphans).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// outputText reads an agent's whole output, waiting up to wait for at least want.
func outputText(s *troupeProc, id string, want string) string {
	s.t.Helper()
	var text string
	eventually(s.t, 15*time.Second, "output of "+id+" contains "+strconv.Quote(want), func() bool {
		out := s.ok("read_agent_output", map[string]any{"agent_id": id, "wait_seconds": 1})
		var b strings.Builder
		for _, c := range out["chunks"].([]any) {
			b.WriteString(c.(map[string]any)["text"].(string))
		}
		text = b.String()
		return strings.Contains(text, want)
	})
	return text
}

func TestE2EAgentsWithRealProcesses(t *testing.T) {
	dir := t.TempDir()
	s := agentServer(t, dir)
	s.ok("create_session", map[string]any{"session_id": "w"})

	// An interactive cat echoes.
	a := s.ok("create_agent", map[string]any{"session_id": "w", "name": "cat", "preset": "echo"})
	if a["agent_id"] != "w/cat" || a["status"] != "running" {
		t.Fatalf("create_agent = %v", a)
	}
	sent := s.ok("send_to_agent", map[string]any{"agent_id": "w/cat", "message": "hello there", "wait_seconds": 10})
	if out := sent["output"].(map[string]any); !strings.Contains(fmt.Sprint(out["chunks"]), "hello there") {
		t.Fatalf("send_to_agent with wait = %v", sent)
	}

	// A per-message tr answers each message; {message} stays one argument.
	s.ok("create_agent", map[string]any{"session_id": "w", "name": "up", "preset": "upper"})
	for _, m := range []string{"first", "second one"} {
		r := s.ok("send_to_agent", map[string]any{"agent_id": "w/up", "message": m, "wait_seconds": 10})
		if got := fmt.Sprint(r["output"].(map[string]any)["chunks"]); !strings.Contains(got, strings.ToUpper(m)) {
			t.Fatalf("per-message answer to %q: %s", m, got)
		}
	}
	s.ok("create_agent", map[string]any{"session_id": "w", "name": "say", "preset": "say"})
	r := s.ok("send_to_agent", map[string]any{"agent_id": "w/say", "message": "a; rm -rf / $(x) 'q'", "wait_seconds": 10})
	if got := fmt.Sprint(r["output"].(map[string]any)["chunks"]); !strings.Contains(got, "said: a; rm -rf / $(x) 'q'") {
		t.Fatalf("message not passed as one literal argument: %s", got)
	}

	// A crashing agent shows its output and exit code; a message to it is refused.
	s.ok("create_agent", map[string]any{"session_id": "w", "name": "crash", "preset": "crash"})
	if text := outputText(s, "w/crash", "oops"); text != "oops\n" {
		t.Fatalf("crash output %q", text)
	}
	eventually(t, 10*time.Second, "crash agent exits", func() bool {
		out := s.ok("read_agent_output", map[string]any{"agent_id": "w/crash"})
		return out["status"] == "exited" && out["exit_code"] == 7.0
	})
	if msg := s.fails("send_to_agent", map[string]any{"agent_id": "w/crash", "message": "x"}); !strings.Contains(msg, "exit code 7") {
		t.Fatalf("message to an exited agent: %q", msg)
	}

	// Busy needs force.
	s.ok("create_agent", map[string]any{"session_id": "w", "name": "slow", "preset": "slow"})
	s.ok("send_to_agent", map[string]any{"agent_id": "w/slow", "message": "go"})
	if msg := s.fails("delete_agent", map[string]any{"agent_id": "w/slow"}); !strings.Contains(msg, "force") {
		t.Fatalf("busy delete: %q", msg)
	}
	s.ok("delete_agent", map[string]any{"agent_id": "w/slow", "force": true})

	// delete_agent ends the whole process group, grandchildren included.
	tree := s.ok("create_agent", map[string]any{"session_id": "w", "name": "tree", "preset": "tree"})
	pids := []int{int(tree["pid"].(float64))}
	for _, f := range strings.Fields(outputText(s, "w/tree", "\n")) {
		n, _ := strconv.Atoi(f)
		pids = append(pids, n)
	}
	eventually(t, 10*time.Second, "both grandchildren reported", func() bool {
		pids = pids[:1]
		for _, f := range strings.Fields(outputText(s, "w/tree", "\n")) {
			n, _ := strconv.Atoi(f)
			pids = append(pids, n)
		}
		return len(pids) == 3
	})
	for _, p := range pids {
		if !alive(p) {
			t.Fatalf("pid %d of the tree is not running before delete", p)
		}
	}
	s.ok("delete_agent", map[string]any{"agent_id": "w/tree"})
	eventually(t, 15*time.Second, "the tree's processes end", func() bool {
		for _, p := range pids {
			if alive(p) {
				return false
			}
		}
		return true
	})

	// The restart policy: on-failure restarts with back-off; the count is visible.
	s.ok("create_agent", map[string]any{"session_id": "w", "name": "flaky", "preset": "flaky"})
	eventually(t, 20*time.Second, "flaky restarts", func() bool {
		for _, c := range s.ok("get_session", map[string]any{"session_id": "w"})["children"].([]any) {
			if m := c.(map[string]any); m["id"] == "w/flaky" && m["restarts"] != nil && m["restarts"].(float64) >= 2 {
				return true
			}
		}
		return false
	})
	s.ok("delete_agent", map[string]any{"agent_id": "w/flaky", "force": true})
}

func TestE2EAgentsAfterKill9(t *testing.T) {
	dir := t.TempDir()
	s := agentServer(t, dir)
	s.ok("create_session", map[string]any{"session_id": "k"})
	s.ok("create_agent", map[string]any{"session_id": "k", "name": "cat", "preset": "echo"})
	s.ok("send_to_agent", map[string]any{"agent_id": "k/cat", "message": "before the crash", "wait_seconds": 10})
	tree := s.ok("create_agent", map[string]any{"session_id": "k", "name": "tree", "preset": "tree"})
	pids := []int{int(tree["pid"].(float64))}
	eventually(t, 10*time.Second, "grandchildren reported", func() bool {
		return len(strings.Fields(outputText(s, "k/tree", "\n"))) == 2
	})
	for _, f := range strings.Fields(outputText(s, "k/tree", "\n")) {
		n, _ := strconv.Atoi(f)
		pids = append(pids, n)
	}
	s.kill9()
	// The parent-death signal ends the agent's own process; its grandchildren outlive the crash
	// until the restarted server ends them from the recorded process.
	if !alive(pids[1]) && !alive(pids[2]) {
		t.Fatalf("the grandchildren %v died with the server; this test would not show the clean-up at restart", pids[1:])
	}
	s = agentServer(t, dir)
	eventually(t, 20*time.Second, "no process of the crashed run is alive", func() bool {
		for _, p := range pids {
			if alive(p) {
				return false
			}
		}
		return true
	})
	if text := outputText(s, "k/cat", "before the crash"); !strings.Contains(text, "before the crash") {
		t.Fatalf("output after restart: %q", text)
	}
	got := s.ok("get_session", map[string]any{"session_id": "k"})["children"].([]any)
	if len(got) != 2 || got[0].(map[string]any)["status"] != "exited" {
		t.Fatalf("children after restart: %v", got)
	}
	if msg := s.fails("send_to_agent", map[string]any{"agent_id": "k/cat", "message": "x"}); !strings.Contains(msg, "not running") {
		t.Fatalf("message to an agent of the crashed run: %q", msg)
	}
}

func TestE2EAgentBadInput(t *testing.T) {
	dir := t.TempDir()
	s := agentServer(t, dir)
	s.ok("create_session", map[string]any{"session_id": "b"})
	s.ok("create_agent", map[string]any{"session_id": "b", "name": "cat", "preset": "echo"})
	cases := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"create_agent", map[string]any{"session_id": "b", "preset": "nope"}, "unknown preset \"nope\"; the presets are:"},
		{"create_agent", map[string]any{"session_id": "b", "command": "bash"}, "allow_any_command"},
		{"create_agent", map[string]any{"session_id": "b"}, "say what to run"},
		{"create_agent", map[string]any{"session_id": "b", "name": "cat", "preset": "echo"}, "already has a child"},
		{"create_agent", map[string]any{"session_id": "b", "preset": "echo", "env": map[string]any{"A": 1}}, "must be a string"},
		{"send_to_agent", map[string]any{"agent_id": "b/cat", "message": strings.Repeat("x", 300<<10)}, "over the limit"},
		{"send_to_agent", map[string]any{"agent_id": "b/none", "message": "x"}, "no child \"none\""},
		{"send_to_agent", map[string]any{"agent_id": "nobody/cat", "message": "x"}, "no session \"nobody\""},
		{"send_to_agent", map[string]any{"agent_id": "cat", "message": "x"}, "<session_id>/<name>"},
		{"send_to_agent", map[string]any{"agent_id": "b/cat"}, "message is required"},
		{"read_agent_output", map[string]any{"agent_id": "b/cat", "wait_seconds": 5000}, "wait_seconds is out of range"},
		{"read_agent_output", map[string]any{"agent_id": "b/cat", "after": -1}, "negative"},
		{"delete_agent", map[string]any{"agent_id": "b/none"}, "no agent"},
	}
	for _, tc := range cases {
		if msg := s.fails(tc.tool, tc.args); !strings.Contains(msg, tc.want) {
			t.Errorf("%s(%v): %q, want it to mention %q", tc.tool, tc.args, msg, tc.want)
		}
	}
	s.ok("send_to_agent", map[string]any{"agent_id": "b/cat", "message": "still serving", "wait_seconds": 10})
}
