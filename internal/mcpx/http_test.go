package mcpx

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// TestHTTPProgressBeforeAnswer: over real Streamable HTTP (stateful, with the client's GET
// stream open, so notifications may leave on either stream), a call's progress notifications
// reach the client before its answer, and the call does not wait out End's bound:
// HTTPHandler reported them written. Without HTTPHandler the call answers only after 5 s.
func TestHTTPProgressBeforeAnswer(t *testing.T) {
	p := NewProgress()
	srv := server.NewMCPServer("t", "1")
	srv.AddTool(mcp.NewTool("steps"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var token any
		if req.Params.Meta != nil {
			token = req.Params.Meta.ProgressToken
		}
		c := p.Begin(ctx, srv, token)
		for i := 1; i < 5; i++ {
			p.Report(c.ID(), i, 5, "step")
		}
		c.End(5 * time.Second)
		return mcp.NewToolResultText("done"), nil
	})
	ts := httptest.NewServer(HTTPHandler(server.NewStreamableHTTPServer(srv, server.WithStateful(true)), p))
	defer ts.Close()

	cl, err := client.NewStreamableHttpClient(ts.URL+"/mcp", transport.WithContinuousListening())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var mu sync.Mutex
	var seen []float64
	cl.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" {
			mu.Lock()
			seen = append(seen, n.Params.AdditionalFields["progress"].(float64))
			mu.Unlock()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = "2025-11-25"
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	if _, err := cl.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		mu.Lock()
		seen = nil
		mu.Unlock()
		req := mcp.CallToolRequest{}
		req.Params.Name = "steps"
		req.Params.Meta = &mcp.Meta{ProgressToken: round + 1}
		start := time.Now()
		if _, err := cl.CallTool(ctx, req); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		mu.Lock()
		got := append([]float64(nil), seen...)
		mu.Unlock()
		// Order among the four is not checked: in stateful mode mcp-go sends them on whichever
		// stream of the session is open (the POST's or the GET's), and streams are not ordered
		// against each other.
		slices.Sort(got)
		if !slices.Equal(got, []float64{1, 2, 3, 4}) {
			t.Fatalf("round %d: progress seen before the answer = %v, want 1, 2, 3, 4", round, got)
		}
		if took > 2*time.Second {
			t.Fatalf("round %d: the call took %s: its notifications were not reported written", round, took)
		}
	}
}
