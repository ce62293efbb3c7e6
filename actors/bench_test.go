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
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
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

// BenchmarkDeleteAndRestore1000Children measures delete_session of a session with 1,000 fake
// agents (the cascade itself: one stop at a time, newest first) and restore_session of it, on a
// real bbolt file.
func BenchmarkDeleteAndRestore1000Children(b *testing.B) {
	ask := benchSystem(b, Options{MaxChildren: 2000, Processes: process.NewFake()})
	for b.Loop() {
		ask(&messages.CreateSession{SessionID: "big"})
		for i := range 1000 {
			if r := testutil.AsAgent(ask(&messages.CreateAgent{SessionID: "big", Name: fmt.Sprintf("c%04d", i), Spec: messages.AgentSpec{Command: "cat", Mode: "interactive", Restart: "never"}})); r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		start := time.Now()
		res := testutil.AsDeleteSession(ask(&messages.DeleteSession{SessionID: "big", Reason: "deleted"}))
		deleted := time.Since(start)
		if res.Err != nil || len(res.Stopped) != 1000 {
			b.Fatalf("delete: %v, %d stopped", res.Err, len(res.Stopped))
		}
		start = time.Now()
		r := testutil.AsSession(ask(&messages.RestoreSession{SnapshotID: res.SnapshotID}))
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		for {
			g := testutil.AsSession(ask(&messages.GetSession{SessionID: "big"}))
			if running(g.Session.Children) == 1000 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		restored := time.Since(start)
		bench.ReportRounded("delete_1000_children_ms", bench.Millis(deleted), 1, "ms")
		bench.ReportRounded("restore_1000_children_ms", bench.Millis(restored), 1, "ms")
	}
}

func running(kids []messages.ChildInfo) int {
	n := 0
	for _, k := range kids {
		if k.Status == messages.AgentRunning {
			n++
		}
	}
	return n
}

// BenchmarkDelete50Agents measures delete_session of a session with 50 real `cat` agents.
func BenchmarkDelete50Agents(b *testing.B) {
	ask := benchSystem(b, Options{MaxChildren: 100, Processes: process.Real()})
	for b.Loop() {
		var ds []time.Duration
		for round := range 5 {
			id := fmt.Sprintf("fifty%d", round)
			ask(&messages.CreateSession{SessionID: id})
			for i := range 50 {
				if r := testutil.AsAgent(ask(&messages.CreateAgent{SessionID: id, Name: fmt.Sprintf("cat%02d", i), Spec: messages.AgentSpec{Command: "cat", Mode: "interactive", Restart: "never"}})); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			start := time.Now()
			res := testutil.AsDeleteSession(ask(&messages.DeleteSession{SessionID: id, Reason: "deleted"}))
			ds = append(ds, time.Since(start))
			if res.Err != nil || len(res.Stopped) != 50 {
				b.Fatalf("delete: %v, %d stopped", res.Err, len(res.Stopped))
			}
		}
		bench.ReportRounded("delete_50_agents_ms", bench.Millis(bench.Percentile(ds, 50)), 1, "ms")
	}
}

// benchSystem starts an actor tree (startBenchSystem) and returns a function that asks it.
func benchSystem(b *testing.B, opts Options) func(msg any) any {
	sys := startBenchSystem(b, opts)
	return func(msg any) any {
		res, err := sys.Request(context.Background(), msg, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
}

// startBenchSystem starts an actor tree on a real bbolt file (opts' Store, Logger and DataDir are
// set here), stopped when the benchmark ends.
func startBenchSystem(b *testing.B, opts Options) *System {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "troupe.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	opts.Store, opts.Logger, opts.DataDir = st, zerolog.Nop(), dir
	sys, err := Start(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sys.Shutdown(context.Background()) })
	return sys
}
