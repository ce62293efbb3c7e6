package actors

import (
	"testing"

	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// The metrics count sessions by status and children by kind and by whether they still run:
// what /metrics exports as troupe_sessions{status} and troupe_children{kind,state}.
func TestMetricsCountByStatusAndRunningByKind(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	h.mustCreate("t")
	h.mustAgent("s", "a", catSpec)
	h.mustAgent("s", "b", catSpec)
	h.mustAgent("t", "c", catSpec)
	h.procs.Processes()[0].Finish(0)

	var m testutil.SessionMetricsReply
	waitFor(t, func() bool {
		m = testutil.AsSessionMetrics(h.ask(&messages.SessionMetrics{}))
		return m.RunningChildren == 2
	})
	if m.Err != nil {
		t.Fatalf("metrics: %v", m.Err)
	}
	if got := m.Sessions[messages.StatusActive]; got != 2 || len(m.Sessions) != 1 {
		t.Fatalf("sessions by status = %v, want 2 active and nothing else", m.Sessions)
	}
	if m.Children[messages.KindAgent] != 3 || m.ChildrenRunning[messages.KindAgent] != 2 {
		t.Fatalf("agents = %d, running %d; want 3, 2 (the exited one is listed, not running)",
			m.Children[messages.KindAgent], m.ChildrenRunning[messages.KindAgent])
	}
	if m.ChildrenRunning[messages.KindPage] != 0 {
		t.Fatalf("running pages = %d, want 0", m.ChildrenRunning[messages.KindPage])
	}
}
