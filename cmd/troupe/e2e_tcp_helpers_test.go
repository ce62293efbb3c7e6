package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// tcpDaemon is a `troupe daemon --listen 127.0.0.1:0` of a test.
type tcpDaemon struct {
	dir  string
	base string // http://127.0.0.1:PORT, as `troupe daemon status --json` tells it
	pid  int
	log  *syncBuffer
}

// startTCPDaemon starts `troupe daemon --data-dir dir --listen 127.0.0.1:0 [args]` and waits until
// `troupe daemon status --json` names its URL. The daemon is stopped when the test ends.
func startTCPDaemon(tb testing.TB, dir string, args ...string) *tcpDaemon {
	tb.Helper()
	bin := troupeBinary(tb)
	d := &tcpDaemon{dir: dir, log: &syncBuffer{}}
	cmd := exec.Command(bin, append([]string{"daemon", "--data-dir", dir, "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), e2eEnv(dir, "TROUPE_LOG_LEVEL=warn")...)
	cmd.Stderr = d.log
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	d.pid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		stopDaemon(tb, dir)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			tb.Errorf("troupe daemon did not exit; its log:\n%s", d.log.String())
		}
	})
	var st struct{ Listen []string }
	var exitErr error
	gone := false
	testutil.Eventually(tb, 20*time.Second, "troupe daemon status --json answers", func() bool {
		select {
		case exitErr = <-exited:
			gone = true
			return true
		default:
		}
		status := exec.Command(bin, "daemon", "status", "--json", "--data-dir", dir)
		status.Env = append(os.Environ(), e2eEnv(dir)...)
		out, err := status.Output()
		return err == nil && json.Unmarshal(out, &st) == nil
	}, d.log.String)
	if gone {
		exited <- exitErr // for the cleanup
		tb.Fatalf("troupe daemon --listen 127.0.0.1:0 %s exited: %v; its log:\n%s", strings.Join(args, " "), exitErr, d.log.String())
	}
	for _, l := range st.Listen {
		if strings.HasPrefix(l, "http://127.0.0.1:") {
			d.base = l
			return d
		}
	}
	tb.Fatalf("status listen = %q, want an http://127.0.0.1:PORT among them; the daemon's log:\n%s", st.Listen, d.log.String())
	return nil
}

// token creates a token with `troupe token create NAME --scope SCOPE` and returns it.
func (d *tcpDaemon) token(tb testing.TB, name, scope string) string {
	tb.Helper()
	create := exec.Command(troupeBinary(tb), "--data-dir", d.dir, "token", "create", name, "--scope", scope)
	create.Env = append(os.Environ(), e2eEnv(d.dir)...)
	out, err := create.Output()
	if err != nil {
		tb.Fatalf("troupe token create %s: %v", name, err)
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

// client returns an initialized mcp-go Streamable HTTP client of the daemon's /mcp with the token
// ("" none), closed when the test ends.
func (d *tcpDaemon) client(tb testing.TB, token, name string) *client.Client {
	tb.Helper()
	var opts []transport.StreamableHTTPCOption
	if token != "" {
		opts = append(opts, httpAuth(token))
	}
	c, err := client.NewStreamableHttpClient(d.base+"/mcp", opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	if err := initializeHTTP(c, name); err != nil {
		tb.Fatalf("initialize %s over TCP: %v\ndaemon log:\n%s", name, err, d.log.String())
	}
	return c
}

// initializeHTTP starts and initializes c.
func initializeHTTP(c *client.Client, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		return err
	}
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	req.Params.ClientInfo = mcp.Implementation{Name: name, Version: "1"}
	_, err := c.Initialize(ctx, req)
	return err
}

// callHTTP calls a tool; a protocol error is returned, a tool error is a result.
func callHTTP(ctx context.Context, c *client.Client, tool string, args map[string]any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	return c.CallTool(ctx, req)
}

// httpAuth sends the bearer token with every request of an mcp-go HTTP client.
func httpAuth(token string) transport.StreamableHTTPCOption {
	return transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token})
}

// scrape GETs the daemon's /metrics with the token: the status and the body.
func (d *tcpDaemon) scrape(tb testing.TB, token string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, d.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
