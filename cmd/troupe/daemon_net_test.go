package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/daemon"
)

// TestDaemonRefusesUnsafeListenBeforeStarting: each unsafe TCP setting is refused with the reason
// and the fix, and nothing is started (no lock, no socket).
func TestDaemonRefusesUnsafeListenBeforeStarting(t *testing.T) {
	t.Setenv("TROUPE_DATA_DIR", "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:0"}, "--tls-cert FILE --tls-key FILE, or --allow-insecure-http"},
		{[]string{"--listen", "192.0.2.1:7700", "--no-auth", "--allow-insecure-http"}, "--no-auth is accepted only on a loopback"},
		{[]string{"--listen", "troupe.example:7700"}, "not a loopback address"},
		{[]string{"--no-auth"}, "add --listen"},
		{[]string{"--listen", "127.0.0.1:0", "--tls-key", "k.pem"}, "go together"},
		{[]string{"--metrics-listen", "0.0.0.0:9090"}, "loopback"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			_, errOut, code := runCaptured(t, append([]string{"--data-dir", dir, "daemon"}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want refused saying %q", code, errOut, tc.want)
			}
			if _, err := os.Stat(daemon.SocketPath(dir)); !os.IsNotExist(err) {
				t.Fatalf("a refused daemon left a socket: %v", err)
			}
			if daemon.LockHeld(dir) {
				t.Fatal("a refused daemon holds the lock")
			}
		})
	}
}

func TestDaemonHelpDocumentsTheNetworkFlags(t *testing.T) {
	out, _, code := runCaptured(t, "daemon", "--help")
	if code != 0 {
		t.Fatalf("daemon --help: exit %d", code)
	}
	for _, flag := range []string{"--listen", "--tls-cert", "--tls-key", "--allow-insecure-http", "--no-auth", "--metrics-listen",
		"/healthz", "/metrics", "allowed_hosts", "allowed_origins"} {
		if !strings.Contains(out, flag) {
			t.Errorf("daemon --help does not mention %s", flag)
		}
	}
}
