package main

import (
	"context"
	"fmt"
	"time"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/metrics"
	"github.com/troupe-dev/troupe/messages"
)

// metricsAskTimeout bounds a scrape's wait for the orchestrator's counts; Prometheus gives up on
// a scrape after 10 s by default.
const metricsAskTimeout = 5 * time.Second

// newRuntimeMetrics builds the metrics of a runtime (DESIGN §12, /metrics) and hooks the audit
// log's fsyncs and the store's commits to them; the tools count their calls through
// tools.Deps.Metrics, and the orchestrator is asked for its counts at each scrape.
func newRuntimeMetrics(rt *serverRuntime) *metrics.Metrics {
	m := metrics.New(metrics.Options{Sessions: rt.sessionCounts, ChildKinds: actors.ChildKinds(),
		Logger: rt.log.With().Str("component", "metrics").Logger()})
	rt.audit.SetFsyncHook(m.ObserveAuditFsync)
	if rt.bolt != nil {
		rt.bolt.SetCommitHook(m.ObserveStoreCommit)
	}
	return m
}

// sessionCounts asks the orchestrator for its counts, for a scrape.
func (rt *serverRuntime) sessionCounts() (*messages.SessionMetricsResult, error) {
	res, err := rt.actors.Request(context.Background(), &messages.SessionMetrics{}, metricsAskTimeout)
	if err != nil {
		return nil, err
	}
	switch r := res.(type) {
	case *messages.SessionMetricsResult:
		return r, nil
	case *messages.Error:
		return nil, r
	}
	return nil, fmt.Errorf("session metrics: unexpected answer %T", res)
}
