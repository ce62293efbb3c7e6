package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/internal/config"
)

// runCaptured runs the CLI in-process like run does and returns its stdout, stderr and exit code.
func runCaptured(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		var ee exitError
		if !errors.As(err, &ee) {
			errb.WriteString(err.Error())
			return out.String(), errb.String(), 1
		}
		return out.String(), errb.String(), ee.code
	}
	return out.String(), errb.String(), 0
}

// fakeBin writes an executable shell script called name into dir.
func fakeBin(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// cleanEnv isolates a test from the caller's TROUPE_* settings and gives it a PATH holding only
// a fake chromium and git.
func cleanEnv(t *testing.T) (bin string) {
	for _, k := range []string{"TROUPE_DATA_DIR", "TROUPE_BROWSER", "TROUPE_MAX_SESSIONS", "TROUPE_LOG_LEVEL",
		"TROUPE_SESSION_TIMEOUT", "TROUPE_CLEANUP_INTERVAL", "TROUPE_CALL_TIMEOUT", "TROUPE_NAVIGATION_TIMEOUT",
		"TROUPE_MAX_CHILDREN", "TROUPE_WORKSPACE_ROOT"} {
		t.Setenv(k, "")
	}
	bin = t.TempDir()
	fakeBin(t, bin, "chromium", "echo 'Chromium 1.2.3 built on test'")
	fakeBin(t, bin, "git", "echo 'git version 9.9.9'")
	t.Setenv("PATH", bin)
	return bin
}

// lineFor returns the text report's line for the named check.
func lineFor(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[1] == name {
			return l
		}
	}
	t.Fatalf("no %q line in:\n%s", name, out)
	return ""
}

func TestDoctor(t *testing.T) {
	defer goleak.VerifyNone(t)
	tests := []struct {
		name     string
		setup    func(t *testing.T, data, bin string) []string // extra args
		wantCode int
		want     map[string]string // check name -> status, then substrings of its line
	}{
		{"fresh data dir is created", func(t *testing.T, data, bin string) []string { return nil }, 0,
			map[string]string{"data": "ok|mode 0700, writable, just created", "config": "ok|built-in defaults",
				"store": "ok|not created yet", "chromium": "ok|Chromium 1.2.3", "git": "ok|git version 9.9.9",
				"terminal": "ok|a PTY opens and a program waiting for input is seen waiting"}},
		{"no chromium, no git on PATH", func(t *testing.T, data, bin string) []string {
			os.Remove(filepath.Join(bin, "chromium"))
			os.Remove(filepath.Join(bin, "git"))
			return nil
		}, 0, map[string]string{"chromium": "warn|page tools unavailable|fix: apt-get install -y chromium, or set TROUPE_BROWSER",
			"git": "warn|falls back to tar.gz archives|fix: apt-get install -y git"}},
		{"data dir is a file", func(t *testing.T, data, bin string) []string {
			writeFile(t, data, "x", 0o600)
			return nil
		}, 1, map[string]string{"data": "FAIL|is not a directory|fix: move that file away"}},
		{"data dir open to others", func(t *testing.T, data, bin string) []string {
			mkdir(t, data, 0o755)
			return nil
		}, 0, map[string]string{"data": "warn|mode 0755|fix: chmod 700 /"}},
		{"broken troupe.toml", func(t *testing.T, data, bin string) []string {
			mkdir(t, data, 0o700)
			writeFile(t, filepath.Join(data, "troupe.toml"), "max_sessions = [", 0o600)
			return nil
		}, 1, map[string]string{"config": "FAIL|troupe.toml|fix: correct the setting named there"}},
		{"unknown key in --config", func(t *testing.T, data, bin string) []string {
			cfg := filepath.Join(t.TempDir(), "other.toml")
			writeFile(t, cfg, "no_such_key = 1", 0o600)
			return []string{"--config", cfg}
		}, 1, map[string]string{"config": "FAIL|other.toml: unknown keys no_such_key"}},
		{"valid --config and a store in use", func(t *testing.T, data, bin string) []string {
			mkdir(t, data, 0o700)
			cfg := filepath.Join(data, "my.toml")
			writeFile(t, cfg, "max_sessions = 5", 0o600)
			writeFile(t, filepath.Join(data, "troupe.db"), strings.Repeat("x", 2048), 0o600)
			lockExclusive(t, filepath.Join(data, "troupe.db"))
			return []string{"--config", cfg}
		}, 0, map[string]string{"config": "ok|my.toml parsed OK", "store": "ok|present (2.0 KiB), in use by a running troupe"}},
		{"bad TROUPE_ variable", func(t *testing.T, data, bin string) []string {
			t.Setenv("TROUPE_MAX_SESSIONS", "many")
			return nil
		}, 1, map[string]string{"config": "FAIL|TROUPE_MAX_SESSIONS=\"many\": want a positive whole number"}},
		{"TROUPE_BROWSER that fails", func(t *testing.T, data, bin string) []string {
			t.Setenv("TROUPE_BROWSER", fakeBin(t, bin, "broken-chrome", "exit 3"))
			return nil
		}, 0, map[string]string{"chromium": "warn|broken-chrome --version: exit status 3|fix: apt-get install -y chromium"}},
		{"presets whose command is found or not", func(t *testing.T, data, bin string) []string {
			fakeBin(t, bin, "claude", "exit 0")
			return nil
		}, 0, map[string]string{"preset:claude": "ok|\"claude\" is " + "/", "preset:codex": "warn|\"codex\" not found on PATH|fix: install codex|[presets.codex] of troupe.toml",
			"preset:shell": "warn|\"sh\" not found on PATH"}},
		{"chromium that hangs", func(t *testing.T, data, bin string) []string {
			fakeBin(t, bin, "chromium", "exec /bin/sleep 30")
			old := versionTimeout
			versionTimeout = 50 * time.Millisecond
			t.Cleanup(func() { versionTimeout = old })
			return nil
		}, 0, map[string]string{"chromium": "warn|no answer within 50ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := cleanEnv(t)
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{"doctor", "--data-dir", data}, tt.setup(t, data, bin)...)
			out, errOut, code := runCaptured(t, args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for check, want := range tt.want {
				line := lineFor(t, out, check)
				parts := strings.Split(want, "|")
				if status := strings.Fields(line)[0]; status != parts[0] {
					t.Errorf("%s: status %q, want %q in line %q", check, status, parts[0], line)
				}
				for _, sub := range parts[1:] {
					if !strings.Contains(line, sub) {
						t.Errorf("%s: line %q does not contain %q", check, line, sub)
					}
				}
			}
			if check := "chromium"; tt.want[check] == "ok|Chromium 1.2.3" && os.Geteuid() == 0 &&
				!strings.Contains(lineFor(t, out, check), "--no-sandbox will be used") {
				t.Errorf("running as root, chromium line does not mention --no-sandbox:\n%s", out)
			}
		})
	}
}

