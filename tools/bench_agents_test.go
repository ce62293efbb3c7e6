package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/bench"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
)

// benchClient is an in-process MCP client on a durable store with real processes.
func benchClient(b *testing.B, maxChildren int) *client.Client {
	b.Helper()
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "troupe.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	sys, err := actors.Start(actors.Options{Store: st, Logger: zerolog.Nop(), MaxSessions: 100, MaxChildren: maxChildren,
		Processes: process.Real(), DataDir: dir, AgentStopGrace: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sys.Shutdown(context.Background()) })
	srv := NewServer(Deps{Actors: sys, Timeout: 30 * time.Second, Logger: zerolog.Nop(), Presets: config.BuiltinPresets()}, "bench")
	c := connect(b, srv, "test")
	return c
}

func callJSON(b *testing.B, c *client.Client, tool string, args map[string]any) map[string]any {
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	res, err := c.CallTool(context.Background(), req)
	if err != nil || res.IsError {
		b.Fatalf("%s: %v %+v", tool, err, res)
	}
	data, _ := json.Marshal(res.StructuredContent)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m
}

// BenchmarkAgents measures an interactive cat agent's round trip (send_to_agent then
// read_agent_output waiting for the echo), create_agent until the process runs, and 100 agents
// created in one session.
func BenchmarkAgents(b *testing.B) {
	c := benchClient(b, 200)
	callJSON(b, c, "create_session", map[string]any{"session_id": "bench"})
	for b.Loop() {
		var spawn []time.Duration
		for i := range 30 {
			start := time.Now()
			callJSON(b, c, "create_agent", map[string]any{"session_id": "bench", "name": fmt.Sprintf("sp%d", i), "preset": "cat"})
			spawn = append(spawn, time.Since(start))
			callJSON(b, c, "delete_agent", map[string]any{"agent_id": fmt.Sprintf("bench/sp%d", i)})
		}
		callJSON(b, c, "create_agent", map[string]any{"session_id": "bench", "name": "echo", "preset": "cat"})
		var rt []time.Duration
		for i := range 550 {
			start := time.Now()
			sent := callJSON(b, c, "send_to_agent", map[string]any{"agent_id": "bench/echo", "message": "ping"})
			out := callJSON(b, c, "read_agent_output", map[string]any{"agent_id": "bench/echo", "after": sent["from_seq"], "wait_seconds": 5})
			if len(out["chunks"].([]any)) == 0 {
				b.Fatalf("no echo: %v", out)
			}
			if i >= 50 {
				rt = append(rt, time.Since(start))
			}
		}
		callJSON(b, c, "create_session", map[string]any{"session_id": "hundred"})
		start := time.Now()
		for i := range 100 {
			callJSON(b, c, "create_agent", map[string]any{"session_id": "hundred", "name": fmt.Sprintf("a%03d", i), "preset": "cat"})
		}
		hundred := time.Since(start)
		bench.ReportRounded("agent_roundtrip_p50_us", bench.Micros(bench.Percentile(rt, 50)), 1, "us")
		bench.ReportRounded("agent_spawn_p50_ms", bench.Millis(bench.Percentile(spawn, 50)), 2, "ms")
		bench.ReportRounded("agents_100_create_ms", bench.Millis(hundred), 1, "ms")
	}
}
