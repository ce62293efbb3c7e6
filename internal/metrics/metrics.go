// Package metrics exports what troupe measures in the Prometheus text format, for the daemon's
// /metrics endpoint (DESIGN §12): sessions and children counted at scrape time, tool calls and
// their latency, the audit log's fsyncs, the store's commits, the clients connected, and the
// standard Go and process collectors.
//
// Each Metrics owns its registry (never the global default one), so that tests and servers in
// one process do not share counts. Label values are bounded: tools are a fixed set named at
// registration (any other name counts as "other"), statuses, kinds and states are few.
package metrics

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/messages"
)

// Options says where the metrics counted at scrape time come from.
type Options struct {
	// Sessions answers the orchestrator's counts (messages.SessionMetrics) at scrape time; nil
	// leaves troupe_sessions and troupe_children out. It should bound its own wait.
	Sessions func() (*messages.SessionMetricsResult, error)
	// ChildKinds are the child kinds reported even when no child has them (actors.ChildKinds()).
	ChildKinds []messages.ChildKind
	// Logger receives what goes wrong during a scrape; the zero Logger discards it.
	Logger zerolog.Logger
}

// Metrics is troupe's registry of metrics and the handler that serves it. Its methods are safe
// for concurrent use.
type Metrics struct {
	reg          *prometheus.Registry
	handler      http.Handler
	toolCalls    *prometheus.CounterVec
	toolDuration *prometheus.HistogramVec
	auditFsync   prometheus.Histogram
	storeCommit  prometheus.Histogram
	clients      *clientsCollector
}

// Bucket bounds, in seconds. Tool calls run from a map lookup (sub-millisecond) to a page load
// or a delete cascade bounded by call_timeout (60 s by default); fsyncs and commits from tens of
// microseconds on a fast SSD to around a second on a struggling disk.
var (
	toolBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	diskBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
)

// New builds the metrics and registers them, with the Go and process collectors, in a registry
// of their own.
func New(o Options) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "troupe_tool_calls_total",
			Help: "MCP tool calls by tool and outcome: ok, error (a tool error the caller can fix), fault (an internal error).",
		}, []string{"tool", "outcome"}),
		toolDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "troupe_tool_duration_seconds",
			Help:    "How long MCP tool calls took, audit included, by tool.",
			Buckets: toolBuckets,
		}, []string{"tool"}),
		auditFsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "troupe_audit_fsync_seconds",
			Help:    "How long each fsync of the audit log took (one per batch of events).",
			Buckets: diskBuckets,
		}),
		storeCommit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "troupe_store_commit_seconds",
			Help:    "How long each committed write transaction of the store took, fsync included (one per batch of writes).",
			Buckets: diskBuckets,
		}),
	}
	m.clients = &clientsCollector{}
	m.reg.MustRegister(m.toolCalls, m.toolDuration, m.auditFsync, m.storeCommit, m.clients,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.Sessions != nil {
		m.reg.MustRegister(newStateCollector(o.Sessions, o.ChildKinds))
	}
	// ContinueOnError: a scrape while the orchestrator cannot answer still serves everything else.
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: errorLog{o.Logger}, ErrorHandling: promhttp.ContinueOnError, Registry: m.reg,
	})
	return m
}

// Handler serves the metrics in the Prometheus exposition formats (text by default).
func (m *Metrics) Handler() http.Handler { return m.handler }

// ObserveAuditFsync records one fsync of the audit log (audit.Log.SetFsyncHook).
func (m *Metrics) ObserveAuditFsync(d time.Duration) { m.auditFsync.Observe(d.Seconds()) }

// ObserveStoreCommit records one commit of the store (store.Bolt.SetCommitHook).
func (m *Metrics) ObserveStoreCommit(d time.Duration) { m.storeCommit.Observe(d.Seconds()) }

// errorLog hands promhttp's scrape errors to the logger.
type errorLog struct{ log zerolog.Logger }

func (e errorLog) Println(v ...any) {
	e.log.Warn().Str("component", "metrics").Msg(fmt.Sprint(v...))
}
