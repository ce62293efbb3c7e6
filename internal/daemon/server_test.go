package daemon

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// testMCP is an MCP server with a tool "slow" that runs until release is closed; started
// receives one value as each call begins.
func testMCP(release <-chan struct{}, started chan<- struct{}) http.Handler {
	srv := mcpserver.NewMCPServer("t", "1")
	srv.AddTool(mcp.NewTool("slow"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return mcp.NewToolResultText("finished"), nil
	})
	return mcpserver.NewStreamableHTTPServer(srv, mcpserver.WithStateful(true))
}

// daemonRun is one Serve in a goroutine.
type daemonRun struct {
	dir    string
	cancel context.CancelFunc
	done   chan error
}

// startDaemon runs Serve on a fresh data dir and waits until it answers; the test's end stops it.
func startDaemon(t *testing.T, o Options) *daemonRun {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = testutil.ShortDir(t)
	}
	if o.MCP == nil {
		o.MCP = testMCP(make(chan struct{}), make(chan struct{}, 16))
	}
	o.Logger = zerolog.Nop()
	ctx, cancel := context.WithCancel(context.Background())
	r := &daemonRun{dir: o.DataDir, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- Serve(ctx, o) }()
	t.Cleanup(func() { cancel(); r.wait(t, 10*time.Second) })
	testutil.Eventually(t, 5*time.Second, "the daemon answers", func() bool {
		_, err := GetStatus(context.Background(), HTTPClient(o.DataDir))
		return err == nil
	})
	return r
}

// wait returns Serve's error, failing the test when it does not return within d.
func (r *daemonRun) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // later waits see it too
		return err
	case <-time.After(d):
		t.Fatalf("the daemon did not stop within %s", d)
		return nil
	}
}

// running reports whether Serve is still running.
func (r *daemonRun) running() bool {
	select {
	case err := <-r.done:
		r.done <- err
		return false
	default:
		return true
	}
}

func TestDaemonSecondOnSameDirRefusedNamingPID(t *testing.T) {
	r := startDaemon(t, Options{})
	err := Serve(context.Background(), Options{DataDir: r.dir, MCP: http.NotFoundHandler(), Logger: zerolog.Nop()})
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Serve: got %v, want ErrAlreadyRunning", err)
	}
	if want := "pid " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Fatalf("second Serve: %q does not name %q", err, want)
	}
	if !r.running() {
		t.Fatal("the first daemon stopped")
	}
}

func TestDaemonSocketIs0600AndRemovedAtExit(t *testing.T) {
	r := startDaemon(t, Options{})
	st, err := os.Stat(SocketPath(r.dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Fatalf("socket mode = %o, want 600", got)
	}
	r.cancel()
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(SocketPath(r.dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket after exit: %v, want it removed", err)
	}
	if LockHeld(r.dir) {
		t.Fatal("lock still held after exit")
	}
}

func TestDaemonStaleSocketReplaced(t *testing.T) {
	dir := testutil.ShortDir(t)
	if err := os.WriteFile(SocketPath(dir), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, Options{DataDir: dir})
}

func TestDaemonStatusFields(t *testing.T) {
	r := startDaemon(t, Options{Version: "v9", IdleExit: time.Hour, Stats: func() (int, int) { return 3, 2 }})
	st, err := GetStatus(context.Background(), HTTPClient(r.dir))
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != os.Getpid() || st.Version != "v9" || st.DataDir != r.dir || st.Socket != SocketPath(r.dir) ||
		st.Sessions != 3 || st.RunningChildren != 2 || st.Clients != 0 || st.Draining || st.IdleExitSeconds != 3600 ||
		len(st.Listen) != 1 || st.UptimeSeconds < 0 || st.StartedAt.IsZero() {
		t.Fatalf("status = %+v", st)
	}
}

func TestDaemonNotRunning(t *testing.T) {
	dir := testutil.ShortDir(t)
	if _, err := GetStatus(context.Background(), HTTPClient(dir)); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("GetStatus with no daemon: %v, want ErrNotRunning", err)
	}
	if err := RequestStop(context.Background(), HTTPClient(dir)); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("RequestStop with no daemon: %v, want ErrNotRunning", err)
	}
}

