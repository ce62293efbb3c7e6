package main

import (
	"context"
	"encoding/json"
	"errors"
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

// TestE2EDaemonOverTCPWithAToken: `troupe daemon --listen 127.0.0.1:0` tells its URL in
// `troupe daemon status --json`; a token from `troupe token create` lets mcp-go's Streamable HTTP
// client call list_sessions; no token gets no session.
func TestE2EDaemonOverTCPWithAToken(t *testing.T) {
	dir := testutil.ShortDir(t)
	bin := troupeBinary(t)
	var stderr syncBuffer
	d := exec.Command(bin, "daemon", "--data-dir", dir, "--listen", "127.0.0.1:0")
	d.Env = append(os.Environ(), e2eEnv(dir, "TROUPE_LOG_LEVEL=info")...)
	d.Stderr = &stderr
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.Wait() }()
	t.Cleanup(func() {
		stopDaemon(t, dir)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Errorf("troupe daemon did not exit; its log:\n%s", stderr.String())
		}
	})

	var st struct{ Listen []string }
	eventually(t, 20*time.Second, "troupe daemon status answers", func() bool {
		cmd := exec.Command(bin, "daemon", "status", "--json", "--data-dir", dir)
		cmd.Env = append(os.Environ(), e2eEnv(dir)...)
		out, err := cmd.Output()
		return err == nil && json.Unmarshal(out, &st) == nil
	})
	if len(st.Listen) != 2 || !strings.HasPrefix(st.Listen[1], "http://127.0.0.1:") {
		t.Fatalf("status listen = %q, want the socket and http://127.0.0.1:PORT", st.Listen)
	}
	url := st.Listen[1] + "/mcp"

	create := exec.Command(bin, "--data-dir", dir, "token", "create", "e2e", "--scope", "write")
	create.Env = append(os.Environ(), e2eEnv(dir)...)
	out, err := create.Output()
	if err != nil {
		t.Fatalf("troupe token create: %v", err)
	}
	token := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	initialize := func(c *client.Client) error {
		if err := c.Start(ctx); err != nil {
			return err
		}
		req := mcp.InitializeRequest{}
		req.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
		req.Params.ClientInfo = mcp.Implementation{Name: "tcp-e2e", Version: "1"}
		_, err := c.Initialize(ctx, req)
		return err
	}

	anon, err := client.NewStreamableHttpClient(url)
	if err != nil {
		t.Fatal(err)
	}
	// mcp-go answers a 401 with ErrAuthorizationRequired.
	if err := initialize(anon); !errors.Is(err, transport.ErrAuthorizationRequired) {
		t.Errorf("initialize without a token: %v, want refused (401: %v)", err, transport.ErrAuthorizationRequired)
	}
	_ = anon.Close()

	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := initialize(c); err != nil {
		t.Fatalf("initialize with the token: %v\ndaemon log:\n%s", err, stderr.String())
	}
	call := mcp.CallToolRequest{}
	call.Params.Name = "list_sessions"
	call.Params.Arguments = map[string]any{}
	res, err := c.CallTool(ctx, call)
	if err != nil {
		t.Fatalf("list_sessions over TCP: %v", err)
	}
	if res.IsError {
		t.Fatalf("list_sessions over TCP: tool error %s", resultText(res))
	}
	if !strings.Contains(stderr.String(), st.Listen[1]) {
		t.Errorf("the daemon's log does not name its URL %s:\n%s", st.Listen[1], stderr.String())
	}
}
