package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// playwright runs testdata/node/storagestate.mjs (playwright-core, the system's Chromium).
func playwright(t *testing.T, args ...string) string {
	t.Helper()
	node, dir := nodeClients(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("playwright-core is missing: CI must install the third-party clients (scripts/deps.sh)")
		}
		t.Skip("playwright-core is missing: run `make deps`")
	}
	cmd := exec.Command(node, append([]string{filepath.Join(dir, "storagestate.mjs")}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("playwright %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// A storageState Playwright wrote logs troupe's session in; troupe's export is a storageState
// Playwright's newContext takes, logged in.
func TestE2EStorageStateWithPlaywright(t *testing.T) {
	t.Parallel()
	site := webSite(t)
	tmp := t.TempDir()
	written := filepath.Join(tmp, "playwright.json")
	playwright(t, "login", site, written)
	data, err := os.ReadFile(written)
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, t.TempDir(), "TROUPE_LOG_LEVEL=warn")
	s.ok("create_session", map[string]any{"session_id": "pw"})
	s.ok("import_browser_state", map[string]any{"session_id": "pw", "state": state})
	if got := spaTitle(s, site, "pw", "app"); got != "logged in" {
		t.Fatalf("Playwright's storageState imported, the app says %q\n%s", got, data)
	}

	exported := s.ok("export_browser_state", map[string]any{"session_id": "pw"})["state"]
	out := filepath.Join(tmp, "troupe.json")
	raw, _ := json.Marshal(exported)
	if err := os.WriteFile(out, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := playwright(t, "check", site, out); got != "logged in" {
		t.Fatalf("Playwright with troupe's export: %q\n%s", got, raw)
	}
}
