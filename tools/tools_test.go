package tools

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, testutil.LeakOptions()...) }

// newClient starts an actor tree on an in-memory store and an in-process MCP client on it.
func newClient(t *testing.T, mod func(*actors.Options)) *client.Client {
	t.Helper()
	opts := actors.Options{Store: store.NewMemory(), Logger: zerolog.Nop(), MaxSessions: 50, MaxStateBytes: 4096}
	if mod != nil {
		mod(&opts)
	}
	sys, err := actors.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Deps{Actors: sys, Timeout: 5 * time.Second, Logger: zerolog.Nop()}, "test")
	c := connect(t, srv, "tools-test")
	t.Cleanup(func() {
		_ = c.Close()
		_ = sys.Shutdown(context.Background())
	})
	return c
}

// call invokes a tool with raw JSON arguments.
func call(t *testing.T, c *client.Client, tool, args string) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	if args != "" {
		req.Params.Arguments = json.RawMessage(args)
	}
	res, err := c.CallTool(context.Background(), req)
	if err != nil {
		t.Fatalf("%s(%s): protocol error %v", tool, args, err)
	}
	return res
}

// object returns the structured content as a map.
func object(t *testing.T, r *mcp.CallToolResult) map[string]any {
	t.Helper()
	return wire(t, r.StructuredContent)
}

// wire is v as a client reads it off the wire: a JSON object decoded into maps.
func wire(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s is not a JSON object: %v", data, err)
	}
	return m
}

func mustOK(t *testing.T, r *mcp.CallToolResult) map[string]any {
	t.Helper()
	if r.IsError {
		t.Fatalf("tool error: %s", resultText(r))
	}
	if resultText(r) == "" {
		t.Fatal("result has no text rendering")
	}
	return object(t, r)
}

func mustFail(t *testing.T, r *mcp.CallToolResult, wantInMessage ...string) {
	t.Helper()
	if !r.IsError {
		t.Fatalf("got success %s, want a tool error", resultText(r))
	}
	for _, w := range wantInMessage {
		if !strings.Contains(resultText(r), w) {
			t.Fatalf("error %q does not mention %q", resultText(r), w)
		}
	}
}

// connect starts an initialized in-process MCP client on srv, closed when the test ends.
func connect(tb testing.TB, srv *server.MCPServer, clientName string) *client.Client {
	tb.Helper()
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: clientName, Version: "9.9"}
	if _, err := c.Initialize(context.Background(), init); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
