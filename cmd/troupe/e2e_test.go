package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestE2ESessionsOverStdioSurviveRestartAndKill9(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	created := s.ok("create_session", map[string]any{"session_id": "alpha", "state": map[string]any{"step": 1}, "labels": map[string]any{"k": "v"}})
	if created["session_id"] != "alpha" {
		t.Fatalf("create_session = %v", created)
	}
	gen := s.ok("create_session", nil)["session_id"].(string)
	s.ok("update_session_state", map[string]any{"session_id": "alpha", "set": map[string]any{"step": 2, "notes": "hello"}})
	if msg := s.fails("create_session", map[string]any{"session_id": "alpha"}); !strings.Contains(msg, "already exists") {
		t.Fatalf("duplicate id: %q", msg)
	}
	if msg := s.fails("create_session", map[string]any{"session_id": "no/slash"}); !strings.Contains(msg, "invalid session_id") {
		t.Fatalf("invalid id: %q", msg)
	}

	// An orderly restart (EOF) keeps everything.
	s.stop()
	s = startServer(t, dir)
	got := s.ok("get_session", map[string]any{"session_id": "alpha"})
	if st := got["state"].(map[string]any); st["step"] != 2.0 || st["notes"] != "hello" {
		t.Fatalf("state after restart = %v", got["state"])
	}
	s.ok("get_session", map[string]any{"session_id": gen})

	// A kill -9 loses no answered mutation.
	for i := range 20 {
		s.ok("create_session", map[string]any{"session_id": fmt.Sprintf("k%02d", i)})
		s.ok("update_session_state", map[string]any{"session_id": "alpha", "set": map[string]any{"step": 3 + i}})
	}
	s.ok("delete_session", map[string]any{"session_id": "k00"})
	s.kill9()
	s = startServer(t, dir)
	if st := s.ok("get_session", map[string]any{"session_id": "alpha"})["state"].(map[string]any); st["step"] != 22.0 {
		t.Fatalf("state after kill -9 = %v, want step 22", st)
	}
	sessions := s.ok("list_sessions", nil)["sessions"].([]any)
	if len(sessions) != 21 { // alpha, the generated one, k01..k19
		t.Fatalf("after kill -9: %d sessions, want 21", len(sessions))
	}
	if msg := s.fails("get_session", map[string]any{"session_id": "k00"}); !strings.Contains(msg, "deleted") {
		t.Fatalf("deleted session: %q", msg)
	}
}

func TestE2EFortyConcurrentCreates(t *testing.T) {
	s := startServer(t, t.TempDir())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := s.call("create_session", map[string]any{"session_id": fmt.Sprintf("c%02d", i)})
			if res.IsError {
				mu.Lock()
				failed = append(failed, resultText(res))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d of 40 concurrent creates failed: %v", len(failed), failed)
	}
	if n := len(s.ok("list_sessions", nil)["sessions"].([]any)); n != 40 {
		t.Fatalf("%d sessions, want 40", n)
	}
}

func TestE2ELimitsAndIdleExpiryFromEnvironment(t *testing.T) {
	s := startServer(t, t.TempDir(), "TROUPE_MAX_SESSIONS=2", "TROUPE_SESSION_TIMEOUT=1", "TROUPE_CLEANUP_INTERVAL=0.1")
	s.ok("create_session", map[string]any{"session_id": "one"})
	s.ok("create_session", map[string]any{"session_id": "two", "idle_timeout_seconds": 3600})
	if msg := s.fails("create_session", map[string]any{"session_id": "three"}); !strings.Contains(msg, "limit of 2") {
		t.Fatalf("limit: %q", msg)
	}
	// Poll the metrics, not the session: naming the session is activity and keeps it alive.
	eventually(t, 20*time.Second, "session one expires", func() bool {
		return s.ok("session_metrics", nil)["counters"].(map[string]any)["expired"] == 1.0
	})
	msg := s.fails("get_session", map[string]any{"session_id": "one"})
	if !strings.Contains(msg, "expired at") || !strings.Contains(msg, "restore_session") {
		t.Fatalf("expired message %q should say how to restore", msg)
	}
	s.ok("get_session", map[string]any{"session_id": "two"})
	m := s.ok("session_metrics", nil)
	if m["counters"].(map[string]any)["expired"] != 1.0 {
		t.Fatalf("metrics = %v, want 1 expired", m)
	}
	s.ok("create_session", map[string]any{"session_id": "three"}) // room again
}

// TestE2EStdoutCarriesOnlyJSONRPC sends good, bad and garbage input, and checks that every line
// the server wrote to stdout is a JSON-RPC 2.0 message.
func TestE2EStdoutCarriesOnlyJSONRPC(t *testing.T) {
	for _, mode := range []struct{ name, flag, logged string }{
		{"bridge", "", `"msg":"troupe serve: bridging stdio to the daemon"`},
		{"standalone", "--standalone", `"msg":"troupe serving"`},
	} {
		t.Run(mode.name, func(t *testing.T) { stdoutOnlyJSONRPC(t, mode.flag, mode.logged) })
	}
}

func stdoutOnlyJSONRPC(t *testing.T, flag, logged string) {
	dir := t.TempDir()
	t.Cleanup(func() { stopDaemon(t, dir) })
	args := []string{"serve", "--log-level", "debug"}
	if flag != "" {
		args = append(args, flag)
	}
	cmd := exec.Command(troupeBinary(t), args...)
	cmd.Env = append(cmd.Environ(), "TROUPE_DATA_DIR="+dir, "HOME="+dir)
	cmd.Stdin = strings.NewReader(strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`this is not json`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_session","arguments":{"session_id":"x"}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_session","arguments":{"session_id":7}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/list"}`,
	}, "\n") + "\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("troupe serve: %v\nstderr: %s", err, stderr.String())
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		lines++
		var msg struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil || msg.JSONRPC != "2.0" {
			t.Errorf("stdout line is not JSON-RPC 2.0: %q", sc.Text())
		}
	}
	if lines < 6 {
		t.Fatalf("got %d stdout lines, want an answer to each of the 6 requests (parse error included)", lines)
	}
	if !strings.Contains(stderr.String(), logged) {
		t.Fatalf("logs should go to stderr as JSON; stderr was: %s", stderr.String())
	}
}
