package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// The daemon's metrics, wired as runDaemon wires them, see the runtime's real parts: a tool
// call through the MCP server, the audit log's fsyncs, the bbolt store's commits, the
// orchestrator's sessions, and the clients count daemon.Serve hands over.
func TestDaemonMetricsSeeTheRuntime(t *testing.T) {
	defer goleak.VerifyNone(t, append(testutil.LeakOptions(), goleak.IgnoreCurrent())...)
	dir := t.TempDir()
	cfg, err := config.Load(config.LoadOptions{DataDir: dir, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	cfg.LogLevel = "error"
	rt, err := startRuntime(cfg, io.Discard, "http")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := rt.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	// As runDaemon wires them (daemon.Serve hands its clients count to OnClients).
	rt.metrics.SetClients(func() int { return 2 })
	h := rt.metrics.Handler()

	c, err := client.NewInProcessClient(rt.mcp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "metrics-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	for _, args := range []string{`{"session_id":"web"}`, `{"session_id":"web"}`} {
		req := mcp.CallToolRequest{}
		req.Params.Name = "create_session"
		req.Params.Arguments = json.RawMessage(args)
		if _, err := c.CallTool(ctx, req); err != nil {
			t.Fatal(err)
		}
	}

	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	// sample is a counter's or gauge's value, or a histogram's count, by name{labels in order}.
	sample := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			key := name + "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.Counter != nil:
				sample[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				sample[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				sample[key] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	for key, want := range map[string]float64{
		"troupe_tool_calls_total{outcome=ok,tool=create_session}":    1,
		"troupe_tool_calls_total{outcome=error,tool=create_session}": 1,
		"troupe_tool_duration_seconds{tool=create_session}":          2,
		"troupe_sessions{status=active}":                             1,
		"troupe_children{kind=agent,state=running}":                  0,
		"troupe_children{kind=page,state=running}":                   0,
		"troupe_daemon_clients{}":                                    2,
	} {
		if got, ok := sample[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	// Each mutating call writes its audit events (fsync) and the session (commit) before answering.
	for _, key := range []string{"troupe_audit_fsync_seconds{}", "troupe_store_commit_seconds{}"} {
		if sample[key] < 1 {
			t.Errorf("%s count = %v, want the hook to have fired", key, sample[key])
		}
	}
}
