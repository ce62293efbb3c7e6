package audit

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/bench"
)

// benchEvent is a typical "requested" event of a tool call.
func benchEvent(i int) Event {
	return Event{Action: "session.update_state", Stage: StageRequested, Session: "research",
		Target: "research", Actor: &Actor{Transport: "stdio", ClientName: "claude-ai", ClientVersion: "0.1.0"},
		Details: map[string]any{"set": map[string]any{"step": i}}}
}

// BenchmarkAppend1Writer: one goroutine, each Append waiting for its fsync. Each Append is
// paired with a bare write+fsync of a line of the same size in the same directory, so that the
// ratio of their medians shows what the log costs beyond the fsync it cannot avoid.
func BenchmarkAppend1Writer(b *testing.B) {
	l, data := openLog(b, Options{})
	bare, err := os.OpenFile(filepath.Join(data, "bare"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	line := make([]byte, 330)
	const n = 1000
	lat := make([]time.Duration, 0, n)
	bareLat := make([]time.Duration, 0, n)
	var inAppend time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := bare.Write(line); err != nil {
			b.Fatal(err)
		}
		if err := bare.Sync(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := l.Append(context.Background(), benchEvent(i)); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t1)
		inAppend += d
		bareLat, lat = append(bareLat, t1.Sub(t0)), append(lat, d)
	}
	p50, bare50 := bench.Percentile(lat, 50), bench.Percentile(bareLat, 50)
	bench.ReportRounded("audit_events_per_s_1_writer", n/inAppend.Seconds(), 0, "events/s")
	bench.ReportRounded("audit_append_p50_us_1_writer", bench.Micros(p50), 1, "us")
	bench.ReportRounded("audit_append_p99_us_1_writer", bench.Micros(bench.Percentile(lat, 99)), 1, "us")
	bench.ReportRounded("audit_bare_fsync_p50_us", bench.Micros(bare50), 1, "us")
	bench.ReportRounded("audit_append_over_bare_fsync", float64(p50)/float64(bare50), 2, "x")
}

// BenchmarkAppend16Writers: 16 goroutines appending at once, each waiting for durability.
func BenchmarkAppend16Writers(b *testing.B) {
	l, _ := openLog(b, Options{})
	const writers, each = 16, 500
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := l.Append(context.Background(), benchEvent(i)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	bench.ReportRounded("audit_events_per_s_16_writers", writers*each/time.Since(start).Seconds(), 0, "events/s")
}

// BenchmarkVerify: Verify over a 48 MiB log in 16 MiB segments; the median of three runs.
func BenchmarkVerify(b *testing.B) {
	dir := filepath.Join(b.TempDir(), DirName)
	writeBenchLog(b, dir, 48<<20, 16<<20)
	var rates []float64
	for run := 0; run < 3; run++ {
		start := time.Now()
		r, err := Verify(dir)
		if err != nil || !r.OK {
			b.Fatalf("Verify: %v, %v", r, err)
		}
		rates = append(rates, float64(r.Bytes)/(1<<20)/time.Since(start).Seconds())
	}
	sort.Float64s(rates)
	bench.ReportRounded("audit_verify_mb_per_s", rates[1], 1, "MiB/s")
}

// writeBenchLog writes about size bytes of events into segments of segSize, and the head.
func writeBenchLog(b *testing.B, dir string, size, segSize int64) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	enc := newEncoder()
	red := redactor{key: make([]byte, keyLen)}
	prev, seq := genesisHash, uint64(0)
	t0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	var buf []byte
	for n, total := 1, int64(0); total < size; n++ {
		buf = buf[:0]
		for int64(len(buf)) < segSize && total+int64(len(buf)) < size {
			seq++
			e := benchEvent(int(seq))
			e.Seq, e.Time, e.Prev = seq, t0.Add(time.Duration(seq)*time.Millisecond), prev
			_, raw, err := red.normalizeDetails(e.Details)
			if err != nil {
				b.Fatal(err)
			}
			if buf, prev, err = enc.appendLine(buf, &e, raw); err != nil {
				b.Fatal(err)
			}
		}
		total += int64(len(buf))
		if err := os.WriteFile(filepath.Join(dir, SegmentName(n)), buf, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	h, err := openHeadFile(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer h.close()
	if err := h.write(headState{Seq: seq, Hash: prev}, true); err != nil {
		b.Fatal(err)
	}
}
