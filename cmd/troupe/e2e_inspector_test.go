package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// inspectorCLI is Node 22 and the official MCP Inspector's launcher, installed by scripts/deps.sh.
func inspectorCLI(t *testing.T) (node, cli string) {
	t.Helper()
	return nodeModuleFile(t, "the MCP Inspector", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js")
}

// inspect runs `inspector --cli ARGS` with a home of its own (its catalog, no keychain) and
// returns its stdout, its stderr and whether it exited 0.
func inspect(t *testing.T, home string, args ...string) (map[string]any, string, bool) {
	t.Helper()
	node, cli := inspectorCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{cli, "--cli"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "MCP_INSPECTOR_SECRET_STORE=memory")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var m map[string]any
	if jerr := json.Unmarshal(out, &m); jerr != nil && err == nil {
		t.Fatalf("inspector %s: output is not JSON (%v): %s\nstderr: %s", strings.Join(args, " "), jerr, out, stderr.String())
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, string(out) + stderr.String(), err == nil
}

// checkInspectorTools checks a tools/list answer of the Inspector.
func checkInspectorTools(t *testing.T, how string, m map[string]any) {
	t.Helper()
	tools, _ := m["tools"].([]any)
	names := map[string]bool{}
	for _, tool := range tools {
		name, _ := tool.(map[string]any)["name"].(string)
		names[name] = true
	}
	for _, want := range []string{"create_session", "get_session", "delete_session", "open_page", "audit_query"} {
		if !names[want] {
			t.Errorf("%s: the Inspector lists %d tools without %s", how, len(tools), want)
		}
	}
	if len(tools) < 20 {
		t.Errorf("%s: the Inspector lists %d tools, want at least 20", how, len(tools))
	}
}

// TestE2EInspectorCLIOverStdio: the official MCP Inspector's CLI launches `troupe serve` as
// Claude Desktop does; tools/list passes its --strict schema portability check, and a session it
// creates is there in the next run (the daemon kept it).
func TestE2EInspectorCLIOverStdio(t *testing.T) {
	dir := testutil.ShortDir(t)
	t.Cleanup(func() { stopDaemon(t, dir) })
	env := []string{}
	for _, kv := range e2eEnv(dir) {
		env = append(env, "-e", kv)
	}
	server := append(env, "--", troupeBinary(t), "serve")
	run := func(args ...string) map[string]any {
		t.Helper()
		m, out, ok := inspect(t, dir, append(args, server...)...)
		if !ok {
			t.Fatalf("inspector %s: failed:\n%s", strings.Join(args, " "), out)
		}
		return m
	}
	checkInspectorTools(t, "stdio", run("--method", "tools/list", "--strict"))
	created := run("--method", "tools/call", "--tool-name", "create_session", "--tool-arg", "session_id=insp")
	if sc, _ := created["structuredContent"].(map[string]any); sc["session_id"] != "insp" || created["isError"] == true {
		t.Fatalf("create_session through the Inspector: %v", created)
	}
	got := run("--method", "tools/call", "--tool-name", "get_session", "--tool-arg", "session_id=insp")
	if sc, _ := got["structuredContent"].(map[string]any); sc["status"] != "active" || sc["owner"] != "local" {
		t.Fatalf("get_session through the Inspector (a second bridge): %v", got)
	}
}

// TestE2EInspectorCLIOverHTTP: the Inspector's CLI over Streamable HTTP with a bearer token
// (--header) lists the tools and calls them; without a valid token it is refused.
func TestE2EInspectorCLIOverHTTP(t *testing.T) {
	dir := testutil.ShortDir(t)
	d := startTCPDaemon(t, dir)
	url := d.base + "/mcp"
	auth := "Authorization: Bearer " + d.token(t, "inspector", "write")
	m, out, ok := inspect(t, dir, url, "--method", "tools/list", "--header", auth)
	if !ok {
		t.Fatalf("inspector tools/list over HTTP: failed:\n%s", out)
	}
	checkInspectorTools(t, "http", m)
	m, out, ok = inspect(t, dir, url, "--method", "tools/call", "--tool-name", "create_session", "--tool-arg", "session_id=remote", "--header", auth)
	if sc, _ := m["structuredContent"].(map[string]any); !ok || sc["owner"] != "inspector" {
		t.Fatalf("create_session over HTTP through the Inspector: want a session owned by the token's name:\n%s", out)
	}
	if _, out, ok := inspect(t, dir, url, "--method", "tools/list", "--header", "Authorization: Bearer troupe_wrong"); ok || !strings.Contains(out, "auth") {
		t.Errorf("the Inspector with a wrong token: exit 0 = %v, output:\n%s\nwant refused (401)", ok, out)
	}
}
