// Package daemon is troupe's one long-lived process per data dir (DESIGN §11): it owns the actor
// tree, the store, the audit log, Chromium and every agent, and serves MCP over Streamable HTTP
// at /mcp on the unix socket <data>/troupe.sock. Clients (the stdio bridge `troupe serve`,
// `troupe daemon status|stop`, `troupe doctor`) reach it through the helpers in this file.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Paths and endpoints, the contract between the daemon and its clients.
const (
	// SocketName is the daemon's unix socket in the data dir (0600, the dir is 0700).
	SocketName = "troupe.sock"
	// LockName is the file the running daemon holds an exclusive flock on.
	LockName = "daemon.lock"
	// StartLockName is the file a bridge holds a flock on while it checks for a daemon and
	// starts one, so two bridges started at once start one daemon.
	StartLockName = "daemon.start.lock"
	// LogName is the daemon's log when a bridge started it (rotated, size-bounded).
	LogName = "daemon.log"

	// MCPPath serves MCP (mcp-go's Streamable HTTP server, stateful sessions).
	MCPPath = "/mcp"
	// StatusPath answers GET with Status as JSON.
	StatusPath = "/daemon/status"
	// StopPath asks for a graceful stop with POST; it answers 202 and the daemon drains and exits.
	StopPath = "/daemon/stop"

	// AttachPath is held open (GET) by a bridge for its whole life: the daemon counts it as a
	// connected client while it is open (idle exit, status).
	AttachPath = "/daemon/attach"
	// ClientHeader names a bridge on every request it sends (a random id per bridge process),
	// so that the daemon counts it as one client.
	ClientHeader = "Troupe-Client"

	// BaseURL is the URL prefix for requests over the socket (the host is ignored).
	BaseURL = "http://troupe"

	// maxSocketPath is the longest unix socket path Linux accepts (sun_path is 108 bytes with
	// its terminating NUL).
	maxSocketPath = 107
)

// SocketPath returns the daemon's socket for a data dir.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// CheckSocketPath says what to do when the data dir's socket path is too long for Linux.
func CheckSocketPath(dataDir string) error {
	p := SocketPath(dataDir)
	if len(p) > maxSocketPath {
		return fmt.Errorf("the daemon socket %s is %d bytes, longer than the %d a unix socket path may be; choose a shorter --data-dir (or TROUPE_DATA_DIR)", p, len(p), maxSocketPath)
	}
	return nil
}

// Status is what GET /daemon/status answers and `troupe daemon status --json` prints.
type Status struct {
	PID           int       `json:"pid"`
	Version       string    `json:"version"`
	StartedAt     time.Time `json:"started_at"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	DataDir       string    `json:"data_dir"`
	Socket        string    `json:"socket"`
	Listen        []string  `json:"listen"`
	// Metrics is the URL of /metrics on --metrics-listen (no auth), when there is one.
	Metrics         string `json:"metrics,omitempty"`
	Clients         int    `json:"clients"`
	Sessions        int    `json:"sessions"`
	RunningChildren int    `json:"running_children"`
	// Draining is true once a stop began: new calls are refused, calls in flight finish.
	Draining bool `json:"draining"`
	// IdleExitSeconds is daemon_idle_exit (0: never).
	IdleExitSeconds float64 `json:"idle_exit_seconds"`
}

// ErrNotRunning is returned when no daemon answers on the data dir's socket.
var ErrNotRunning = errors.New("no troupe daemon is running for this data dir")

// HTTPClient returns a client whose every request goes to the data dir's socket. It has no
// overall timeout (MCP answers can stream for as long as a call runs): bound requests by context.
func HTTPClient(dataDir string) *http.Client {
	sock := SocketPath(dataDir)
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: tr}
}

// IsNotRunning reports whether err means nothing listens on the socket (no file, or a stale file
// no process accepts on).
func IsNotRunning(err error) bool {
	return errors.Is(err, ErrNotRunning) || errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}

// GetStatus asks the data dir's daemon for its status; ErrNotRunning when none answers.
func GetStatus(ctx context.Context, c *http.Client) (Status, error) {
	var st Status
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, BaseURL+StatusPath, nil)
	if err != nil {
		return st, err
	}
	resp, err := c.Do(req)
	if err != nil {
		if IsNotRunning(err) {
			return st, ErrNotRunning
		}
		return st, fmt.Errorf("troupe daemon status: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return st, fmt.Errorf("troupe daemon status: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("troupe daemon status: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("troupe daemon status: %w", err)
	}
	return st, nil
}

// RequestStop asks the daemon to stop gracefully; it returns once the daemon accepted (it may
// still be draining). ErrNotRunning when none answers.
func RequestStop(ctx context.Context, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, BaseURL+StopPath, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		if IsNotRunning(err) {
			return ErrNotRunning
		}
		return fmt.Errorf("troupe daemon stop: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("troupe daemon stop: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}
