package tools

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/bench"
	"github.com/troupe-dev/troupe/internal/store"
)

// mutationClient is an in-process client on a durable store, audited when withAudit.
func mutationClient(b *testing.B, withAudit bool) *client.Client {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "troupe.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	d := Deps{Timeout: 10 * time.Second, Logger: zerolog.Nop(), Transport: "bench"}
	if withAudit {
		l, err := audit.Open(dir, audit.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.Close() })
		d.Audit = l
	}
	sys, err := actors.Start(actors.Options{Store: st, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sys.Shutdown(context.Background()) })
	d.Actors = sys
	c := connect(b, NewServer(d, "bench"), "test")
	callB(b, c, "create_session", map[string]any{"session_id": "a"})
	return c
}

// BenchmarkAuditOverhead compares the p50 of a mutating call (update_session_state on the
// durable store) with the audit log on and off, in blocks taken in turn.
func BenchmarkAuditOverhead(b *testing.B) {
	on, off := mutationClient(b, true), mutationClient(b, false)
	for b.Loop() {
		var withAudit, without []time.Duration
		timed := func(c *client.Client, into *[]time.Duration, n int) {
			for i := range n {
				start := time.Now()
				callB(b, c, "update_session_state", map[string]any{"session_id": "a", "set": map[string]any{"n": i}})
				*into = append(*into, time.Since(start))
			}
		}
		timed(on, new([]time.Duration), 50) // warm-up
		timed(off, new([]time.Duration), 50)
		for range 10 {
			timed(on, &withAudit, 60)
			timed(off, &without, 60)
		}
		pOn, pOff := bench.Percentile(withAudit, 50), bench.Percentile(without, 50)
		bench.ReportRounded("audit_mutation_p50_us", bench.Micros(pOn), 1, "us")
		bench.ReportRounded("unaudited_mutation_p50_us", bench.Micros(pOff), 1, "us")
		bench.ReportRounded("audit_overhead_ratio", float64(pOn)/float64(pOff), 2, "x")
	}
}