func TestDoctorJSON(t *testing.T) {
	defer goleak.VerifyNone(t)
	cleanEnv(t)
	data := filepath.Join(t.TempDir(), "data")
	writeFile(t, data, "not a dir", 0o600)
	out, _, code := runCaptured(t, "doctor", "--json", "--data-dir", data)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	var got struct {
		OK     bool    `json:"ok"`
		Checks []check `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	// No store check without a data dir; one line per built-in preset.
	if want := 6 + len(config.BuiltinPresets()); got.OK || len(got.Checks) != want {
		t.Fatalf("got ok=%v and %d checks, want ok=false and %d:\n%s", got.OK, len(got.Checks), want, out)
	}
	if c := got.Checks[0]; c.Name != "data dir" || c.Status != statusFail || c.Fix == "" {
		t.Errorf("first check %+v, want a data dir FAIL with a fix", c)
	}
}

func TestDiskCheck(t *testing.T) {
	tests := []struct {
		free       uint64
		wantStatus string
		wantFound  string
	}{
		{512 << 20, statusWarn, "512.0 MiB free at /d"},
		{1<<30 - 1, statusWarn, "1024.0 MiB free at /d"},
		{1 << 30, statusOK, "1.0 GiB free at /d"},
		{80 << 30, statusOK, "80.0 GiB free at /d"},
	}
	for _, tt := range tests {
		c := diskCheck("/d", tt.free)
		if c.Status != tt.wantStatus || c.Found != tt.wantFound {
			t.Errorf("diskCheck(%d) = %s %q, want %s %q", tt.free, c.Status, c.Found, tt.wantStatus, tt.wantFound)
		}
		if (c.Status == statusWarn) != (c.Fix != "") {
			t.Errorf("diskCheck(%d): status %s with fix %q", tt.free, c.Status, c.Fix)
		}
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // undo the umask
		t.Fatal(err)
	}
}

// lockExclusive holds the lock a running bbolt (troupe serve) holds on path until the test ends.
func lockExclusive(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}
