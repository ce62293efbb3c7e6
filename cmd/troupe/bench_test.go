package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/internal/bench"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// TestMain lets the test binary act as the bare mcp-go echo server the benchmarks compare against
// (the floor): re-executed with TROUPE_BENCH_ECHO_SERVER=1 it serves one echo tool on stdio, with
// TROUPE_BENCH_ECHO_SERVER=http on Streamable HTTP at 127.0.0.1 (its URL on stdout's first line).
func TestMain(m *testing.M) {
	if mode := os.Getenv("TROUPE_BENCH_ECHO_SERVER"); mode != "" {
		s := mcpserver.NewMCPServer("echo", "1")
		s.AddTool(mcp.NewTool("echo", mcp.WithString("text")), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(req.GetString("text", "")), nil
		})
		if mode == "http" {
			serveEchoHTTP(s)
		}
		if err := mcpserver.ServeStdio(s); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if leftDaemonsBehind() {
		code = 1
	}
	os.Exit(code)
}

// leftDaemonsBehind reports (and kills) any daemon of the test binary still running after the
// tests: every test must stop the daemons its bridges started.
func leftDaemonsBehind() bool {
	left := false
	eachProcess(func(pid int, args []string) {
		if isDaemonCmdline(args) && alive(pid) {
			fmt.Fprintf(os.Stderr, "FAIL: a test left troupe daemon %d running: %s\n", pid, strings.Join(args, " "))
			_ = syscall.Kill(pid, syscall.SIGKILL)
			left = true
		}
	})
	return left
}

func stdioClient(b *testing.B, command string, env []string, args ...string) *client.Client {
	b.Helper()
	c, err := client.NewStdioMCPClient(command, env, args...)
	if err != nil {
		b.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "bench", Version: "1"}
	if _, err := c.Initialize(context.Background(), init); err != nil {
		b.Fatal(err)
	}
	return c
}

// roundTrips times n sequential calls of a tool after a warm-up.
func roundTrips(b *testing.B, c *client.Client, tool string, args map[string]any, n int) []time.Duration {
	b.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n+n/10; i++ {
		start := time.Now()
		res, err := c.CallTool(context.Background(), req)
		if err != nil || res.IsError {
			b.Fatalf("%s: %v %v", tool, err, res)
		}
		if i >= n/10 {
			ds = append(ds, time.Since(start))
		}
	}
	return ds
}

