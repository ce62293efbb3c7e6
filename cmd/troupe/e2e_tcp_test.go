package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// TestE2EDaemonOverTCPWithAToken: `troupe daemon --listen 127.0.0.1:0` tells its URL in
// `troupe daemon status --json`; a token from `troupe token create` lets mcp-go's Streamable HTTP
// client call list_sessions; no token gets no session.
func TestE2EDaemonOverTCPWithAToken(t *testing.T) {
	d := startTCPDaemon(t, testutil.ShortDir(t))
	token := d.token(t, "e2e", "write")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	anon, err := client.NewStreamableHttpClient(d.base + "/mcp")
	if err != nil {
		t.Fatal(err)
	}
	// mcp-go answers a 401 with ErrAuthorizationRequired.
	if err := initializeHTTP(anon, "anonymous"); !errors.Is(err, transport.ErrAuthorizationRequired) {
		t.Errorf("initialize without a token: %v, want refused (401: %v)", err, transport.ErrAuthorizationRequired)
	}
	_ = anon.Close()

	c := d.client(t, token, "tcp-e2e")
	res, err := callHTTP(ctx, c, "list_sessions", map[string]any{})
	if err != nil {
		t.Fatalf("list_sessions over TCP: %v", err)
	}
	if res.IsError {
		t.Fatalf("list_sessions over TCP: tool error %s", resultText(res))
	}
}

// TestE2EOwnershipOverTCP: two tokens on one daemon, each over real TCP: neither sees, reads,
// changes, deletes or restores the other's session or snapshot, or reads its audit events; a
// read token changes nothing; a revoked token is refused within a second; /metrics needs audit or
// admin and counts the calls.
func TestE2EOwnershipOverTCP(t *testing.T) {
	d := startTCPDaemon(t, testutil.ShortDir(t))
	alice := d.client(t, d.token(t, "alice", "write"), "alice-client")
	bobToken := d.token(t, "bob", "write")
	bob := d.client(t, bobToken, "bob-client")
	reader := d.client(t, d.token(t, "reader", "read"), "reader-client")
	adminToken := d.token(t, "ops", "admin")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	call := func(c *client.Client, tool string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := callHTTP(ctx, c, tool, args)
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		return res
	}
	text := func(r *mcp.CallToolResult) string { return resultText(r) }

	if r := call(alice, "create_session", map[string]any{"session_id": "hers"}); r.IsError {
		t.Fatalf("alice create_session: %s", text(r))
	}
	missing := text(call(bob, "get_session", map[string]any{"session_id": "nobody"}))
	for _, tc := range []struct {
		tool string
		args map[string]any
	}{
		{"get_session", map[string]any{"session_id": "hers"}},
		{"update_session_state", map[string]any{"session_id": "hers", "set": map[string]any{"k": 1}}},
		{"delete_session", map[string]any{"session_id": "hers"}},
	} {
		r := call(bob, tc.tool, tc.args)
		if !r.IsError || !strings.Contains(text(r), `no session "hers"`) || strings.Replace(text(r), "hers", "nobody", 1) != missing {
			t.Errorf("bob %s(hers) = %q; want word for word what a missing session gets (%q)", tc.tool, text(r), missing)
		}
	}
	if r := call(bob, "list_sessions", map[string]any{}); strings.Contains(text(r), "hers") {
		t.Errorf("bob's list_sessions shows alice's session: %s", text(r))
	}
	del := call(alice, "delete_session", map[string]any{"session_id": "hers"})
	if del.IsError {
		t.Fatalf("alice delete_session: %s", text(del))
	}
	snap, _ := del.StructuredContent.(map[string]any)["snapshot_id"].(string)
	if r := call(bob, "restore_session", map[string]any{"snapshot_id": snap}); !r.IsError || !strings.Contains(text(r), "no snapshot") {
		t.Errorf("bob restore_session(alice's snapshot) = %q, want no snapshot", text(r))
	}
	if r := call(bob, "list_snapshots", map[string]any{}); strings.Contains(text(r), snap) {
		t.Errorf("bob lists alice's snapshot: %s", text(r))
	}
	// bob sees his own attempts on "hers", nothing alice did.
	principals := func(r *mcp.CallToolResult) map[string]int {
		out := map[string]int{}
		events, _ := r.StructuredContent.(map[string]any)["events"].([]any)
		for _, e := range events {
			p, _ := e.(map[string]any)["principal"].(string)
			out[p]++
		}
		return out
	}
	if got := principals(call(bob, "audit_query", map[string]any{"session_id": "hers", "limit": 1000})); got["alice"] != 0 || got["bob"] == 0 {
		t.Errorf("bob's audit_query of hers shows events by principal %v; want only his own attempts", got)
	}
	if r := call(alice, "audit_query", map[string]any{"session_id": "hers"}); strings.HasPrefix(text(r), "0 event(s)") {
		t.Errorf("alice does not see her own audit events: %s", text(r))
	}
	if r := call(reader, "create_session", map[string]any{}); !r.IsError || !strings.Contains(text(r), "scope read") {
		t.Errorf("a read token's create_session = %q, want refused for its scope", text(r))
	}

	// /metrics: audit or admin only; it counts what was called.
	if code, _ := d.scrape(t, bobToken); code != http.StatusForbidden {
		t.Errorf("/metrics with a write token: %d, want 403", code)
	}
	code, body := d.scrape(t, adminToken)
	for _, want := range []string{`troupe_tool_calls_total{outcome="ok",tool="create_session"} 1`, "troupe_daemon_clients", "troupe_audit_fsync_seconds_count", "troupe_store_commit_seconds_count", `troupe_sessions{status="active"}`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics with an admin token: %d, missing %q:\n%s", code, want, body)
		}
	}

	// Revoked: refused within a second.
	revoke := exec.Command(troupeBinary(t), "--data-dir", d.dir, "token", "revoke", "bob")
	revoke.Env = append(os.Environ(), e2eEnv(d.dir)...)
	if out, err := revoke.CombinedOutput(); err != nil {
		t.Fatalf("troupe token revoke bob: %v\n%s", err, out)
	}
	revoked := time.Now()
	testutil.Eventually(t, 5*time.Second, "bob's calls refused after the revoke", func() bool {
		_, err := callHTTP(ctx, bob, "list_sessions", map[string]any{})
		return err != nil
	})
	if took := time.Since(revoked); took > time.Second+500*time.Millisecond {
		t.Errorf("a revoked token was accepted for %v, want refused within about a second", took)
	}
}

