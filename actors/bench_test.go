package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/bench"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// BenchmarkHeapPerIdleSession measures the live heap that 10,000 idle sessions add: records
// written to a real bbolt file, then recovered into actors, as after a restart.
func BenchmarkHeapPerIdleSession(b *testing.B) {
	const n = 10000
	st, err := store.Open(filepath.Join(b.TempDir(), "troupe.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	recs := make([]store.SessionRecord, n)
	for i := range recs {
		recs[i] = store.SessionRecord{ID: fmt.Sprintf("idle-%05d", i), Name: "idle session", CreatedAt: now, LastActivity: now,
			Status: "active", Workspace: "/home/user/work/" + fmt.Sprint(i), State: map[string]json.RawMessage{"step": json.RawMessage(`3`)},
			Labels: map[string]string{"team": "bench"}}
	}
	if err := st.PutSessions(recs); err != nil {
		b.Fatal(err)
	}
	recs = nil
	for b.Loop() {
		before := liveHeap()
		sys, err := Start(Options{Store: st, Logger: zerolog.Nop(), MaxSessions: 2 * n})
		if err != nil {
			b.Fatal(err)
		}
		after := liveHeap()
		res, err := sys.Request(context.Background(), &messages.SessionMetrics{}, 10*time.Second)
		if err != nil || res == nil {
			b.Fatal(err)
		}
		bench.ReportRounded("heap_per_idle_session_bytes", float64(after-before)/n, 0, "bytes")
		_ = sys.Shutdown(context.Background())
	}
}

func liveHeap() uint64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
