package bridge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/daemon"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// The tests below were written against a parallel implementation of the bridge and kept: they
// drive this one the same way.

// fakeDaemon is a stand-in for the daemon: a real mcp-go stateful Streamable HTTP server on the
// data dir's socket with a few toy tools.
type fakeDaemon struct {
	dir      string
	srv      *http.Server
	ln       net.Listener
	mcp      *server.MCPServer
	version  string
	children int

	mu         sync.Mutex
	clientName string
	methods    []string
}

func startFake(t *testing.T, dir string) *fakeDaemon {
	t.Helper()
	f := &fakeDaemon{dir: dir, version: "test"}
	hooks := &server.Hooks{}
	hooks.AddBeforeAny(func(_ context.Context, _ any, method mcp.MCPMethod, _ any) {
		f.mu.Lock()
		f.methods = append(f.methods, string(method))
		f.mu.Unlock()
	})
	hooks.AddBeforeInitialize(func(_ context.Context, _ any, req *mcp.InitializeRequest) {
		f.mu.Lock()
		f.clientName = req.Params.ClientInfo.Name
		f.mu.Unlock()
	})
	f.mcp = server.NewMCPServer("fake", "test", server.WithToolCapabilities(true), server.WithHooks(hooks))
	f.mcp.AddTool(mcp.NewTool("progress"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var tok any
		if req.Params.Meta != nil {
			tok = req.Params.Meta.ProgressToken
		}
		for i := 1; i <= 3; i++ {
			_ = f.mcp.SendNotificationToClient(ctx, "notifications/progress", map[string]any{"progressToken": tok, "progress": i, "total": 3})
		}
		return mcp.NewToolResultText("done"), nil
	})
	f.mcp.AddTool(mcp.NewTool("slow"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
		}
		return mcp.NewToolResultText("slow done"), nil
	})
	f.mcp.AddTool(mcp.NewTool("change"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		time.AfterFunc(200*time.Millisecond, func() {
			f.mcp.AddTool(mcp.NewTool("added"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return mcp.NewToolResultText("added"), nil
			})
		})
		return mcp.NewToolResultText("changed"), nil
	})
	mux := http.NewServeMux()
	h := server.NewStreamableHTTPServer(f.mcp, server.WithStateful(true))
	mux.HandleFunc(daemon.MCPPath, func(w http.ResponseWriter, r *http.Request) {
		// Record the notifications that reach the server (mcp-go handles some, like
		// notifications/cancelled, without calling a hook).
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			var m struct{ Method string }
			if json.Unmarshal(body, &m) == nil && strings.HasPrefix(m.Method, "notifications/") {
				f.mu.Lock()
				f.methods = append(f.methods, m.Method)
				f.mu.Unlock()
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h.ServeHTTP(w, r)
	})
	mux.HandleFunc(daemon.AttachPath, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc(daemon.StatusPath, func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		st := daemon.Status{PID: os.Getpid(), Version: f.version, RunningChildren: f.children}
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc(daemon.StopPath, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		go f.stop()
	})
	_ = os.Remove(daemon.SocketPath(dir))
	ln, err := net.Listen("unix", daemon.SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	f.srv = &http.Server{Handler: mux}
	go func() { _ = f.srv.Serve(ln) }()
	t.Cleanup(f.stop)
	return f
}

func (f *fakeDaemon) stop() { _ = f.srv.Close() }

func (f *fakeDaemon) saw(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.methods {
		if m == method {
			return true
		}
	}
	return false
}

// harness drives a bridge through pipes.
type harness struct {
	t      *testing.T
	in     *io.PipeWriter
	lines  chan map[string]any
	done   chan error
	starts atomic.Int32
}

func newHarness(t *testing.T, dir string, start func() error, version string) *harness {
	h := &harness{t: t, lines: make(chan map[string]any, 100), done: make(chan error, 1)}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	h.in = inW
	log := zerolog.New(zerolog.NewTestWriter(t))
	o := Options{DataDir: dir, In: inR, Out: outW, Version: version, Logger: log,
		Starter: &Starter{DataDir: dir, Version: version, Logger: log, Spawn: func() error {
			h.starts.Add(1)
			return start()
		}}}
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("stdout line is not JSON: %q", sc.Text())
				continue
			}
			h.lines <- m
		}
	}()
	go func() { h.done <- Run(context.Background(), o); _ = outW.Close() }()
	t.Cleanup(func() { _ = inW.Close(); <-h.done })
	return h
}

func (h *harness) send(s string) {
	h.t.Helper()
	if _, err := io.WriteString(h.in, s+"\n"); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) next() map[string]any {
	h.t.Helper()
	select {
	case m := <-h.lines:
		return m
	case <-time.After(10 * time.Second):
		h.t.Fatal("no message on stdout")
		return nil
	}
}

