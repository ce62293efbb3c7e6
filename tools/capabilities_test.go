package tools

import (
	"context"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/store"
)

// TestLoggingSetLevel: troupe declares the logging capability and answers logging/setLevel with
// an empty result (the conformance suite's logging-set-level scenario), and refuses a level the
// spec does not name. The client speaks 2025-11-25: from 2026-07-28 on, mcp-go's client keeps
// the level locally and sends no logging/setLevel at all (client/client.go, SetLevel).
func TestLoggingSetLevel(t *testing.T) {
	sys, err := actors.Start(actors.Options{Store: store.NewMemory(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	c, err := client.NewInProcessClient(NewServer(Deps{Actors: sys, Timeout: 5 * time.Second, Logger: zerolog.Nop()}, "test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = "2025-11-25"
	init.Params.ClientInfo = mcp.Implementation{Name: "logging-test", Version: "1"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatal(err)
	}
	if res.Capabilities.Logging == nil {
		t.Fatalf("capabilities %+v: no logging, want it declared", res.Capabilities)
	}
	req := mcp.SetLevelRequest{}
	req.Params.Level = mcp.LoggingLevelInfo
	if err := c.SetLevel(ctx, req); err != nil {
		t.Fatalf("logging/setLevel info: got %v, want an empty result", err)
	}
	req.Params.Level = "loud"
	if err := c.SetLevel(ctx, req); err == nil {
		t.Fatal(`logging/setLevel "loud": got success, want invalid params`)
	}
}
