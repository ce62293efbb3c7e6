package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/audit"
)

const deletePresets = agentPresets + `
[presets.stubborn]
command = "sh"
args = ["-c", "trap '' TERM; echo ready; sleep 1717"]
`

func deleteServer(t *testing.T, dir string) *troupeProc {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(deletePresets), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServer(t, dir, "TROUPE_LOG_LEVEL=warn")
}

func TestE2EDeleteWithProgressPreservationAndRestore(t *testing.T) {
	dir := t.TempDir()
	s := deleteServer(t, dir)
	ws := s.ok("create_session", map[string]any{"session_id": "d", "state": map[string]any{"k": "v"}})["workspace"].(string)
	if err := os.WriteFile(filepath.Join(ws, "draft.md"), []byte("half-written"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"one", "two", "three"} {
		s.ok("create_agent", map[string]any{"session_id": "d", "name": n, "preset": "echo"})
	}
	var mu sync.Mutex
	var progress []string
	s.c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" {
			mu.Lock()
			progress = append(progress, n.Params.AdditionalFields["message"].(string))
			mu.Unlock()
		}
	})
	req := mcp.CallToolRequest{}
	req.Params.Name = "delete_session"
	req.Params.Arguments = map[string]any{"session_id": "d"}
	req.Params.Meta = &mcp.Meta{ProgressToken: "del-1"}
	res, err := s.c.CallTool(context.Background(), req)
	if err != nil || res.IsError {
		t.Fatalf("delete_session: %v %v", err, res)
	}
	mu.Lock()
	got := append([]string(nil), progress...)
	mu.Unlock()
	// The last step, "session deleted", is the answer itself: no notification for it
	// (mcpx.Progress.Report), so that none arrives with the answer.
	if len(got) != 5 || !strings.HasPrefix(got[0], "snapshot") || got[2] != "d/three stopped" || got[4] != "d/one stopped" {
		t.Fatalf("progress before the result = %q, want 5 steps, children newest first", got)
	}
	out := res.StructuredContent.(map[string]any)
	if strings.Join(anyStrings(out["stopped"]), " ") != "d/three d/two d/one" {
		t.Fatalf("stopped = %v", out["stopped"])
	}
	preserved := out["preserved"].(map[string]any)
	if preserved["kind"] != "archive" {
		t.Fatalf("preserved = %v, want an archive of the troupe-created workspace", preserved)
	}
	if _, err := os.Stat(ws); !os.IsNotExist(err) {
		t.Fatalf("workspace still there after archiving: %v", err)
	}
	snapID := out["snapshot_id"].(string)
	snaps := s.ok("list_snapshots", map[string]any{"session_id": "d"})["snapshots"].([]any)
	if len(snaps) != 1 || snaps[0].(map[string]any)["snapshot_id"] != snapID {
		t.Fatalf("list_snapshots = %v", snaps)
	}
	restored := s.ok("restore_session", map[string]any{"snapshot_id": snapID})
	if restored["state"].(map[string]any)["k"] != "v" || len(restored["children"].([]any)) != 3 {
		t.Fatalf("restored = %v", restored)
	}
	if data, err := os.ReadFile(filepath.Join(restored["workspace"].(string), "draft.md")); err != nil || string(data) != "half-written" {
		t.Fatalf("restored workspace: %q %v", data, err)
	}
	s.ok("send_to_agent", map[string]any{"agent_id": "d/two", "message": "back", "wait_seconds": 10})
	if msg := s.fails("restore_session", map[string]any{"snapshot_id": snapID}); !strings.Contains(msg, "another id") {
		t.Fatalf("restore over a live id: %q", msg)
	}
	if msg := s.fails("restore_session", map[string]any{"snapshot_id": "snap-none"}); !strings.Contains(msg, "list_snapshots") {
		t.Fatalf("unknown snapshot: %q", msg)
	}
	if msg := s.fails("restore_session", map[string]any{}); !strings.Contains(msg, "snapshot_id is required") {
		t.Fatalf("missing snapshot: %q", msg)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestE2EKill9DuringDelete crashes the server in the middle of a cascade: after a restart the
// session is deleted with its snapshot, and no process of its agents is alive.
func TestE2EKill9DuringDelete(t *testing.T) {
	dir := t.TempDir()
	s := deleteServer(t, dir)
	s.ok("create_session", map[string]any{"session_id": "x", "state": map[string]any{"keep": true}})
	var pids []int
	for _, n := range []string{"s1", "s2", "s3"} {
		a := s.ok("create_agent", map[string]any{"session_id": "x", "name": n, "preset": "stubborn"})
		pids = append(pids, int(a["pid"].(float64)))
		outputText(s, "x/"+n, "ready")
	}
	go func() {
		req := mcp.CallToolRequest{}
		req.Params.Name = "delete_session"
		req.Params.Arguments = map[string]any{"session_id": "x", "grace_seconds": 3}
		_, _ = s.c.CallTool(context.Background(), req) // cut off by the crash
	}()
	eventually(t, 20*time.Second, "the first child stops", func() bool {
		evs, _ := audit.Query(filepath.Join(dir, audit.DirName), audit.Filter{Action: "child.stop"})
		return len(evs) >= 1
	})
	s.kill9()
	s = deleteServer(t, dir)
	// The interrupted delete is finished in the background (ending the processes of the
	// crashed run takes their grace period); meanwhile the session shows as being deleted.
	var msg string
	eventually(t, 30*time.Second, "the interrupted delete finishes", func() bool {
		msg = s.fails("get_session", map[string]any{"session_id": "x"})
		return !strings.Contains(msg, "being deleted")
	})
	if !strings.Contains(msg, "was deleted") || !strings.Contains(msg, "restore_session") {
		t.Fatalf("after the crash: %q, want it deleted with its snapshot", msg)
	}
	snaps := s.ok("list_snapshots", map[string]any{"session_id": "x"})["snapshots"].([]any)
	if len(snaps) != 1 || len(snaps[0].(map[string]any)["children"].([]any)) != 3 {
		t.Fatalf("snapshots = %v", snaps)
	}
	eventually(t, 20*time.Second, "no agent process of the crashed run is alive", func() bool {
		for _, p := range pids {
			if alive(p) {
				return false
			}
		}
		return !anyStubbornSleep(t)
	})
	r := s.ok("restore_session", map[string]any{"snapshot_id": snaps[0].(map[string]any)["snapshot_id"]})
	if r["state"].(map[string]any)["keep"] != true {
		t.Fatalf("restored = %v", r)
	}
}

// anyStubbornSleep reports whether a "sleep 1717" of the stubborn preset still runs.
func anyStubbornSleep(t *testing.T) bool {
	out, _ := exec.Command("sh", "-c", "ps -eo stat,args | grep -v grep | grep -v '^Z' | grep -c 'sleep 1717'").Output()
	return strings.TrimSpace(string(out)) != "0"
}
