package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Terminal agents (DESIGN §13) with real programs on real PTYs, through troupe serve.

const terminalPresets = `
[presets.pager]
command = "less"
args = ["%s"]
mode = "terminal"

[presets.vi]
command = "vi"
args = ["-u", "NONE", "%s"]
mode = "terminal"

[presets.secret]
command = "bash"
args = ["--norc", "--noprofile", "-c", "read -s -p 'Password: ' pw; echo; echo \"got ${#pw} chars\"; sleep 100"]
mode = "terminal"

[presets.echo]
command = "cat"
mode = "interactive"

[presets.ccat]
command = "cat"
mode = "terminal"
`

// terminalServer starts troupe with the terminal test presets (waits capped at 4 s) and a session.
func terminalServer(t *testing.T) (*troupeProc, string) {
	t.Helper()
	dir := t.TempDir()
	text := filepath.Join(dir, "pager.txt")
	var b strings.Builder
	for i := range 200 {
		b.WriteString("line number " + string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10)) + "\n")
	}
	if err := os.WriteFile(text, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	presets := strings.ReplaceAll(terminalPresets, "%s", text)
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(presets), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, "TROUPE_LOG_LEVEL=warn", "TROUPE_MAX_WAIT_SECONDS=4")
	s.ok("create_session", map[string]any{"session_id": "t"})
	return s, dir
}

// screenLines is the screen of a read_agent_screen or send_keys answer.
func screenLines(res map[string]any) []string {
	var out []string
	for _, l := range res["screen"].([]any) {
		out = append(out, l.(string))
	}
	return out
}

// onScreen waits until the agent's screen has a row for which match holds; it returns the answer.
func onScreen(t *testing.T, s *troupeProc, id, what string, match func(row string) bool) map[string]any {
	t.Helper()
	var res map[string]any
	eventually(t, 15*time.Second, id+" shows "+what, func() bool {
		res = s.ok("read_agent_screen", map[string]any{"agent_id": id})
		return slices.ContainsFunc(screenLines(res), match)
	})
	return res
}

func exactly(want string) func(string) bool { return func(row string) bool { return row == want } }

func TestE2ETerminalBash(t *testing.T) {
	t.Parallel()
	s, _ := terminalServer(t)
	created := s.ok("create_agent", map[string]any{"session_id": "t", "name": "sh", "preset": "bash"})
	if created["mode"] != "terminal" || created["size"].(map[string]any)["rows"] != float64(40) {
		t.Fatalf("bash preset: %v", created)
	}
	pid := created["pid"]
	res := s.ok("send_keys", map[string]any{"agent_id": "t/sh", "text": "echo hi", "keys": []string{"Enter"}, "wait_seconds": 10})
	if !slices.Contains(screenLines(res), "hi") {
		t.Fatalf("after echo hi + Enter the screen has no row \"hi\": %q", screenLines(res))
	}
	if res["state"] != "waiting_for_input" {
		t.Errorf("bash back at its prompt: state %v, want waiting_for_input", res["state"])
	}

	// C-c interrupts the foreground job; bash lives on.
	s.ok("send_keys", map[string]any{"agent_id": "t/sh", "text": "sleep 100", "keys": []string{"Enter"}})
	eventually(t, 10*time.Second, "state running while sleep 100 runs", func() bool {
		return s.ok("read_agent_screen", map[string]any{"agent_id": "t/sh"})["state"] == "running"
	})
	res = s.ok("send_keys", map[string]any{"agent_id": "t/sh", "keys": []string{"C-c"}, "wait_seconds": 10})
	if res["state"] != "waiting_for_input" || res["status"] != "running" {
		t.Errorf("after C-c: state %v status %v, want bash waiting at its prompt", res["state"], res["status"])
	}
	if a := s.ok("get_session", map[string]any{"session_id": "t"}); !strings.Contains(resultJSON(a), `"state":"waiting_for_input"`) {
		t.Errorf("get_session does not show the agent's state: %s", resultJSON(a))
	}
	// Up recalls the last command.
	s.ok("send_keys", map[string]any{"agent_id": "t/sh", "keys": []string{"Up"}})
	var row string
	eventually(t, 10*time.Second, "Up recalls sleep 100 on the cursor's row", func() bool {
		res := s.ok("read_agent_screen", map[string]any{"agent_id": "t/sh"})
		row = screenLines(res)[int(res["cursor"].(map[string]any)["row"].(float64))]
		return strings.HasSuffix(row, "sleep 100")
	})
	s.ok("send_keys", map[string]any{"agent_id": "t/sh", "keys": []string{"C-u"}})
	// Wide characters, and the size given to the program.
	s.ok("send_keys", map[string]any{"agent_id": "t/sh", "text": `printf '\344\270\255\346\226\207\360\237\230\200x\n'; stty size`, "keys": []string{"Enter"}, "wait_seconds": 10})
	onScreen(t, s, "t/sh", "中文😀x", exactly("中文😀x"))
	onScreen(t, s, "t/sh", "the size 40 120", exactly("40 120"))
	if got := s.ok("get_session", map[string]any{"session_id": "t"}); !strings.Contains(resultJSON(got), "\"pid\":"+resultJSON(pid)) {
		t.Errorf("bash was replaced: pid %v no longer in %s", pid, resultJSON(got))
	}
}

