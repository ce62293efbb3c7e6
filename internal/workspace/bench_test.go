package workspace

import (
	"fmt"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/bench"
)

// BenchmarkPreserve measures Preserve on a repository of 200 committed files of which 10 are
// changed (8 modified, 2 untracked) before each call. Run with -benchtime=1x.
func BenchmarkPreserve(b *testing.B) {
	files := map[string]string{}
	for i := range 200 {
		files[fmt.Sprintf("pkg%02d/file%03d.go", i%20, i)] = fmt.Sprintf("package pkg\n\n// file %d\nvar X%d = %d\n", i, i, i)
	}
	dir := newRepo(b, files)
	const rounds = 40
	ds := make([]time.Duration, 0, rounds)
	for b.Loop() {
		for r := range rounds {
			for i := range 8 {
				write(b, dir, fmt.Sprintf("pkg%02d/file%03d.go", i%20, i*20+i%20), fmt.Sprintf("package pkg\n// round %d\n", r))
			}
			write(b, dir, "new/a.txt", fmt.Sprintf("added in round %d", r))
			write(b, dir, "new/b.txt", fmt.Sprintf("added in round %d", r))
			start := time.Now()
			p, err := Preserve(b.Context(), dir, "bench", fmt.Sprintf("snap-%d", r))
			ds = append(ds, time.Since(start))
			if err != nil || p.Kind != KindGitRef || p.Files != 10 {
				b.Fatalf("round %d: got %+v, %v", r, p, err)
			}
		}
	}
	bench.ReportRounded("git_preserve_p50_ms", bench.Millis(bench.Percentile(ds, 50)), 2, "ms")
	bench.ReportRounded("git_preserve_p95_ms", bench.Millis(bench.Percentile(ds, 95)), 2, "ms")
}
