package tools

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/bench"
	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/store"
)

// pageBenchClient is an in-process MCP client on a durable store with the real browser driver;
// it returns the data dir too, under which Chromium's profile lives.
func pageBenchClient(b *testing.B) (*client.Client, string) {
	c, dir, _ := pageBenchSetup(b)
	return c, dir
}

// pageBenchSetup is pageBenchClient with the store, for benchmarks that look at what is on disk.
func pageBenchSetup(b *testing.B) (*client.Client, string, *store.Bolt) {
	b.Helper()
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "troupe.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	drv, err := browser.New(browser.Options{DataDir: filepath.Join(dir, "browser"), Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { drv.Close() })
	sys, err := actors.Start(actors.Options{Store: st, Logger: zerolog.Nop(), MaxSessions: 100, Browser: drv, DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sys.Shutdown(context.Background()) })
	c := connect(b, NewServer(Deps{Actors: sys, Timeout: 30 * time.Second, Logger: zerolog.Nop()}, "bench"), "test")
	return c, dir, st
}

func benchSite(b *testing.B) string {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title>Bench</title></head><body><h1>Bench page</h1>
<p>Some <a href="/other">text</a> to render.</p><table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table></body></html>`)
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkPages measures, through the MCP tools and the real browser: open_page as a
// session's first page (its context opened, load included), another page in a session that
// has one, page_content as markdown of a small page, and Chromium's memory per extra session
// with one page.
func BenchmarkPages(b *testing.B) {
	c, dir := pageBenchClient(b)
	site := benchSite(b)
	callJSON(b, c, "create_session", map[string]any{"session_id": "warm"})
	callJSON(b, c, "open_page", map[string]any{"session_id": "warm", "name": "p", "url": site + "/"}) // launches Chromium
	for b.Loop() {
		var first, second, content []time.Duration
		for i := range 11 {
			id := fmt.Sprintf("first-%d", i)
			callJSON(b, c, "create_session", map[string]any{"session_id": id})
			start := time.Now()
			callJSON(b, c, "open_page", map[string]any{"session_id": id, "name": "p", "url": site + "/"})
			first = append(first, time.Since(start))
			callJSON(b, c, "close_page", map[string]any{"page_id": id + "/p"})
			callJSON(b, c, "delete_session", map[string]any{"session_id": id})
		}
		for i := range 11 {
			start := time.Now()
			callJSON(b, c, "open_page", map[string]any{"session_id": "warm", "name": fmt.Sprintf("q%d", i), "url": site + "/other"})
			second = append(second, time.Since(start))
			callJSON(b, c, "close_page", map[string]any{"page_id": fmt.Sprintf("warm/q%d", i)})
		}
		for range 40 {
			start := time.Now()
			callJSON(b, c, "page_content", map[string]any{"page_id": "warm/p"})
			content = append(content, time.Since(start))
		}
		pid := chromiumPID(b, dir)
		before := treePSS(b, pid)
		const n = 4
		for i := range n {
			id := fmt.Sprintf("mem-%d", i)
			callJSON(b, c, "create_session", map[string]any{"session_id": id})
			callJSON(b, c, "open_page", map[string]any{"session_id": id, "name": "p", "url": site + "/"})
			callJSON(b, c, "page_content", map[string]any{"page_id": id + "/p"})
		}
		after := treePSS(b, pid)
		bench.ReportRounded("page_open_p50_ms", bench.Millis(bench.Percentile(first, 50)), 1, "ms")
		bench.ReportRounded("second_page_p50_ms", bench.Millis(bench.Percentile(second, 50)), 1, "ms")
		bench.ReportRounded("page_content_md_p50_ms", bench.Millis(bench.Percentile(content, 50)), 2, "ms")
		bench.ReportRounded("session_context_mb", float64(after-before)/n/1024, 1, "MB")
	}
}

// chromiumPID finds the browser whose user-data dir lies under dir (not one of its helpers).
func chromiumPID(b *testing.B, dir string) int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(data)
		if strings.Contains(s, "--user-data-dir="+dir) && !strings.Contains(s, "--type=") {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			return pid
		}
	}
	b.Fatal("no chromium runs with a user-data dir under " + dir)
	return 0
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
