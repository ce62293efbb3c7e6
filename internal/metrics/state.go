package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/troupe-dev/troupe/messages"
)

// Children's states, the values of troupe_children's state label.
const (
	// StateRunning: an agent whose process lives, a page that is open.
	StateRunning = "running"
	// StateEnded: a child kept for its output after it ended (an exited or failed agent).
	StateEnded = "ended"
)

// statuses are the session statuses reported even when no session has them.
var statuses = []messages.Status{messages.StatusActive, messages.StatusDeleting, messages.StatusRestoring}

var (
	sessionsDesc = prometheus.NewDesc("troupe_sessions", "Sessions by status.", []string{"status"}, nil)
	childrenDesc = prometheus.NewDesc("troupe_children", "Children of the sessions by kind and state (running, or ended and kept for its output).",
		[]string{"kind", "state"}, nil)
)

// stateCollector asks the orchestrator for its counts at every scrape: nothing is kept in
// step with the actors, and the answer is one pass over the registry of sessions.
type stateCollector struct {
	ask   func() (*messages.SessionMetricsResult, error)
	kinds []messages.ChildKind
}

func newStateCollector(ask func() (*messages.SessionMetricsResult, error), kinds []messages.ChildKind) *stateCollector {
	return &stateCollector{ask: ask, kinds: kinds}
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sessionsDesc
	ch <- childrenDesc
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	r, err := c.ask()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(sessionsDesc, err)
		return
	}
	for _, s := range statuses {
		if _, ok := r.Sessions[s]; !ok {
			ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, 0, string(s))
		}
	}
	for s, n := range r.Sessions {
		ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(n), string(s))
	}
	seen := make(map[messages.ChildKind]bool, len(c.kinds)+len(r.Children))
	emit := func(k messages.ChildKind) {
		if seen[k] {
			return
		}
		seen[k] = true
		running := r.ChildrenRunning[k]
		ended := max(r.Children[k]-running, 0)
		ch <- prometheus.MustNewConstMetric(childrenDesc, prometheus.GaugeValue, float64(running), string(k), StateRunning)
		ch <- prometheus.MustNewConstMetric(childrenDesc, prometheus.GaugeValue, float64(ended), string(k), StateEnded)
	}
	for _, k := range c.kinds {
		emit(k)
	}
	for k := range r.Children {
		emit(k)
	}
	for k := range r.ChildrenRunning {
		emit(k)
	}
}
