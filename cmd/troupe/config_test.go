package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestConfigClaudeDesktop(t *testing.T) {
	defer goleak.VerifyNone(t)
	abs := t.TempDir()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		env      string // TROUPE_DATA_DIR
		wantKey  string
		wantDir  string
		wantArgs []string
	}{
		{"defaults to the key troupe", []string{"--data-dir", abs}, "", "troupe", abs, []string{"serve"}},
		{"--name changes the key", []string{"--data-dir", abs, "--name", "troupe-work"}, "", "troupe-work", abs, []string{"serve"}},
		{"relative --data-dir is made absolute", []string{"--data-dir", "rel/data"}, "", "troupe", "rel/data", []string{"serve"}},
		{"TROUPE_DATA_DIR is honoured", nil, filepath.Join(abs, "env"), "troupe", filepath.Join(abs, "env"), []string{"serve"}},
		{"--config is passed on, absolute", []string{"--data-dir", abs, "--config", "my.toml"}, "", "troupe", abs,
			[]string{"serve", "--config", filepath.Join(cwd, "my.toml")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TROUPE_DATA_DIR", tt.env)
			out, errOut, code := runCaptured(t, append([]string{"config", "claude-desktop"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit code %d, want 0; stderr: %s", code, errOut)
			}
			var got struct {
				MCPServers map[string]mcpServer `json:"mcpServers"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out)
			}
			s, ok := got.MCPServers[tt.wantKey]
			if !ok || len(got.MCPServers) != 1 {
				t.Fatalf("mcpServers = %v, want exactly the key %q", got.MCPServers, tt.wantKey)
			}
			if !filepath.IsAbs(s.Command) {
				t.Errorf("command %q is not an absolute path", s.Command)
			}
			if _, err := os.Stat(s.Command); err != nil {
				t.Errorf("command %q: %v", s.Command, err)
			}
			if !slices.Equal(s.Args, tt.wantArgs) {
				t.Errorf("args %q, want %q", s.Args, tt.wantArgs)
			}
			wantDir, _ := filepath.Abs(tt.wantDir)
			if p := s.Env["PATH"]; p != os.Getenv("PATH") {
				t.Errorf("PATH %q, want this shell's %q (Claude Desktop starts servers with a bare environment)", p, os.Getenv("PATH"))
			}
			if d := s.Env["TROUPE_DATA_DIR"]; d != wantDir {
				t.Errorf("TROUPE_DATA_DIR %q, want %q", d, wantDir)
			}
			for _, sub := range []string{`"` + tt.wantKey + `"`, "~/.config/Claude/claude_desktop_config.json",
				"~/Library/Application Support/Claude/claude_desktop_config.json",
				`%APPDATA%\Claude\claude_desktop_config.json`, `"mcpServers"`} {
				if !strings.Contains(errOut, sub) {
					t.Errorf("stderr does not mention %s:\n%s", sub, errOut)
				}
			}
			// The test binary itself is a go-build temporary, like a `go run` binary.
			if strings.Contains(s.Command, "/go-build") != strings.Contains(errOut, "make build") {
				t.Errorf("command %q but stderr %q: go run warning wrong", s.Command, errOut)
			}
		})
	}
}

func TestConfigClaudeDesktopEmptyName(t *testing.T) {
	_, errOut, code := runCaptured(t, "config", "claude-desktop", "--data-dir", t.TempDir(), "--name", " ")
	if code != 1 || !strings.Contains(errOut, "--name is empty") {
		t.Errorf("exit %d, stderr %q; want 1 and a message about --name", code, errOut)
	}
}

func TestGoRunWarning(t *testing.T) {
	tests := []struct {
		exe  string
		warn bool
	}{
		{"/tmp/go-build123456/b001/exe/troupe", true},
		{"/root/.cache/go-build/ab/troupe", true},
		{"/work/main/bin/troupe", false},
		{"/usr/local/bin/troupe", false},
	}
	for _, tt := range tests {
		got := goRunWarning(tt.exe)
		if (got != "") != tt.warn || (tt.warn && !strings.Contains(got, "make build")) {
			t.Errorf("goRunWarning(%q) = %q, want warning=%v", tt.exe, got, tt.warn)
		}
	}
}
