package tools

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/metrics"
	"github.com/troupe-dev/troupe/internal/store"
)

// toolCalls scrapes m over HTTP and returns troupe_tool_calls_total by "tool/outcome", and the
// sample count of troupe_tool_duration_seconds by tool.
func toolCalls(t *testing.T, m *metrics.Metrics) (calls map[string]float64, timed map[string]uint64) {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
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
	calls, timed = map[string]float64{}, map[string]uint64{}
	label := func(ls map[string]string) string { return ls["tool"] + "/" + ls["outcome"] }
	for _, mt := range fams["troupe_tool_calls_total"].GetMetric() {
		ls := map[string]string{}
		for _, l := range mt.GetLabel() {
			ls[l.GetName()] = l.GetValue()
		}
		calls[label(ls)] = mt.GetCounter().GetValue()
	}
	for _, mt := range fams["troupe_tool_duration_seconds"].GetMetric() {
		for _, l := range mt.GetLabel() {
			if l.GetName() == "tool" {
				timed[l.GetValue()] = mt.GetHistogram().GetSampleCount()
			}
		}
	}
	return calls, timed
}

// Real calls through the server count by tool and outcome: an accepted create_session is ok,
// one refused with a tool error is an error.
func TestMetricsCountRealCalls(t *testing.T) {
	sys, err := actors.Start(actors.Options{Store: store.NewMemory(), Logger: zerolog.Nop(), MaxSessions: 50})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(metrics.Options{})
	srv := NewServer(Deps{Actors: sys, Timeout: 5 * time.Second, Logger: zerolog.Nop(), Metrics: m}, "test")
	c := connect(t, srv, "metrics-test")
	t.Cleanup(func() {
		_ = c.Close()
		_ = sys.Shutdown(context.Background())
	})

	mustOK(t, call(t, c, "create_session", `{"session_id":"web"}`))
	mustFail(t, call(t, c, "create_session", `{"session_id":"web"}`), "already exists")
	mustFail(t, call(t, c, "get_session", `{"session_id":"Not An Id!"}`))
	mustOK(t, call(t, c, "list_sessions", ``))

	calls, timed := toolCalls(t, m)
	for key, want := range map[string]float64{
		"create_session/ok": 1, "create_session/error": 1, "create_session/fault": 0,
		"get_session/error": 1, "get_session/ok": 0,
		"list_sessions/ok":  1,
		"delete_session/ok": 0, // every tool is there from the start
	} {
		if got, ok := calls[key]; !ok || got != want {
			t.Errorf("troupe_tool_calls_total %s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	if timed["create_session"] != 2 || timed["list_sessions"] != 1 {
		t.Errorf("troupe_tool_duration_seconds counts = %v, want create_session 2, list_sessions 1", timed)
	}
}

// A Go error is a fault, and so is a panic, which still reaches mcp-go's recovery; a tool
// nobody registered counts as "other".
func TestMetricsMiddlewareFaults(t *testing.T) {
	m := metrics.New(metrics.Options{})
	mw := metricsMiddleware(m, []Tool{{ServerTool: server.ServerTool{Tool: mcp.Tool{Name: "known"}}}})
	failing := mw(func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return nil, errors.New("store unavailable")
	})
	panicking := mw(func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) { panic("boom") })
	req := func(name string) mcp.CallToolRequest {
		var r mcp.CallToolRequest
		r.Params.Name = name
		return r
	}
	if _, err := failing(context.Background(), req("known")); err == nil {
		t.Fatal("the middleware lost the handler's error")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the middleware swallowed a panic; mcp-go's recovery should answer it")
			}
		}()
		_, _ = panicking(context.Background(), req("unregistered"))
	}()
	calls, _ := toolCalls(t, m)
	if calls["known/fault"] != 1 || calls["other/fault"] != 1 || calls["known/ok"] != 0 {
		t.Fatalf("calls = %v, want known/fault 1, other/fault 1", calls)
	}
	if _, ok := calls["unregistered/fault"]; ok {
		t.Fatal("an unregistered tool got a label of its own")
	}
}
