package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/daemon"
)

// writePresets puts the agent presets of the tests in the data dir's troupe.toml.
func writePresets(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(agentPresets), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestE2EDaemonKeepsAgentsAndPagesWhenTheClientLeaves: a client creates a session with an
// interactive agent and a page, then quits (EOF) or is killed with its bridge; the agent's process
// lives on and its output is still recorded, and a new client sees the session, sends to the
// agent and reads the page.
func TestE2EDaemonKeepsAgentsAndPagesWhenTheClientLeaves(t *testing.T) {
	site, dir := webSite(t), t.TempDir()
	writePresets(t, dir)
	for _, leave := range []string{"eof", "kill-9"} {
		t.Run(leave, func(t *testing.T) {
			s := startServer(t, dir, "TROUPE_LOG_LEVEL=warn")
			sid := "keep-" + leave
			s.ok("create_session", map[string]any{"session_id": sid})
			pid := int(s.ok("create_agent", map[string]any{"session_id": sid, "name": "cat", "preset": "echo"})["pid"].(float64))
			s.ok("open_page", map[string]any{"session_id": sid, "name": "p", "url": site + "/about"})
			s.ok("send_to_agent", map[string]any{"agent_id": sid + "/cat", "message": "before leaving", "wait_seconds": 10})
			daemons := daemonPIDs(dir)
			if leave == "eof" {
				s.detach()
			} else {
				s.killBridge()
			}
			time.Sleep(300 * time.Millisecond) // long enough for a dying parent to take its children along
			if !alive(pid) {
				t.Fatalf("the agent (pid %d) died with its client", pid)
			}
			if now := daemonPIDs(dir); len(now) != 1 || now[0] != daemons[0] {
				t.Fatalf("daemons %v after the client left, want %v", now, daemons)
			}

			s = startServer(t, dir, "TROUPE_LOG_LEVEL=warn")
			kids := s.ok("get_session", map[string]any{"session_id": sid})["children"].([]any)
			if len(kids) != 2 {
				t.Fatalf("children seen by the next client: %v", kids)
			}
			s.ok("send_to_agent", map[string]any{"agent_id": sid + "/cat", "message": "after coming back", "wait_seconds": 10})
			if text := outputText(s, sid+"/cat", "after coming back"); !strings.Contains(text, "before leaving") {
				t.Fatalf("output lost across clients: %q", text)
			}
			if got := s.pageText(sid+"/p", "text"); got != "about us" {
				t.Fatalf("page read by the next client: %q", got)
			}
			if !alive(pid) {
				t.Fatalf("the agent's process changed: pid %d ended", pid)
			}
			s.detach()
		})
	}
}

// TestE2EDaemonTwoClientsShareSessions: two clients at once; one creates, the other lists and
// changes; each sees the other's work, and the audit log names both.
func TestE2EDaemonTwoClientsShareSessions(t *testing.T) {
	dir := t.TempDir()
	a := startClient(t, dir, "client-a", "TROUPE_LOG_LEVEL=warn")
	b := startClient(t, dir, "client-b", "TROUPE_LOG_LEVEL=warn")
	if pids := daemonPIDs(dir); len(pids) != 1 {
		t.Fatalf("two clients of one data dir run %d daemons, want 1", len(pids))
	}
	a.ok("create_session", map[string]any{"session_id": "shared", "state": map[string]any{"by": "a"}})
	listed := b.ok("list_sessions", nil)["sessions"].([]any)
	if len(listed) != 1 || listed[0].(map[string]any)["session_id"] != "shared" {
		t.Fatalf("client b lists %v", listed)
	}
	b.ok("update_session_state", map[string]any{"session_id": "shared", "set": map[string]any{"seen_by": "b"}})
	if st := a.ok("get_session", map[string]any{"session_id": "shared"})["state"].(map[string]any); st["seen_by"] != "b" {
		t.Fatalf("client a does not see b's change: %v", st)
	}
	out, _, code := auditCLI(t, "audit", "query", "--data-dir", dir, "--json", "--session", "shared")
	if code != 0 {
		t.Fatalf("audit query exit %d: %s", code, out)
	}
	byAction := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct {
			Action string `json:"action"`
			Actor  *struct {
				Transport  string `json:"transport"`
				ClientName string `json:"client_name"`
			} `json:"actor"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Actor != nil {
			byAction[ev.Action] = ev.Actor.ClientName + "/" + ev.Actor.Transport
		}
	}
	if byAction["session.create"] != "client-a/http" || byAction["session_state.update"] != "client-b/http" {
		t.Fatalf("audit actors by action = %v, want session.create by client-a and the update by client-b, over the daemon's http", byAction)
	}
}

// rawBridge is a `troupe serve` process driven with raw JSON-RPC lines.
type rawBridge struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

func startRawBridge(t *testing.T, dir string, env ...string) *rawBridge {
	t.Helper()
	cmd := exec.Command(troupeBinary(t), "serve")
	cmd.Env = append(os.Environ(), e2eEnv(dir, env...)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rb := &rawBridge{cmd: cmd, in: in, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			rb.lines <- sc.Text()
		}
		close(rb.lines)
	}()
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Wait()
	})
	return rb
}

// send writes one message to the bridge.
func (rb *rawBridge) send(t *testing.T, msg string) {
	t.Helper()
	if _, err := io.WriteString(rb.in, msg+"\n"); err != nil {
		t.Fatalf("write to the bridge: %v", err)
	}
}

// answer waits for the answer with the id, skipping notifications.
func (rb *rawBridge) answer(t *testing.T, id int) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-rb.lines:
			if !ok {
				t.Fatalf("the bridge closed stdout before answering %d", id)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("stdout line is not JSON: %q", line)
			}
			if m["id"] == float64(id) {
				return m
			}
		case <-timeout:
			t.Fatalf("no answer to %d within 30 s", id)
		}
	}
}

// TestE2EBridgesStartedTogetherShareOneDaemon: two bridges started in the same instant with no
// daemon running end with exactly one daemon, and both answer.
func TestE2EBridgesStartedTogetherShareOneDaemon(t *testing.T) {
	for round := range 3 {
		dir := t.TempDir()
		t.Cleanup(func() { stopDaemon(t, dir) })
		bridges := []*rawBridge{startRawBridge(t, dir), startRawBridge(t, dir)}
		var wg sync.WaitGroup
		for i, rb := range bridges {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rb.send(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b%d","version":"1"}}}`, i))
				rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
				rb.send(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_session","arguments":{"session_id":"s%d"}}}`, i))
			}()
		}
		wg.Wait()
		for i, rb := range bridges {
			if res := rb.answer(t, 2)["result"].(map[string]any); res["isError"] == true {
				t.Fatalf("round %d, bridge %d: %v", round, i, res)
			}
		}
		if pids := daemonPIDs(dir); len(pids) != 1 {
			t.Fatalf("round %d: %d daemons for one data dir, want exactly 1 (%v)", round, len(pids), pids)
		}
	}
}