func TestE2ETerminalPython(t *testing.T) {
	t.Parallel()
	s, _ := terminalServer(t)
	s.ok("create_agent", map[string]any{"session_id": "t", "name": "py", "preset": "python"})
	onScreen(t, s, "t/py", ">>>", func(r string) bool { return strings.HasPrefix(r, ">>>") })
	// At the prompt it waits for input within a second (the answer comes as soon as it does).
	res := s.ok("read_agent_screen", map[string]any{"agent_id": "t/py", "wait_seconds": 1})
	if res["state"] != "waiting_for_input" {
		t.Fatalf("python at >>>: state %v a second later, want waiting_for_input", res["state"])
	}
	res = map[string]any{}
	s.ok("send_keys", map[string]any{"agent_id": "t/py", "text": "import time; time.sleep(3)", "keys": []string{"Enter"}})
	eventually(t, 10*time.Second, "state running in time.sleep", func() bool {
		return s.ok("read_agent_screen", map[string]any{"agent_id": "t/py"})["state"] == "running"
	})
	// A wait with no pattern ends once python waits for input again (each wait is capped at 4 s).
	for i := 0; i < 5 && res["state"] != "waiting_for_input"; i++ {
		res = s.ok("read_agent_screen", map[string]any{"agent_id": "t/py", "wait_seconds": 30})
	}
	if res["state"] != "waiting_for_input" {
		t.Fatalf("python after sleep(3): state %v", res["state"])
	}
	// wait_for returns as the marker appears, not when the line is echoed (^…$ match whole rows).
	res = s.ok("send_keys", map[string]any{"agent_id": "t/py", "text": "time.sleep(0.5); print('MAR' + 'KER')", "keys": []string{"Enter"},
		"wait_for": "^MARKER$", "wait_seconds": 10})
	if res["matched"] != true || !slices.Contains(screenLines(res), "MARKER") {
		t.Errorf("wait_for ^MARKER$: matched %v, screen %q", res["matched"], screenLines(res))
	}
	// The cap: a longer wait is accepted and cut at max_wait_seconds, saying so, with the cursor
	// (first settled: a wait that starts while the prompt is drawn ends when python waits).
	s.ok("read_agent_screen", map[string]any{"agent_id": "t/py", "wait_seconds": 4})
	res = s.ok("read_agent_screen", map[string]any{"agent_id": "t/py", "wait_for": "never shown", "wait_seconds": 60})
	if res["capped"] != true || res["timed_out"] != true || res["next"] == nil {
		t.Errorf("a 60 s wait under a 4 s cap: capped %v timed_out %v next %v", res["capped"], res["timed_out"], res["next"])
	}
	out := s.ok("read_agent_output", map[string]any{"agent_id": "t/py", "wait_for": "never shown", "wait_seconds": 60, "after": res["next"]})
	if out["capped"] != true || out["state"] != "waiting_for_input" {
		t.Errorf("read_agent_output capped: %v state %v", out["capped"], out["state"])
	}
	// send_to_agent on a terminal: the message and Enter.
	sent := s.ok("send_to_agent", map[string]any{"agent_id": "t/py", "message": "print(6*7)", "wait_for": "^42$", "wait_seconds": 10})
	if o := sent["output"].(map[string]any); o["matched"] != true {
		t.Errorf("send_to_agent wait_for ^42$: %v", o)
	}
	s.ok("read_agent_screen", map[string]any{"agent_id": "t/py", "wait_seconds": 4}) // settled: the screen is saved

	// Deleted and restored: python is back on a new terminal, and the screen it showed is kept.
	snap := s.ok("delete_session", map[string]any{"session_id": "t"})["snapshot_id"]
	s.ok("restore_session", map[string]any{"snapshot_id": snap})
	child := s.ok("get_session", map[string]any{"session_id": "t"})["children"].([]any)[0].(map[string]any)
	if ls, _ := child["last_screen"].([]any); !slices.Contains(anyStrings(ls), "42") {
		t.Errorf("the restored agent's last_screen lacks the 42 it showed: %s", resultJSON(child))
	}
	onScreen(t, s, "t/py", "a new >>> prompt", func(r string) bool { return strings.HasPrefix(r, ">>>") })
	if res := s.ok("send_keys", map[string]any{"agent_id": "t/py", "text": "print(6*9)", "keys": []string{"Enter"}, "wait_for": "^54$", "wait_seconds": 10}); res["matched"] != true {
		t.Errorf("the restored python does not answer: %q", screenLines(res))
	}
}