// newClient connects an mcp-go client over the daemon's socket and initializes it.
func newClient(t *testing.T, ctx context.Context, dir string, opts ...transport.StreamableHTTPCOption) *client.Client {
	t.Helper()
	opts = append(opts, transport.WithHTTPBasicClient(HTTPClient(dir)))
	cl, err := client.NewStreamableHttpClient(BaseURL+MCPPath, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = "2025-11-25"
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	if _, err := cl.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestDaemonStopDrainsInFlightAndRefusesNewCalls(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{}, 4)
	r := startDaemon(t, Options{MCP: testMCP(release, started), Drain: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := newClient(t, ctx, r.dir, transport.WithContinuousListening())
	answered := make(chan error, 1)
	go func() {
		req := mcp.CallToolRequest{}
		req.Params.Name = "slow"
		res, err := cl.CallTool(ctx, req)
		if err == nil && res.IsError {
			err = errors.New("tool error")
		}
		answered <- err
	}()
	<-started
	if err := RequestStop(ctx, HTTPClient(r.dir)); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the daemon drains", func() bool {
		st, err := GetStatus(ctx, HTTPClient(r.dir))
		return err == nil && st.Draining
	})
	// A new call during the drain gets 503 and a JSON-RPC error saying what happens next.
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow"}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, BaseURL+MCPPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := HTTPClient(r.dir).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"error"`) ||
		!strings.Contains(string(b), "stopping") || !strings.Contains(string(b), "next call starts a new daemon") {
		t.Fatalf("a call during the drain: HTTP %d %s", resp.StatusCode, b)
	}
	if !r.running() {
		t.Fatal("the daemon stopped before its call in flight finished")
	}
	close(release)
	if err := <-answered; err != nil {
		t.Fatalf("the call in flight: %v, want its answer", err)
	}
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(SocketPath(r.dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket after stop: %v", err)
	}
}

func TestDaemonIdleExit(t *testing.T) {
	r := startDaemon(t, Options{IdleExit: 300 * time.Millisecond})
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestDaemonNoIdleExitWhileAClientListens(t *testing.T) {
	r := startDaemon(t, Options{IdleExit: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := newClient(t, ctx, r.dir, transport.WithContinuousListening())
	testutil.Eventually(t, 5*time.Second, "the client's GET stream counts", func() bool {
		st, err := GetStatus(ctx, HTTPClient(r.dir))
		return err == nil && st.Clients == 1
	})
	time.Sleep(time.Second)
	if !r.running() {
		t.Fatal("the daemon exited while a client listened")
	}
	_ = cl.Close()
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestDaemonNoIdleExitWhileAChildRuns(t *testing.T) {
	var running atomic.Int32
	running.Store(1)
	r := startDaemon(t, Options{IdleExit: 300 * time.Millisecond,
		Stats: func() (int, int) { return 1, int(running.Load()) }})
	time.Sleep(time.Second)
	if !r.running() {
		t.Fatal("the daemon exited while a child ran")
	}
	running.Store(0)
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestDaemonModernRequestWithoutSession: a 2026-07-28 request (version in the header and in
// _meta, no session) is answered through the daemon, and counts as a client while in flight.
func TestDaemonModernRequestWithoutSession(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{}, 4)
	r := startDaemon(t, Options{MCP: testMCP(release, started)})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	post := func(id int, method, name string) (int, string) {
		params := ""
		if name != "" {
			params = `"name":"` + name + `",`
		}
		body := `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"` + method + `","params":{` + params +
			`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"modern","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, BaseURL+MCPPath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", method)
		if name != "" {
			req.Header.Set("Mcp-Name", name)
		}
		resp, err := HTTPClient(r.dir).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(1, "tools/list", ""); code != http.StatusOK || !strings.Contains(body, `"slow"`) {
		t.Fatalf("modern tools/list: HTTP %d %s", code, body)
	}
	done := make(chan string, 1)
	go func() { _, body := post(2, "tools/call", "slow"); done <- body }()
	<-started
	st, err := GetStatus(ctx, HTTPClient(r.dir))
	if err != nil || st.Clients != 1 {
		t.Fatalf("clients during a modern call = %d (%v), want 1", st.Clients, err)
	}
	close(release)
	if body := <-done; !strings.Contains(body, "finished") {
		t.Fatalf("modern tools/call: %s", body)
	}
}

// TestAcquireWaitFollowsAClosingDaemon: a lock held by a process that no longer serves (a daemon
// closing its store) is waited for; a lock held by a daemon that answers is refused at once.
func TestAcquireWaitFollowsAClosingDaemon(t *testing.T) {
	dir := testutil.ShortDir(t)
	held, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(300*time.Millisecond, func() { _ = held.Release() })
	l, err := AcquireWait(context.Background(), dir, 10*time.Second)
	if err != nil {
		t.Fatalf("AcquireWait after the holder released: %v", err)
	}
	_ = l.Release()

	r := startDaemon(t, Options{})
	start := time.Now()
	if _, err := AcquireWait(context.Background(), r.dir, 10*time.Second); !errors.Is(err, ErrAlreadyRunning) || time.Since(start) > 3*time.Second {
		t.Fatalf("AcquireWait with a serving daemon: %v after %s, want ErrAlreadyRunning at once", err, time.Since(start))
	}
}