// TestE2EBridgeSpeaksBothProtocolEras: a 2025-11-25 client (initialize, then calls) and a
// 2026-07-28 client (no initialize; version and client info in every request's _meta) both work
// through the bridge, and the audit log names each client as it named itself.
func TestE2EBridgeSpeaksBothProtocolEras(t *testing.T) {
	dir := t.TempDir()
	t.Cleanup(func() { stopDaemon(t, dir) })
	legacy := startRawBridge(t, dir)
	legacy.send(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"legacy-client","version":"7"}}}`)
	if v := legacy.answer(t, 1)["result"].(map[string]any)["protocolVersion"]; v != "2025-11-25" {
		t.Fatalf("negotiated %v, want 2025-11-25", v)
	}
	legacy.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	legacy.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_session","arguments":{"session_id":"legacy"}}}`)
	if res := legacy.answer(t, 2)["result"].(map[string]any); res["isError"] == true {
		t.Fatalf("legacy create_session: %v", res)
	}

	modern := startRawBridge(t, dir)
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"modern-client","version":"9"},"io.modelcontextprotocol/clientCapabilities":{}}`
	modern.send(t, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_session","arguments":{"session_id":"modern"},`+meta+`}}`)
	if ans := modern.answer(t, 1); ans["result"] == nil || ans["result"].(map[string]any)["isError"] == true {
		t.Fatalf("modern create_session: %v", ans)
	}
	modern.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_sessions","arguments":{},`+meta+`}}`)
	res := modern.answer(t, 2)["result"].(map[string]any)
	if n := len(res["structuredContent"].(map[string]any)["sessions"].([]any)); n != 2 {
		t.Fatalf("the modern client lists %d sessions, want both", n)
	}

	out, _, code := auditCLI(t, "audit", "query", "--data-dir", dir, "--json", "--action", "session.create")
	if code != 0 {
		t.Fatalf("audit query exit %d: %s", code, out)
	}
	for _, want := range []string{`"client_name":"legacy-client","client_version":"7","protocol_version":"2025-11-25"`, `"client_name":"modern-client","client_version":"9","protocol_version":"2026-07-28"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the audit log does not name the client as %s:\n%s", want, out)
		}
	}
}

// TestE2EDaemonKilledMidCall: the bridge's pending call gets a clear error when its daemon dies;
// the next call starts a new daemon, which recovers as any restart does: no process of the
// crashed run is left, the session and its recorded output are kept.
func TestE2EDaemonKilledMidCall(t *testing.T) {
	dir := t.TempDir()
	writePresets(t, dir)
	s := startServer(t, dir, "TROUPE_LOG_LEVEL=warn")
	s.ok("create_session", map[string]any{"session_id": "k"})
	s.ok("create_agent", map[string]any{"session_id": "k", "name": "cat", "preset": "echo"})
	s.ok("send_to_agent", map[string]any{"agent_id": "k/cat", "message": "kept", "wait_seconds": 10})
	s.ok("create_agent", map[string]any{"session_id": "k", "name": "slow", "preset": "slow"})
	// The tree's grandchildren outlive a crash of the daemon until the next one ends them.
	pids := []int{int(s.ok("create_agent", map[string]any{"session_id": "k", "name": "tree", "preset": "tree"})["pid"].(float64))}
	eventually(t, 10*time.Second, "grandchildren reported", func() bool {
		return len(strings.Fields(outputText(s, "k/tree", "\n"))) == 2
	})
	for _, f := range strings.Fields(outputText(s, "k/tree", "\n")) {
		n, _ := strconv.Atoi(f)
		pids = append(pids, n)
	}
	old := daemonPIDs(dir)
	if len(old) != 1 {
		t.Fatalf("daemons %v", old)
	}
	pending := make(chan string, 1)
	go func() {
		pending <- s.fails("send_to_agent", map[string]any{"agent_id": "k/slow", "message": "x", "wait_seconds": 20})
	}()
	time.Sleep(time.Second)
	killDaemon9(t, dir, old[0])
	select {
	case msg := <-pending:
		if !strings.Contains(msg, "daemon") {
			t.Fatalf("the pending call's error does not say the daemon went away: %q", msg)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the pending call was not answered after its daemon died")
	}
	sessions := s.ok("list_sessions", nil)["sessions"].([]any)
	if len(sessions) != 1 {
		t.Fatalf("after the crash: %v", sessions)
	}
	if now := daemonPIDs(dir); len(now) != 1 || now[0] == old[0] {
		t.Fatalf("daemons after the next call: %v (the killed one was %d)", now, old[0])
	}
	eventually(t, 20*time.Second, "no process of the crashed run is alive", func() bool {
		for _, p := range pids {
			if alive(p) {
				return false
			}
		}
		return true
	})
	if text := outputText(s, "k/cat", "kept"); !strings.Contains(text, "kept") {
		t.Fatalf("output after the crash: %q", text)
	}
}

// TestE2EDaemonIdleExit: with a short daemon_idle_exit the daemon stays while a client is
// connected or a child runs, and exits once neither holds it.
func TestE2EDaemonIdleExit(t *testing.T) {
	dir := t.TempDir()
	writePresets(t, dir)
	env := []string{"TROUPE_LOG_LEVEL=warn", "TROUPE_DAEMON_IDLE_EXIT=1"}
	s := startServer(t, dir, env...)
	pids := daemonPIDs(dir)
	if len(pids) != 1 {
		t.Fatalf("daemons %v", pids)
	}
	time.Sleep(3 * time.Second)
	if !alive(pids[0]) {
		t.Fatal("the daemon exited while a client was connected")
	}
	s.ok("create_session", map[string]any{"session_id": "i"})
	s.ok("create_agent", map[string]any{"session_id": "i", "name": "cat", "preset": "echo"})
	s.detach()
	time.Sleep(3 * time.Second)
	if !alive(pids[0]) {
		t.Fatal("the daemon exited while an agent was running")
	}
	s = startServer(t, dir, env...)
	if now := daemonPIDs(dir); len(now) != 1 || now[0] != pids[0] {
		t.Fatalf("daemons %v, want the same %d", now, pids[0])
	}
	s.ok("delete_agent", map[string]any{"agent_id": "i/cat", "force": true})
	s.detach()
	eventually(t, 15*time.Second, "the idle daemon exits by itself", func() bool { return !alive(pids[0]) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := daemon.GetStatus(ctx, daemon.HTTPClient(dir)); err != daemon.ErrNotRunning {
		t.Fatalf("status after the idle exit: %v, want not running", err)
	}
	if _, err := os.Stat(filepath.Join(dir, daemon.SocketName)); !os.IsNotExist(err) {
		t.Fatalf("the idle daemon left its socket: %v", err)
	}
}

// TestE2EBridgeRelaysCancellation: a client's notifications/cancelled passes the bridge after its
// request and ends the call in the daemon.
func TestE2EBridgeRelaysCancellation(t *testing.T) {
	dir := t.TempDir()
	writePresets(t, dir)
	t.Cleanup(func() { stopDaemon(t, dir) })
	rb := startRawBridge(t, dir)
	rb.send(t, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`)
	rb.answer(t, 1)
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	rb.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_session","arguments":{"session_id":"s"}}}`)
	rb.answer(t, 2) // calls run concurrently: wait before using the session
	rb.send(t, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_agent","arguments":{"session_id":"s","name":"a","preset":"slow"}}}`)
	if res := rb.answer(t, 3)["result"].(map[string]any); res["isError"] == true {
		t.Fatalf("create_agent: %v", res)
	}
	rb.send(t, `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"send_to_agent","arguments":{"agent_id":"s/a","message":"x","wait_seconds":25}}}`)
	time.Sleep(500 * time.Millisecond)
	rb.send(t, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":4,"reason":"test"}}`)
	// Uncancelled, the call would answer after its 25 s wait without "cancelled" (answer waits 30 s).
	res, _ := json.Marshal(rb.answer(t, 4))
	if !strings.Contains(string(res), "cancelled") {
		t.Fatalf("the cancelled call answered %s", res)
	}
}
