package tools

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/principal"
)

var (
	alice   = principal.Principal{Name: "alice", Scope: principal.Write}
	bob     = principal.Principal{Name: "bob", Scope: principal.Write}
	reader  = principal.Principal{Name: "reader", Scope: principal.Read}
	auditor = principal.Principal{Name: "auditor", Scope: principal.Audit}
	admin   = principal.Principal{Name: "root", Scope: principal.Admin}
)

// callAs invokes a tool for principal p (as the daemon's HTTP layer does for a token).
func callAs(t *testing.T, c *client.Client, p principal.Principal, tool, args string) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = json.RawMessage(args)
	res, err := c.CallTool(principal.With(context.Background(), p), req)
	if err != nil {
		t.Fatalf("%s as %s: protocol error %v", tool, p.Name, err)
	}
	return res
}

// sameAsMissing checks that what p is told about someone else's id is word for word what it is
// told about an id that names nothing.
func sameAsMissing(t *testing.T, c *client.Client, p principal.Principal, tool, argsFmt, theirs, missing string) {
	t.Helper()
	got := callAs(t, c, p, tool, strings.ReplaceAll(argsFmt, "ID", theirs))
	want := callAs(t, c, p, tool, strings.ReplaceAll(argsFmt, "ID", missing))
	mustFail(t, got)
	mustFail(t, want)
	if g, w := strings.ReplaceAll(resultText(got), theirs, missing), resultText(want); g != w {
		t.Errorf("%s(%s) as %s leaks: %q, while a missing one answers %q", tool, theirs, p.Name, resultText(got), w)
	}
}

func sessionIDs(t *testing.T, r *mcp.CallToolResult) []string {
	t.Helper()
	var ids []string
	for _, s := range mustOK(t, r)["sessions"].([]any) {
		ids = append(ids, s.(map[string]any)["session_id"].(string))
	}
	return ids
}