func TestE2ETerminalFullScreenAndSecrets(t *testing.T) {
	t.Parallel()
	s, _ := terminalServer(t)
	s.ok("create_agent", map[string]any{"session_id": "t", "name": "less", "preset": "pager", "rows": 10, "cols": 50})
	res := onScreen(t, s, "t/less", "the first line", exactly("line number 000"))
	if res["alt_screen"] != true || res["size"].(map[string]any)["rows"] != float64(10) {
		t.Errorf("less: alt_screen %v size %v", res["alt_screen"], res["size"])
	}
	res = s.ok("send_keys", map[string]any{"agent_id": "t/less", "keys": []string{"q"}, "wait_seconds": 10})
	if res["state"] != "exited" || res["alt_screen"] != false {
		t.Errorf("less after q: state %v alt_screen %v", res["state"], res["alt_screen"])
	}

	if _, err := os.Stat("/usr/bin/vi"); err == nil {
		s.ok("create_agent", map[string]any{"session_id": "t", "name": "vi", "preset": "vi"})
		res = onScreen(t, s, "t/vi", "the file", exactly("line number 000"))
		if res["alt_screen"] != true {
			t.Errorf("vi: alt_screen %v", res["alt_screen"])
		}
		res = s.ok("send_keys", map[string]any{"agent_id": "t/vi", "text": ":q", "keys": []string{"Escape", ":", "q", "Enter"}, "wait_seconds": 10})
		if res["state"] != "exited" {
			t.Errorf("vi after :q: state %v, screen %q", res["state"], screenLines(res))
		}
	}

	s.ok("create_agent", map[string]any{"session_id": "t", "name": "pw", "preset": "secret"})
	onScreen(t, s, "t/pw", "the password prompt", exactly("Password:"))
	res = s.ok("send_keys", map[string]any{"agent_id": "t/pw", "text": "hunter2", "wait_seconds": 5})
	if strings.Contains(strings.Join(screenLines(res), "\n"), "hunter2") {
		t.Errorf("read -s echoed the password: %q", screenLines(res))
	}
	if res["state"] != "waiting_for_input" {
		t.Errorf("at a password prompt: state %v", res["state"])
	}
	res = s.ok("send_keys", map[string]any{"agent_id": "t/pw", "keys": []string{"Enter"}, "wait_for": "got 7 chars", "wait_seconds": 10})
	if res["matched"] != true {
		t.Errorf("the password was not read: %q", screenLines(res))
	}
	// Typed where the terminal did not echo, the password is not in the audit log; what was
	// typed where it echoed is.
	logged := resultJSON(s.ok("audit_query", map[string]any{"action": "key.send", "limit": 100}))
	if strings.Contains(logged, "hunter2") || !strings.Contains(logged, "t/pw") {
		t.Errorf("the audit log of send_keys: %s", logged)
	}
}

func TestE2ETerminalBadInputs(t *testing.T) {
	t.Parallel()
	s, _ := terminalServer(t)
	s.ok("create_agent", map[string]any{"session_id": "t", "name": "c", "preset": "ccat"})
	s.ok("create_agent", map[string]any{"session_id": "t", "name": "pipe", "preset": "echo"})
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"read_agent_screen", map[string]any{"agent_id": "t/pipe"}, "not on a terminal"},
		{"send_keys", map[string]any{"agent_id": "t/pipe", "text": "x"}, "not on a terminal"},
		{"send_keys", map[string]any{"agent_id": "t/c", "keys": []string{"Entr"}}, "not a key name"},
		{"send_keys", map[string]any{"agent_id": "t/c"}, "say what to type"},
		{"send_keys", map[string]any{"agent_id": "t/c", "text": "x", "wait_for": "("}, "not a valid regular expression"},
		{"read_agent_screen", map[string]any{"agent_id": "t/c", "wait_for": "x"}, "wait_for needs wait_seconds"},
		{"read_agent_screen", map[string]any{"agent_id": "t/c", "scrollback": -1}, "scrollback"},
		{"read_agent_screen", map[string]any{"agent_id": "t/nope"}, "no child \"nope\""},
		{"read_agent_output", map[string]any{"agent_id": "t/c", "wait_seconds": 5000}, "wait_seconds is out of range"},
		{"create_agent", map[string]any{"session_id": "t", "preset": "echo", "rows": 10}, "rows and cols size a terminal"},
		{"create_agent", map[string]any{"session_id": "t", "preset": "bash", "rows": 1}, "rows"},
		{"create_agent", map[string]any{"session_id": "t", "preset": "bash", "mode": "tty"}, "mode"},
		{"create_agent", map[string]any{"session_id": "t", "preset": "bash", "mode": "per-message"}, "per-message needs a preset"},
	} {
		if msg := s.fails(c.tool, c.args); !strings.Contains(msg, c.want) {
			t.Errorf("%s %v: %q, want it to say %q", c.tool, c.args, msg, c.want)
		}
	}
	// Nothing was lost: the agents are there and answer.
	if res := s.ok("send_keys", map[string]any{"agent_id": "t/c", "text": "still here", "keys": []string{"Enter"}}); !slices.Contains(screenLines(res), "still here") {
		t.Errorf("after the refusals: %q", screenLines(res))
	}
}

// resultJSON is v as compact JSON, for searching an answer.
func resultJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
