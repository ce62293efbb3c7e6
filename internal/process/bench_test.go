package process

import (
	"context"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/bench"
)

// BenchmarkSpawn measures Start of `cat` until it runs (Start returns once the program was
// executed), over a fixed number of processes.
func BenchmarkSpawn(b *testing.B) {
	const n = 100
	ds := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		p, err := Real().Start(Spec{Command: "cat", Stdin: true})
		ds = append(ds, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Stop(context.Background(), time.Second); err != nil {
			b.Fatal(err)
		}
	}
	bench.ReportRounded("process_spawn_p50_ms", bench.Millis(bench.Percentile(ds, 50)), 3, "ms")
}

// BenchmarkCatRoundtrip measures writing a line to an interactive `cat` until its echo is in the
// Output (Output.Wait).
func BenchmarkCatRoundtrip(b *testing.B) {
	const n = 2000
	o, err := NewOutput(b.TempDir()+"/cat.log", 0)
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close()
	p, err := Real().Start(Spec{Command: "cat", Stdin: true, Stdout: o.Writer("stdout")})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Stop(context.Background(), time.Second)
	ctx := context.Background()
	line := []byte("the quick brown fox jumps over the lazy dog\n")
	ds := make([]time.Duration, 0, n)
	for range n {
		last := o.LastSeq()
		t0 := time.Now()
		if err := p.Write(ctx, line); err != nil {
			b.Fatal(err)
		}
		if err := o.Wait(ctx, last); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	bench.ReportRounded("process_cat_roundtrip_p50_us", bench.Micros(bench.Percentile(ds, 50)), 1, "us")
}