func TestOwnershipAndScopes(t *testing.T) {
	dir := t.TempDir()
	c, log := auditedClient(t, dir, nil)

	// alice's session; bob has one of his own.
	created := mustOK(t, callAs(t, c, alice, "create_session", `{"session_id":"al"}`))
	if created["owner"] != "alice" {
		t.Fatalf("owner = %v, want alice", created["owner"])
	}
	mustOK(t, callAs(t, c, bob, "create_session", `{"session_id":"bo"}`))
	mustOK(t, callAs(t, c, alice, "update_session_state", `{"session_id":"al","set":{"k":1}}`))

	// bob cannot see, read, change or delete alice's session, its agents or pages: each answers
	// as a missing one does.
	for _, tc := range []struct{ tool, args string }{
		{"get_session", `{"session_id":"ID"}`},
		{"update_session_state", `{"session_id":"ID","set":{"k":2}}`},
		{"delete_session", `{"session_id":"ID"}`},
		{"get_cookies", `{"session_id":"ID"}`},
		{"read_agent_output", `{"agent_id":"ID/agent-1"}`},
		{"send_to_agent", `{"agent_id":"ID/agent-1","message":"hi"}`},
		{"page_content", `{"page_id":"ID/page-1"}`},
		{"close_page", `{"page_id":"ID/page-1"}`},
	} {
		sameAsMissing(t, c, bob, tc.tool, tc.args, "al", "zz")
	}
	if ids := sessionIDs(t, callAs(t, c, bob, "list_sessions", `{}`)); len(ids) != 1 || ids[0] != "bo" {
		t.Errorf("bob lists %v, want only his own [bo]", ids)
	}
	if m := mustOK(t, callAs(t, c, bob, "session_metrics", `{}`)); m["total_sessions"] != float64(1) {
		t.Errorf("bob's session_metrics counts %v sessions, want 1 (his own)", m["total_sessions"])
	}
	got := mustOK(t, callAs(t, c, alice, "get_session", `{"session_id":"al"}`))
	if string(mustJSON(t, got["state"])) != `{"k":1}` {
		t.Errorf("alice's state = %s after bob's attempts, want {\"k\":1}", mustJSON(t, got["state"]))
	}

	// Snapshots: bob cannot list or restore alice's; her deleted session is unknown to him.
	del := mustOK(t, callAs(t, c, alice, "delete_session", `{"session_id":"al"}`))
	snap := del["snapshot_id"].(string)
	sameAsMissing(t, c, bob, "restore_session", `{"snapshot_id":"ID"}`, snap, "snap-20260101T000000Z-zzzz")
	sameAsMissing(t, c, bob, "get_session", `{"session_id":"ID"}`, "al", "zz")
	mustFail(t, callAs(t, c, alice, "get_session", `{"session_id":"al"}`), "was deleted")
	if n := len(mustOK(t, callAs(t, c, bob, "list_snapshots", `{}`))["snapshots"].([]any)); n != 0 {
		t.Errorf("bob lists %d snapshots, want none of alice's", n)
	}
	if n := len(mustOK(t, callAs(t, c, alice, "list_snapshots", `{}`))["snapshots"].([]any)); n != 1 {
		t.Errorf("alice lists %d snapshots, want 1", n)
	}
	restored := mustOK(t, callAs(t, c, alice, "restore_session", `{"snapshot_id":"`+snap+`"}`))
	if restored["owner"] != "alice" {
		t.Errorf("restored owner = %v, want alice", restored["owner"])
	}

	// read: reads its own, changes nothing.
	mustFail(t, callAs(t, c, reader, "create_session", `{}`), "changes sessions", "scope read")
	if ids := sessionIDs(t, callAs(t, c, reader, "list_sessions", `{}`)); len(ids) != 0 {
		t.Errorf("reader lists %v, want nothing", ids)
	}
	sameAsMissing(t, c, reader, "get_session", `{"session_id":"ID"}`, "al", "zz")

	// audit: reads every session, changes none.
	if ids := sessionIDs(t, callAs(t, c, auditor, "list_sessions", `{}`)); len(ids) != 2 {
		t.Errorf("auditor lists %v, want both sessions", ids)
	}
	mustOK(t, callAs(t, c, auditor, "get_session", `{"session_id":"al"}`))
	mustFail(t, callAs(t, c, auditor, "update_session_state", `{"session_id":"al","set":{"k":3}}`), "scope audit")
	mustFail(t, callAs(t, c, auditor, "delete_session", `{"session_id":"al"}`), "scope audit")

	// admin: everything on everyone's.
	mustOK(t, callAs(t, c, admin, "update_session_state", `{"session_id":"al","set":{"k":4}}`))
	mustOK(t, callAs(t, c, admin, "delete_session", `{"session_id":"bo"}`))

	// The audit log names the principal of every event; each sees only its own events.
	waitUntil(t, func() bool {
		evs, _ := audit.Query(log.Dir(), audit.Filter{Principal: "root"})
		return len(evs) >= 4
	})
	evs, err := audit.Query(log.Dir(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Principal == "" {
			t.Errorf("event #%d %s has no principal", e.Seq, e.Action)
		}
	}
	aliceSees := mustOK(t, callAs(t, c, alice, "audit_query", `{"limit":1000}`))["events"].([]any)
	bobSees := mustOK(t, callAs(t, c, bob, "audit_query", `{"limit":1000}`))["events"].([]any)
	auditorSees := mustOK(t, callAs(t, c, auditor, "audit_query", `{"limit":1000}`))["events"].([]any)
	if len(aliceSees) == 0 || len(bobSees) == 0 || len(auditorSees) <= len(aliceSees) {
		t.Fatalf("alice sees %d events, bob %d, the auditor %d: want each some, the auditor more", len(aliceSees), len(bobSees), len(auditorSees))
	}
	for _, raw := range bobSees {
		e := raw.(map[string]any)
		if e["session"] == "al" && e["principal"] != "bob" || e["principal"] == "alice" {
			t.Errorf("bob sees an event of alice's: %v", e)
		}
	}
	sawAdminOnHers := false
	for _, raw := range aliceSees {
		e := raw.(map[string]any)
		if e["principal"] != "alice" && e["session"] != "al" {
			t.Errorf("alice sees an event neither hers nor of her session: %v", e)
		}
		sawAdminOnHers = sawAdminOnHers || e["principal"] == "root"
	}
	if !sawAdminOnHers {
		t.Error("alice does not see what the admin did to her session")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestScopesAgainstEveryTool: every tool that changes something is refused to read and audit
// principals before it runs, whatever its arguments; every read-only tool is not.
func TestScopesAgainstEveryTool(t *testing.T) {
	c, _ := auditedClient(t, t.TempDir(), nil)
	for _, tool := range All(Deps{}) {
		for _, p := range []principal.Principal{reader, auditor} {
			res := callAs(t, c, p, tool.Tool.Name, `{}`)
			refused := res.IsError && strings.Contains(resultText(res), "changes sessions")
			if refused != tool.Mutating() {
				t.Errorf("%s as %s (scope %s): refused=%v, want %v (%s)", tool.Tool.Name, p.Name, p.Scope, refused, tool.Mutating(), resultText(res))
			}
		}
	}
}
