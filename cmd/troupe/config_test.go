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

// --write merges into the real file: other servers and settings kept, a backup first, and a
// second run changes nothing; a file that is not JSON is left alone.
func TestConfigClaudeDesktopWrite(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "Claude", "claude_desktop_config.json")
	data := t.TempDir()
	out, errOut, code := runCaptured(t, "config", "claude-desktop", "--write", "--file", file, "--data-dir", data)
	if code != 0 || !strings.Contains(out, "wrote mcpServers.troupe") || strings.Contains(out, ".bak") {
		t.Fatalf("a first write into no file: %d %q %q", code, out, errOut)
	}
	existing := `{"globalShortcut": "Ctrl+Space", "mcpServers": {"other": {"command": "other-server", "args": ["x"]}}}`
	if err := os.WriteFile(file, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCaptured(t, "config", "claude-desktop", "--write", "--file", file, "--data-dir", data)
	if code != 0 || !strings.Contains(out, ".bak") {
		t.Fatalf("a write into an existing file: %d %q", code, out)
	}
	var got struct {
		GlobalShortcut string                     `json:"globalShortcut"`
		MCPServers     map[string]json.RawMessage `json:"mcpServers"`
	}
	raw, _ := os.ReadFile(file)
	if err := json.Unmarshal(raw, &got); err != nil || got.GlobalShortcut != "Ctrl+Space" || len(got.MCPServers) != 2 ||
		!strings.Contains(string(got.MCPServers["other"]), "other-server") || !strings.Contains(string(got.MCPServers["troupe"]), data) {
		t.Fatalf("merged file: %v %s", err, raw)
	}
	backups, _ := filepath.Glob(file + ".*.bak")
	if len(backups) != 1 {
		t.Fatalf("backups %v, want one", backups)
	}
	if b, _ := os.ReadFile(backups[0]); string(b) != existing {
		t.Errorf("the backup holds %q, want the file as it was", b)
	}
	out, _, code = runCaptured(t, "config", "claude-desktop", "--write", "--file", file, "--data-dir", data)
	if again, _ := os.ReadFile(file); code != 0 || !strings.Contains(out, "nothing changed") || string(again) != string(raw) {
		t.Errorf("a second write: %d %q", code, out)
	}
	if backups, _ := filepath.Glob(file + ".*.bak"); len(backups) != 1 {
		t.Errorf("a second write made another backup: %v", backups)
	}
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCaptured(t, "config", "claude-desktop", "--write", "--file", file, "--data-dir", data)
	if after, _ := os.ReadFile(file); code == 0 || !strings.Contains(errOut, "not a JSON object") || string(after) != "{not json" {
		t.Errorf("a broken file: %d %q, left %q", code, errOut, after)
	}
}

func TestConfigClaudeCode(t *testing.T) {
	data := filepath.Join(t.TempDir(), "my data")
	out, _, code := runCaptured(t, "config", "claude-code", "--data-dir", data)
	if code != 0 || !strings.HasPrefix(out, "claude mcp add troupe --scope user -e 'TROUPE_DATA_DIR="+data+"' -- ") || !strings.HasSuffix(strings.TrimSpace(out), " serve") {
		t.Errorf("claude-code: %d %q", code, out)
	}
}
