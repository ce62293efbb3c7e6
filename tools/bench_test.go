package tools

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/bench"
	"github.com/troupe-dev/troupe/internal/store"
)

// BenchmarkMutations16Clients measures update_session_state calls per second from 16 MCP clients
// at once, each on its own session, on the durable bbolt store; and the same with the audit log on
// (fail closed: each call waits for its "requested" event's fsync, which group commit shares).
func BenchmarkMutations16Clients(b *testing.B) {
	for b.Loop() {
		off := mutations16(b, false)
		on := mutations16(b, true)
		bench.ReportRounded("mutations_per_s_16_clients", off, 0, "ops/s")
		bench.ReportRounded("audited_mutations_per_s_16_clients", on, 0, "ops/s")
		bench.ReportRounded("audit_overhead_ratio_16_clients", off/on, 2, "x")
	}
}

// mutations16 runs 16 clients × 250 update_session_state calls on a fresh durable store and
// returns the calls per second.
func mutations16(b *testing.B, withAudit bool) float64 {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "troupe.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sys, err := actors.Start(actors.Options{Store: st, Logger: zerolog.Nop(), MaxSessions: 100})
	if err != nil {
		b.Fatal(err)
	}
	defer sys.Shutdown(context.Background())
	d := Deps{Actors: sys, Timeout: 10 * time.Second, Logger: zerolog.Nop(), Transport: "bench"}
	if withAudit {
		l, err := audit.Open(dir, audit.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		d.Audit = l
	}
	srv := NewServer(d, "bench")
	const clients, perClient = 16, 250
	cs := make([]*client.Client, clients)
	for i := range cs {
		c := connect(b, srv, "test")
		cs[i] = c
		callB(b, c, "create_session", map[string]any{"session_id": fmt.Sprintf("m%02d", i)})
	}
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perClient {
				callB(b, c, "update_session_state", map[string]any{"session_id": fmt.Sprintf("m%02d", i), "set": map[string]any{"n": j}})
			}
		}()
	}
	wg.Wait()
	return clients * perClient / time.Since(start).Seconds()
}

func callB(b *testing.B, c *client.Client, tool string, args map[string]any) {
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	res, err := c.CallTool(context.Background(), req)
	if err != nil || res.IsError {
		b.Errorf("%s: %v %v", tool, err, res)
	}
}
