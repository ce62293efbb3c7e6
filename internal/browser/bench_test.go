package browser

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/bench"
)

// BenchmarkPageOpen: the first page of a fresh context, at a local URL, load included.
func BenchmarkPageOpen(b *testing.B) {
	d, s := shared(b), newSite(b)
	ctx := context.Background()
	var ds []time.Duration
	for range 15 {
		c, err := d.OpenContext(ctx, "bench", nil)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		p, err := c.OpenPage(ctx, s.url("/"))
		ds = append(ds, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		_ = p.Close(ctx)
		_ = c.Close()
	}
	bench.ReportRounded("driver_page_open_p50_ms", bench.Millis(bench.Percentile(ds, 50)), 1, "ms")
}

// BenchmarkSecondPage: another page in a context that already has one.
func BenchmarkSecondPage(b *testing.B) {
	d, s := shared(b), newSite(b)
	ctx := context.Background()
	c := openContext(b, d, "bench", nil)
	openPage(b, c, s.url("/"))
	var ds []time.Duration
	for range 15 {
		start := time.Now()
		p, err := c.OpenPage(ctx, s.url("/about"))
		ds = append(ds, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		_ = p.Close(ctx)
	}
	bench.ReportRounded("driver_second_page_p50_ms", bench.Millis(bench.Percentile(ds, 50)), 1, "ms")
}

// BenchmarkPageContentMarkdown: markdown of a small page.
func BenchmarkPageContentMarkdown(b *testing.B) {
	d, s := shared(b), newSite(b)
	ctx := context.Background()
	p := openPage(b, openContext(b, d, "bench", nil), s.url("/"))
	var ds []time.Duration
	for range 40 {
		start := time.Now()
		if _, err := p.Content(ctx, ContentRequest{}); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	bench.ReportRounded("driver_page_content_md_p50_ms", bench.Millis(bench.Percentile(ds, 50)), 2, "ms")
}

// BenchmarkSessionContextMemory: Chromium's PSS added by one more context with one page.
func BenchmarkSessionContextMemory(b *testing.B) {
	d, s := shared(b), newSite(b)
	ctx := context.Background()
	warm := openContext(b, d, "warm", nil) // the browser's fixed cost is not the session's
	openPage(b, warm, s.url("/"))
	d.mu.Lock()
	pid := d.proc.pid
	d.mu.Unlock()
	before := treePSS(b, pid)
	const n = 4
	for i := range n {
		c := openContext(b, d, "mem"+strconv.Itoa(i), nil)
		p := openPage(b, c, s.url("/"))
		if _, err := p.Content(ctx, ContentRequest{}); err != nil {
			b.Fatal(err)
		}
	}
	after := treePSS(b, pid)
	bench.ReportRounded("driver_session_context_mb", float64(after-before)/n/1024, 1, "MB")
}

// treePSS is bench.TreePSSKB, failing the benchmark when nothing could be read.
func treePSS(tb testing.TB, root int) int {
	tb.Helper()
	kb := bench.TreePSSKB(root)
	if kb == 0 {
		tb.Fatalf("no Pss read for chromium %d", root)
	}
	return kb
}