// BenchmarkStdio measures get_session over stdio against the floor, a trivial echo tool on a bare
// mcp-go server over stdio, in the same run: the standalone server (one process) and the bridge
// (`troupe serve` relaying to the data dir's daemon over its unix socket, DESIGN §11).
func BenchmarkStdio(b *testing.B) {
	dir := b.TempDir()
	env := []string{"TROUPE_DATA_DIR=" + dir, "HOME=" + dir}
	tc := stdioClient(b, troupeBinary(b), env, "serve", "--standalone", "--log-level", "warn")
	req := mcp.CallToolRequest{}
	req.Params.Name = "create_session"
	req.Params.Arguments = map[string]any{"session_id": "bench"}
	if _, err := tc.CallTool(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	tc.Close() // the standalone server frees the data dir for the daemon, then runs again beside it
	bdir := b.TempDir()
	benv := []string{"TROUPE_DATA_DIR=" + bdir, "HOME=" + bdir}
	defer stopDaemon(b, bdir)
	bc := stdioClient(b, troupeBinary(b), benv, "serve", "--log-level", "warn")
	defer bc.Close()
	if _, err := bc.CallTool(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	tc = stdioClient(b, troupeBinary(b), env, "serve", "--standalone", "--log-level", "warn")
	defer tc.Close()
	self, _ := os.Executable()
	ec := stdioClient(b, self, []string{"TROUPE_BENCH_ECHO_SERVER=1"})
	defer ec.Close()
	const n = 3000
	get := map[string]any{"session_id": "bench"}
	for b.Loop() {
		// Interleave in blocks so that all three see the same machine load.
		var direct, bridged, echo []time.Duration
		for range 5 {
			direct = append(direct, roundTrips(b, tc, "get_session", get, n/5)...)
			bridged = append(bridged, roundTrips(b, bc, "get_session", get, n/5)...)
			echo = append(echo, roundTrips(b, ec, "echo", map[string]any{"text": "hi"}, n/5)...)
		}
		p50 := bench.Percentile(direct, 50)
		floor := bench.Percentile(echo, 50)
		bp50 := bench.Percentile(bridged, 50)
		bench.ReportRounded("stdio_get_session_p50_us", bench.Micros(p50), 1, "us")
		bench.ReportRounded("stdio_get_session_p99_us", bench.Micros(bench.Percentile(direct, 99)), 1, "us")
		bench.ReportRounded("stdio_echo_floor_p50_us", bench.Micros(floor), 1, "us")
		bench.ReportRounded("stdio_overhead_ratio", float64(p50)/float64(floor), 2, "x")
		bench.ReportRounded("bridge_get_session_p50_us", bench.Micros(bp50), 1, "us")
		bench.ReportRounded("bridge_get_session_p99_us", bench.Micros(bench.Percentile(bridged, 99)), 1, "us")
		bench.ReportRounded("bridge_overhead_ratio", float64(bp50)/float64(floor), 2, "x")
	}
}

// firstAnswer starts `troupe serve` (the bridge), initializes and times the first get_session.
func firstAnswer(b *testing.B, env []string, session string) time.Duration {
	b.Helper()
	start := time.Now()
	c := stdioClient(b, troupeBinary(b), env, "serve", "--log-level", "warn")
	defer c.Close()
	req := mcp.CallToolRequest{}
	req.Params.Name = "get_session"
	req.Params.Arguments = map[string]any{"session_id": session}
	if res, err := c.CallTool(context.Background(), req); err != nil || res.IsError {
		b.Fatalf("first call: %v %v", err, res)
	}
	return time.Since(start)
}

// BenchmarkBridgeConnect measures a bridge's start to its first answer with the daemon running.
func BenchmarkBridgeConnect(b *testing.B) {
	dir := b.TempDir()
	env := []string{"TROUPE_DATA_DIR=" + dir, "HOME=" + dir}
	defer stopDaemon(b, dir)
	c := stdioClient(b, troupeBinary(b), env, "serve", "--log-level", "warn")
	req := mcp.CallToolRequest{}
	req.Params.Name = "create_session"
	req.Params.Arguments = map[string]any{"session_id": "bench"}
	if _, err := c.CallTool(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	c.Close()
	for b.Loop() {
		var ds []time.Duration
		for range 20 {
			ds = append(ds, firstAnswer(b, env, "bench"))
		}
		bench.ReportRounded("bridge_connect_ms", bench.Millis(bench.Percentile(ds, 50)), 1, "ms")
	}
}

// BenchmarkCreateDeletePairs measures create_session + delete_session pairs from one sequential
// client on the durable store, beside the fsync rate of the data dir's disk.
func BenchmarkCreateDeletePairs(b *testing.B) {
	dir := b.TempDir()
	c := stdioClient(b, troupeBinary(b), []string{"TROUPE_DATA_DIR=" + dir, "HOME=" + dir, "TROUPE_MAX_SESSIONS=10000"}, "serve", "--standalone", "--log-level", "warn")
	defer c.Close()
	for b.Loop() {
		const pairs = 300
		start := time.Now()
		for i := range pairs {
			id := fmt.Sprintf("p%d", i)
			for _, tool := range []string{"create_session", "delete_session"} {
				req := mcp.CallToolRequest{}
				req.Params.Name = tool
				req.Params.Arguments = map[string]any{"session_id": id}
				if res, err := c.CallTool(context.Background(), req); err != nil || res.IsError {
					b.Fatalf("%s: %v %v", tool, err, res)
				}
			}
		}
		bench.ReportRounded("create_delete_pairs_per_s", pairs/time.Since(start).Seconds(), 0, "pairs/s")
		bench.ReportRounded("disk_fsync_per_s", fsyncRate(b, dir, 500), 0, "fsync/s")
	}
}

// fsyncRate writes and fsyncs a small block n times in dir: the disk's physical limit for
// durable writes one after another.
func fsyncRate(b *testing.B, dir string, n int) float64 {
	f, err := os.Create(filepath.Join(dir, "fsync-probe"))
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	block := make([]byte, 4096)
	start := time.Now()
	for i := range n {
		if _, err := f.WriteAt(block, int64(i%16)*4096); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkStartup10kSessions measures start-up to the first answered call with 10,000 persisted
// sessions.
func BenchmarkStartup10kSessions(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "troupe.db"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	recs := make([]store.SessionRecord, 10000)
	for i := range recs {
		recs[i] = store.SessionRecord{ID: fmt.Sprintf("s%05d", i), Name: "bench", CreatedAt: now, LastActivity: now,
			Status: "active", State: map[string]json.RawMessage{"k": json.RawMessage(`"v"`)}, Labels: map[string]string{"b": "1"}}
	}
	if err := st.PutSessions(recs); err != nil {
		b.Fatal(err)
	}
	st.Close()
	bin := troupeBinary(b)
	for b.Loop() {
		var ds, cold []time.Duration
		for range 5 {
			start := time.Now()
			c := stdioClient(b, bin, []string{"TROUPE_DATA_DIR=" + dir, "HOME=" + dir, "TROUPE_MAX_SESSIONS=20000"}, "serve", "--standalone", "--log-level", "warn")
			req := mcp.CallToolRequest{}
			req.Params.Name = "get_session"
			req.Params.Arguments = map[string]any{"session_id": "s09999"}
			res, err := c.CallTool(context.Background(), req)
			if err != nil || res.IsError {
				b.Fatalf("first call: %v %v", err, res)
			}
			ds = append(ds, time.Since(start))
			c.Close()
		}
		// The same through a bridge that must start the daemon first.
		for range 5 {
			cold = append(cold, firstAnswer(b, []string{"TROUPE_DATA_DIR=" + dir, "HOME=" + dir, "TROUPE_MAX_SESSIONS=20000"}, "s09999"))
			stopDaemon(b, dir)
		}
		bench.ReportRounded("startup_10k_sessions_ms", bench.Millis(bench.Percentile(ds, 50)), 1, "ms")
		bench.ReportRounded("daemon_cold_start_ms", bench.Millis(bench.Percentile(cold, 50)), 1, "ms")
	}
}

// serveEchoHTTP serves s (the floor) over Streamable HTTP, stateful as the daemon is, on a free
// port of 127.0.0.1, until killed.
func serveEchoHTTP(s *mcpserver.MCPServer) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("http://%s/mcp\n", ln.Addr())
	srv := &http.Server{Handler: mcpserver.NewStreamableHTTPServer(s, mcpserver.WithStateful(true)), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintln(os.Stderr, srv.Serve(ln))
	os.Exit(1)
}

// echoHTTP starts the floor over HTTP and returns its URL; it is killed when the benchmark ends.
func echoHTTP(b *testing.B) string {
	b.Helper()
	self, _ := os.Executable()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "TROUPE_BENCH_ECHO_SERVER=http")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("echo server over HTTP: %v", err)
	}
	return strings.TrimSpace(line)
}

// BenchmarkHTTP measures get_session over Streamable HTTP on loopback TCP, with a write token,
// against the floor (a bare mcp-go Streamable HTTP server with one echo tool, in its own process,
// the same client), in one run; and update_session_state calls per second from 16 HTTP clients.
func BenchmarkHTTP(b *testing.B) {
	d := startTCPDaemon(b, testutil.ShortDir(b))
	token := d.token(b, "bench", "write")
	tc := d.client(b, token, "bench")
	ctx := context.Background()
	if res, err := callHTTP(ctx, tc, "create_session", map[string]any{"session_id": "bench"}); err != nil || res.IsError {
		b.Fatalf("create_session: %v %v", err, res)
	}
	ec, err := client.NewStreamableHttpClient(echoHTTP(b))
	if err != nil {
		b.Fatal(err)
	}
	defer ec.Close()
	if err := initializeHTTP(ec, "bench"); err != nil {
		b.Fatal(err)
	}
	const clients, perClient = 16, 250
	cs := make([]*client.Client, clients)
	for i := range cs {
		cs[i] = d.client(b, token, fmt.Sprintf("bench-%d", i))
		if res, err := callHTTP(ctx, cs[i], "create_session", map[string]any{"session_id": fmt.Sprintf("m%02d", i)}); err != nil || res.IsError {
			b.Fatalf("create_session: %v %v", err, res)
		}
	}
	const n = 3000
	get := map[string]any{"session_id": "bench"}
	for b.Loop() {
		var direct, echo []time.Duration
		for range 5 { // interleaved blocks: both see the same machine load
			direct = append(direct, roundTrips(b, tc, "get_session", get, n/5)...)
			echo = append(echo, roundTrips(b, ec, "echo", map[string]any{"text": "hi"}, n/5)...)
		}
		p50, floor := bench.Percentile(direct, 50), bench.Percentile(echo, 50)
		bench.ReportRounded("http_get_session_p50_us", bench.Micros(p50), 1, "us")
		bench.ReportRounded("http_get_session_p99_us", bench.Micros(bench.Percentile(direct, 99)), 1, "us")
		bench.ReportRounded("http_echo_floor_p50_us", bench.Micros(floor), 1, "us")
		bench.ReportRounded("http_overhead_ratio", float64(p50)/float64(floor), 2, "x")

		var wg sync.WaitGroup
		start := time.Now()
		for i, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range perClient {
					res, err := callHTTP(ctx, c, "update_session_state", map[string]any{"session_id": fmt.Sprintf("m%02d", i), "set": map[string]any{"n": j}})
					if err != nil || res.IsError {
						b.Errorf("update_session_state: %v %v", err, res)
						return
					}
				}
			}()
		}
		wg.Wait()
		bench.ReportRounded("http_mutations_per_s_16_clients", clients*perClient/time.Since(start).Seconds(), 0, "ops/s")
	}
}
