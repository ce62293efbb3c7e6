package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/troupe-dev/troupe/messages"
)

// scrape fetches h over HTTP, as Prometheus would, and parses the text format.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d, want 200", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	return fams
}

// find returns the metric of family name whose labels are exactly labels, or nil.
func find(fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is the value of a counter, gauge or untyped metric, or the sample count of a histogram.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	m := find(fams, name, labels)
	if m == nil {
		t.Fatalf("no %s%v in the scrape", name, labels)
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	t.Fatalf("%s%v has no value", name, labels)
	return 0
}

func TestScrapeHasEveryFamily(t *testing.T) {
	t.Parallel()
	m := New(Options{
		Sessions: func() (*messages.SessionMetricsResult, error) {
			return &messages.SessionMetricsResult{
				Sessions:        map[messages.Status]int{messages.StatusActive: 2, messages.StatusDeleting: 1},
				Children:        map[messages.ChildKind]int{messages.KindAgent: 3},
				ChildrenRunning: map[messages.ChildKind]int{messages.KindAgent: 2},
			}, nil
		},
		ChildKinds: []messages.ChildKind{messages.KindAgent, messages.KindPage},
	})
	m.SetClients(func() int { return 3 })
	tools := m.Tools([]string{"create_session", "list_sessions"})
	cs := tools.Lookup("create_session")
	cs.Observe(OutcomeOK, 10*time.Millisecond)
	cs.Observe(OutcomeOK, 20*time.Millisecond)
	cs.Observe(OutcomeError, time.Millisecond)
	tools.Lookup("no_such_tool").Observe(OutcomeFault, time.Second)
	m.ObserveAuditFsync(2 * time.Millisecond)
	m.ObserveStoreCommit(3 * time.Millisecond)
	m.ObserveStoreCommit(4 * time.Millisecond)

	fams := scrape(t, m.Handler())
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"troupe_tool_calls_total", map[string]string{"tool": "create_session", "outcome": "ok"}, 2},
		{"troupe_tool_calls_total", map[string]string{"tool": "create_session", "outcome": "error"}, 1},
		{"troupe_tool_calls_total", map[string]string{"tool": "create_session", "outcome": "fault"}, 0},
		{"troupe_tool_calls_total", map[string]string{"tool": "list_sessions", "outcome": "ok"}, 0},
		{"troupe_tool_calls_total", map[string]string{"tool": "other", "outcome": "fault"}, 1},
		{"troupe_tool_duration_seconds", map[string]string{"tool": "create_session"}, 3},
		{"troupe_tool_duration_seconds", map[string]string{"tool": "other"}, 1},
		{"troupe_audit_fsync_seconds", nil, 1},
		{"troupe_store_commit_seconds", nil, 2},
		{"troupe_sessions", map[string]string{"status": "active"}, 2},
		{"troupe_sessions", map[string]string{"status": "deleting"}, 1},
		{"troupe_sessions", map[string]string{"status": "restoring"}, 0},
		{"troupe_children", map[string]string{"kind": "agent", "state": "running"}, 2},
		{"troupe_children", map[string]string{"kind": "agent", "state": "ended"}, 1},
		{"troupe_children", map[string]string{"kind": "page", "state": "running"}, 0},
		{"troupe_children", map[string]string{"kind": "page", "state": "ended"}, 0},
		{"troupe_daemon_clients", nil, 3},
	} {
		if got := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := find(fams, "troupe_tool_calls_total", map[string]string{"tool": "no_such_tool", "outcome": "fault"}); got != nil {
		t.Error("an unknown tool got a label of its own; want it counted as other")
	}
	if sum := find(fams, "troupe_store_commit_seconds", nil).GetHistogram().GetSampleSum(); sum < 0.0069 || sum > 0.0071 {
		t.Errorf("troupe_store_commit_seconds sum = %v, want 0.007", sum)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("no %s: the standard collectors are missing", name)
		}
	}
}

// A scrape while the orchestrator cannot answer still serves every other metric.
func TestScrapeWithoutTheOrchestratorServesTheRest(t *testing.T) {
	t.Parallel()
	m := New(Options{Sessions: func() (*messages.SessionMetricsResult, error) {
		return nil, errors.New("no answer within 5s")
	}})
	m.ObserveAuditFsync(time.Millisecond)
	fams := scrape(t, m.Handler())
	if fams["troupe_sessions"] != nil || fams["troupe_children"] != nil {
		t.Error("session counts served without an answer from the orchestrator")
	}
	if got := value(t, fams, "troupe_audit_fsync_seconds", nil); got != 1 {
		t.Errorf("troupe_audit_fsync_seconds count = %v, want 1", got)
	}
	if fams["troupe_daemon_clients"] != nil {
		t.Error("troupe_daemon_clients served before SetClients")
	}
}

// Recording a call allocates nothing: the observers were resolved at registration.
func TestObserveToolAllocatesNothing(t *testing.T) {
	m := New(Options{})
	tools := m.Tools([]string{"create_session"})
	if n := testing.AllocsPerRun(100, func() {
		tools.Lookup("create_session").Observe(OutcomeOK, time.Millisecond)
	}); n != 0 {
		t.Fatalf("recording a tool call allocates %v times, want 0", n)
	}
}

func BenchmarkObserveTool(b *testing.B) {
	tools := New(Options{}).Tools([]string{"create_session", "list_sessions"})
	b.ReportAllocs()
	for b.Loop() {
		tools.Lookup("create_session").Observe(OutcomeOK, time.Millisecond)
	}
}
