package route

import (
	"context"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/bench"
	"github.com/troupe-dev/troupe/messages"
)

// BenchmarkRemoteCall measures get_session through node a for a session that node b owns: the
// router's lookup of the owner, the codec, a Proto.Actor remote hop over loopback each way,
// and b's gateway (b's actors are fakes: the figure is the routing's own cost).
func BenchmarkRemoteCall(b *testing.B) {
	nodes := startNodes(b, "a", "b")
	sid := sessionOn(b, nodes[0], "b")
	const calls = 5000
	for b.Loop() {
		ds := make([]time.Duration, 0, calls)
		for i := range calls + 200 {
			start := time.Now()
			res, err := nodes[0].router.Request(context.Background(), &messages.GetSession{SessionID: sid}, 5*time.Second)
			took := time.Since(start)
			if s, ok := res.(*messages.SessionResult); err != nil || !ok || s.Session.Node != "b" {
				b.Fatalf("get_session %s through a: %#v, %v", sid, res, err)
			}
			if i >= 200 { // after the warm-up
				ds = append(ds, took)
			}
		}
		b.ReportMetric(float64(bench.Percentile(ds, 50).Microseconds()), "p50-us")
		bench.ReportRounded("cluster_remote_call_p99_us", bench.Micros(bench.Percentile(ds, 99)), 0, "us")
	}
}
