package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/tools"
)

// TestE2EClusterEveryToolFromAnotherNode: every tool, called through a node that does not own the
// session, answers as one node would (the call runs on the owner and comes back), including the
// terminal, page and browser-state tools and a delete with its snapshot restored.
func TestE2EClusterEveryToolFromAnotherNode(t *testing.T) {
	nodes, _, _ := startClusterNodes(t, 2, 5)
	site := webSite(t)
	a, b := nodes[0].mcp(t), nodes[1].mcp(t)
	a.ok("create_session", map[string]any{"session_id": "far", "state": map[string]any{"k": 1}})
	owner := a.ok("get_session", map[string]any{"session_id": "far"})["node"]
	via := a // the node that does not own "far"
	if owner == nodes[0].name {
		via = b
	}
	seen := map[string]bool{}
	ok := func(tool string, args map[string]any) map[string]any {
		t.Helper()
		seen[tool] = true
		return via.ok(tool, args)
	}
	ok("update_session_state", map[string]any{"session_id": "far", "set": map[string]any{"k": 2}})
	if got := ok("get_session", map[string]any{"session_id": "far"}); fmt.Sprint(got["state"]) != "map[k:2]" || got["node"] != owner {
		t.Fatalf("get_session: %v", got)
	}
	ok("create_agent", map[string]any{"session_id": "far", "name": "cat", "preset": "cat"})
	ok("send_to_agent", map[string]any{"agent_id": "far/cat", "message": "over there"})
	eventually(t, 10*time.Second, "the agent's output", func() bool {
		return strings.Contains(fmt.Sprint(ok("read_agent_output", map[string]any{"agent_id": "far/cat"})), "over there")
	})
	ok("create_agent", map[string]any{"session_id": "far", "name": "sh", "preset": "bash"})
	ok("send_keys", map[string]any{"agent_id": "far/sh", "text": "echo far-$((40+2))", "keys": []string{"Enter"}, "wait_for": "^far-42", "wait_seconds": 15})
	if scr := fmt.Sprint(ok("read_agent_screen", map[string]any{"agent_id": "far/sh"})["screen"]); !strings.Contains(scr, "far-42") {
		t.Fatalf("read_agent_screen: %s", scr)
	}
	ok("open_page", map[string]any{"session_id": "far", "name": "form", "url": site + "/form"})
	ok("navigate_page", map[string]any{"page_id": "far/form", "url": site + "/form"})
	ok("page_action", map[string]any{"page_id": "far/form", "action": "fill", "selector": "#q", "text": "routed"})
	if c := fmt.Sprint(ok("page_content", map[string]any{"page_id": "far/form", "format": "text"})); c == "" {
		t.Fatal("page_content: empty")
	}
	seen["screenshot_page"] = true
	if r := via.call("screenshot_page", map[string]any{"page_id": "far/form"}); r.IsError || len(r.Content) == 0 {
		t.Fatalf("screenshot_page: %s", resultText(r))
	}
	ok("set_cookies", map[string]any{"session_id": "far", "cookies": []any{map[string]any{"name": "tok", "value": "far-away", "url": site + "/"}}})
	if ck := fmt.Sprint(ok("get_cookies", map[string]any{"session_id": "far", "url": site + "/"})["cookies"]); !strings.Contains(ck, "far-away") {
		t.Fatalf("get_cookies: %s", ck)
	}
	exported := ok("export_browser_state", map[string]any{"session_id": "far"})["state"]
	ok("import_browser_state", map[string]any{"session_id": "far", "state": exported})
	if cr := ok("crawl_url", map[string]any{"url": site + "/echo-cookies", "session_id": "far", "format": "text"}); !strings.Contains(fmt.Sprint(cr["text"]), "tok=far-away") {
		t.Fatalf("crawl_url with the session's cookies: %v", cr["text"])
	}
	ok("close_page", map[string]any{"page_id": "far/form"})
	ok("delete_agent", map[string]any{"agent_id": "far/cat"})
	clone := ok("clone_session", map[string]any{"session_id": "far", "new_session_id": "far2"})
	if clone["node"] != owner {
		t.Errorf("the clone runs on %v, want its source's node %v", clone["node"], owner)
	}
	if l := ok("list_sessions", map[string]any{}); len(l["sessions"].([]any)) != 2 {
		t.Fatalf("list_sessions: %v", l)
	}
	if m := ok("session_metrics", map[string]any{}); m["total_sessions"] != float64(2) {
		t.Fatalf("session_metrics: %v", m)
	}
	del := ok("delete_session", map[string]any{"session_id": "far", "force": true})
	if l := fmt.Sprint(ok("list_snapshots", map[string]any{"session_id": "far"})); !strings.Contains(l, del["snapshot_id"].(string)) {
		t.Fatalf("list_snapshots: %s", l)
	}
	ok("restore_session", map[string]any{"snapshot_id": del["snapshot_id"]})
	if got := ok("get_session", map[string]any{"session_id": "far"}); fmt.Sprint(got["state"]) != "map[k:2]" {
		t.Fatalf("restored: %v", got["state"])
	}
	ok("audit_query", map[string]any{"action": "session.*", "since": "1h"})
	// Every tool was called through the other node.
	var missing []string
	for _, name := range toolNames() {
		if !seen[name] && name != "create_session" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("tools not tried through the other node: %v", missing)
	}
}

// toolNames lists every tool of the registry.
func toolNames() []string {
	var out []string
	for _, tl := range tools.All(tools.Deps{}) {
		out = append(out, tl.Tool.Name)
	}
	return out
}