// answer reads until the answer with id, returning the messages before it.
func (h *harness) answer(id float64) (map[string]any, []map[string]any) {
	h.t.Helper()
	var before []map[string]any
	for {
		m := h.next()
		if m["method"] == nil && m["id"] == id {
			return m, before
		}
		before = append(before, m)
	}
}

const initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"claude-test","version":"9"}}}`
const initializedLine = `{"jsonrpc":"2.0","method":"notifications/initialized"}`

func initialize(h *harness) {
	h.send(initLine)
	a, _ := h.answer(1)
	if a["result"] == nil {
		h.t.Fatalf("initialize: %v", a)
	}
	h.send(initializedLine)
}

func TestRelay(t *testing.T) {
	dir := testutil.ShortDir(t)
	f := startFake(t, dir)
	h := newHarness(t, dir, func() error { t.Error("no start expected"); return nil }, "")
	initialize(h)
	if f.clientName != "claude-test" {
		t.Errorf("server saw client %q, want claude-test", f.clientName)
	}
	// A slow call must not block a quick one.
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{}}}`)
	h.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"progress","arguments":{},"_meta":{"progressToken":"p1"}}}`)
	a, before := h.answer(3)
	if a["result"] == nil {
		t.Fatalf("progress call: %v", a)
	}
	n := 0
	for _, m := range before {
		if m["method"] == "notifications/progress" {
			n++
		}
	}
	t.Logf("progress notifications before the answer: %d", n)
	a, _ = h.answer(2)
	if a["result"] == nil {
		t.Fatalf("slow call: %v", a)
	}
	// list_changed over the GET stream.
	h.send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"change","arguments":{}}}`)
	h.answer(4)
	deadline := time.After(5 * time.Second)
	for got := false; !got; {
		select {
		case m := <-h.lines:
			got = m["method"] == "notifications/tools/list_changed"
		case <-deadline:
			t.Fatal("no tools/list_changed")
		}
	}
	// cancelled reaches the server.
	h.send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow","arguments":{}}}`)
	h.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}`)
	waitFor(t, func() bool { return f.saw("notifications/cancelled") })
	// A parse error is answered, and the bridge goes on.
	h.send(`{not json`)
	for m := h.next(); m["error"] == nil; m = h.next() {
		if m["id"] == nil && m["method"] == nil {
			t.Fatalf("parse error: %v", m)
		}
	}
	_ = h.in.Close()
	if err := <-h.done; err != nil {
		t.Fatal(err)
	}
	h.done <- nil
	if _, err := daemon.GetStatus(context.Background(), daemon.HTTPClient(dir)); err != nil {
		t.Errorf("the daemon should still run after EOF: %v", err)
	}
}

func TestModern(t *testing.T) {
	dir := testutil.ShortDir(t)
	startFake(t, dir)
	h := newHarness(t, dir, func() error { return nil }, "")
	h.send(`{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"modern","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`)
	a, _ := h.answer(7)
	if a["result"] == nil {
		t.Fatalf("modern tools/list: %v", a)
	}
}

func TestDaemonLost(t *testing.T) {
	dir := testutil.ShortDir(t)
	f := startFake(t, dir)
	var f2 *fakeDaemon
	h := newHarness(t, dir, func() error { f2 = startFake(t, dir); return nil }, "")
	initialize(h)
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{}}}`)
	time.Sleep(200 * time.Millisecond)
	f.stop()
	a, _ := h.answer(2)
	res, _ := a["result"].(map[string]any)
	if res == nil || res["isError"] != true || !strings.Contains(jsonString(res), "went away") {
		t.Fatalf("lost daemon: %v", a)
	}
	h.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"progress","arguments":{}}}`)
	a, _ = h.answer(3)
	if a["result"] == nil || h.starts.Load() != 1 {
		t.Fatalf("after restart: %v (starts %d)", a, h.starts.Load())
	}
	if f2.clientName != "claude-test" {
		t.Errorf("replayed initialize client %q", f2.clientName)
	}
}

func TestSession404(t *testing.T) {
	dir := testutil.ShortDir(t)
	f := startFake(t, dir)
	h := newHarness(t, dir, func() error { return nil }, "")
	initialize(h)
	// Another daemon on the same socket: our session id is unknown there.
	f.stop()
	startFake(t, dir)
	h.send(`{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{}}`)
	a, _ := h.answer(3)
	if a["result"] == nil {
		t.Fatalf("after 404: %v", a)
	}
}

func TestVersionSkew(t *testing.T) {
	for _, children := range []int{0, 1} {
		dir := testutil.ShortDir(t)
		f := startFake(t, dir)
		f.version, f.children = "old", children
		h := newHarness(t, dir, func() error { startFake(t, dir).version = "new"; return nil }, "new")
		initialize(h)
		want := int32(1)
		if children > 0 {
			want = 0
		}
		if got := h.starts.Load(); got != want {
			t.Errorf("children %d: starts %d, want %d", children, got, want)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met")
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }
