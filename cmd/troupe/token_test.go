package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/internal/tokens"
)

// TestTokenCLIBinary: through the built binary, `token create` prints the token alone on the
// first line of stdout and nothing else there; the notice goes to stderr.
func TestTokenCLIBinary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(troupeBinary(t), "--data-dir", dir, "token", "create", "ci", "--scope", "write")
	cmd.Env = append(os.Environ(), "TROUPE_DATA_DIR=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("token create: %v; stderr: %s", err, stderr.String())
	}
	tok, ok := strings.CutSuffix(string(out), "\n")
	if !ok || strings.ContainsAny(tok, "\n \t") || !strings.HasPrefix(tok, tokens.Prefix) {
		t.Fatalf("stdout = %q, want the token alone on one line", out)
	}
	if !strings.Contains(stderr.String(), "Authorization: Bearer") || !strings.Contains(stderr.String(), "once") {
		t.Errorf("stderr = %q, want a note that it is shown once and how to send it", stderr.String())
	}
	if r, err := tokens.Open(dir).Authenticate(tok); err != nil || r.Name != "ci" || r.Scope != tokens.ScopeWrite {
		t.Errorf("the printed token authenticates as %+v, %v; want ci, write", r, err)
	}
}

func TestTokenCLI(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Setenv("TROUPE_DATA_DIR", "")
	dir := filepath.Join(t.TempDir(), "data")
	tk := func(args ...string) (string, string, int) {
		t.Helper()
		return runCaptured(t, append([]string{"--data-dir", dir, "token"}, args...)...)
	}

	out, errOut, code := tk("create", "ci", "--scope", "read")
	if code != 0 {
		t.Fatalf("create: exit %d, stderr %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], tokens.Prefix) {
		t.Fatalf("create stdout = %q, want the token alone", out)
	}
	tok := lines[0]
	if _, _, code := tk("create", "ops", "--scope", "admin"); code != 0 {
		t.Fatal("create ops failed")
	}

	out, _, code = tk("list")
	if code != 0 || strings.Contains(out, strings.TrimPrefix(tok, tokens.Prefix)) {
		t.Fatalf("list: exit %d, stdout %q (must not show the token)", code, out)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "NAME") || !strings.HasPrefix(rows[1], "ci ") ||
		!strings.Contains(rows[1], "read") || !strings.HasPrefix(rows[2], "ops ") {
		t.Errorf("list table:\n%s\nwant a header, ci (read), ops", out)
	}

	if _, errOut, code := tk("revoke", "ci"); code != 0 {
		t.Fatalf("revoke: exit %d, %s", code, errOut)
	}
	out, _, code = tk("list", "--json")
	if code != 0 {
		t.Fatalf("list --json: exit %d", code)
	}
	if strings.Contains(out, "hash") || strings.Contains(out, strings.TrimPrefix(tok, tokens.Prefix)) {
		t.Errorf("list --json shows a hash or the token: %s", out)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("list --json is not a JSON array: %v\n%s", err, out)
	}
	if len(got) != 2 || got[0]["name"] != "ci" || got[0]["scope"] != "read" || got[0]["revoked_at"] == nil ||
		got[0]["created_at"] == nil || got[1]["name"] != "ops" || got[1]["revoked_at"] != nil {
		t.Errorf("list --json = %v, want ci revoked, ops not", got)
	}
	if _, err := tokens.Open(dir).Authenticate(tok); err == nil {
		t.Error("the revoked token still authenticates")
	}
}

// TestTokenCLIBadInput: each mistake exits non-zero with an error saying what to do, prints no
// token and changes nothing.
func TestTokenCLIBadInput(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Setenv("TROUPE_DATA_DIR", "")
	dir := t.TempDir()
	if _, _, code := runCaptured(t, "--data-dir", dir, "token", "create", "taken", "--scope", "read"); code != 0 {
		t.Fatal("create taken failed")
	}
	before, err := os.ReadFile(filepath.Join(dir, tokens.FileName))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{"missing scope", []string{"create", "ci"}, "--scope is required"},
		{"bad scope", []string{"create", "ci", "--scope", "root"}, "read, write, audit, admin"},
		{"bad name", []string{"create", "Bad Name", "--scope", "read"}, "1-64 characters of a-z"},
		{"reserved name", []string{"create", "local", "--scope", "admin"}, "reserved"},
		{"name in use", []string{"create", "taken", "--scope", "admin"}, "revoke it first"},
		{"no name", []string{"create", "--scope", "read"}, "give one token name"},
		{"two names", []string{"revoke", "a", "b"}, "give one token name"},
		{"unknown name", []string{"revoke", "nobody"}, "troupe token list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCaptured(t, append([]string{"--data-dir", dir, "token"}, tt.args...)...)
			if code == 0 {
				t.Fatalf("exit 0, want non-zero; stdout %q", out)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("error %q, want it to say %q", errOut, tt.want)
			}
			after, _ := os.ReadFile(filepath.Join(dir, tokens.FileName))
			if string(after) != string(before) {
				t.Error("the token file changed")
			}
		})
	}
}

// TestTokenCLICorruptFile: a malformed token file is named in the error and left as it is.
func TestTokenCLICorruptFile(t *testing.T) {
	t.Setenv("TROUPE_DATA_DIR", "")
	dir := t.TempDir()
	path := filepath.Join(dir, tokens.FileName)
	if err := os.WriteFile(path, []byte("{oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"create", "ci", "--scope", "read"}, {"list"}, {"revoke", "ci"}} {
		out, errOut, code := runCaptured(t, append([]string{"--data-dir", dir, "token"}, args...)...)
		if code == 0 || out != "" || !strings.Contains(errOut, path) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want an error naming %s", args, code, out, errOut, path)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "{oops" {
		t.Errorf("the file was overwritten: %q", b)
	}
}