// TestE2EEveryScopeAgainstEveryTool: over real TCP, a token of each scope calls every tool the
// daemon lists (with no arguments): read and audit are refused every tool that is not read-only,
// and only those; write and admin are refused none for their scope.
func TestE2EEveryScopeAgainstEveryTool(t *testing.T) {
	d := startTCPDaemon(t, testutil.ShortDir(t))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, scope := range []string{"read", "write", "audit", "admin"} {
		c := d.client(t, d.token(t, "scope-"+scope, scope), "scope-"+scope)
		list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
		if err != nil || len(list.Tools) < 20 {
			t.Fatalf("%s: tools/list: %v (%d tools)", scope, err, len(list.Tools))
		}
		for _, tool := range list.Tools {
			readOnly := tool.Annotations.ReadOnlyHint != nil && *tool.Annotations.ReadOnlyHint
			res, err := callHTTP(ctx, c, tool.Name, map[string]any{})
			if err != nil {
				t.Fatalf("%s %s: %v", scope, tool.Name, err)
			}
			refused := res.IsError && strings.Contains(resultText(res), "changes sessions")
			want := !readOnly && (scope == "read" || scope == "audit")
			if refused != want {
				t.Errorf("scope %s, %s (read-only %v): refused for its scope = %v, want %v (%s)", scope, tool.Name, readOnly, refused, want, resultText(res))
			}
		}
	}
}

// TestE2EPagesCannotReachTheDaemon: a page may not open the daemon's own TCP listener (its MCP
// endpoint), under any loopback name; the URL is refused before Chromium is asked.
func TestE2EPagesCannotReachTheDaemon(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d := startTCPDaemon(t, testutil.ShortDir(t), "--listen", addr)
	c := d.client(t, d.token(t, "pages", "write"), "pages")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if res, err := callHTTP(ctx, c, "create_session", map[string]any{"session_id": "p"}); err != nil || res.IsError {
		t.Fatalf("create_session: %v %v", err, res)
	}
	_, port, _ := net.SplitHostPort(addr)
	for _, u := range []string{"http://" + addr + "/mcp", "http://localhost:" + port + "/healthz"} {
		res, err := callHTTP(ctx, c, "open_page", map[string]any{"session_id": "p", "url": u})
		if err != nil || !res.IsError || !strings.Contains(resultText(res), "not allowed") {
			t.Errorf("open_page(%s) = %v %s; want refused as troupe's own address", u, err, resultText(res))
		}
	}
}
