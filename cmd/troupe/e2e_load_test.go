package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// loadDuration is how long TestE2EHTTPLoad runs its clients (issue 13: 30 s).
const loadDuration = 30 * time.Second

// TestE2EHTTPLoad: 16 clients over real TCP, four tokens, each client looping over a mix of tools
// on sessions of its own for 30 s: no call fails, and once the clients are gone the daemon's
// goroutines and open files are back to what they were before.
func TestE2EHTTPLoad(t *testing.T) {
	d := startTCPDaemon(t, testutil.ShortDir(t))
	admin := d.token(t, "ops", "admin")
	tokens := make([]string, 4)
	for i := range tokens {
		tokens[i] = d.token(t, fmt.Sprintf("team-%d", i), "write")
	}
	// The baseline once the listener, the actors and one finished scrape have warmed up.
	goroutines(t, d, admin)
	baseG, baseFD := goroutines(t, d, admin), openFiles(t, d.pid)

	const clients = 16
	ctx, cancel := context.WithTimeout(context.Background(), loadDuration+60*time.Second)
	defer cancel()
	var calls, failures atomic.Int64
	var mu sync.Mutex
	var firstFailures []string
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 5 {
			mu.Lock()
			firstFailures = append(firstFailures, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
	}
	end := time.Now().Add(loadDuration)
	var wg sync.WaitGroup
	for n := range clients {
		c, err := client.NewStreamableHttpClient(d.base+"/mcp", httpAuth(tokens[n%len(tokens)]))
		if err != nil {
			t.Fatal(err)
		}
		if err := initializeHTTP(c, fmt.Sprintf("load-%d", n)); err != nil {
			t.Fatalf("client %d: %v", n, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close() // DELETE of its MCP session
			do := func(tool string, args map[string]any) map[string]any {
				calls.Add(1)
				res, err := callHTTP(ctx, c, tool, args)
				switch {
				case err != nil:
					fail("client %d %s: %v", n, tool, err)
					return nil
				case res.IsError:
					fail("client %d %s: %s", n, tool, resultText(res))
					return nil
				}
				m, _ := res.StructuredContent.(map[string]any)
				return m
			}
			for i := 0; time.Now().Before(end); i++ {
				id := fmt.Sprintf("load-%d-%d", n, i)
				do("create_session", map[string]any{"session_id": id, "labels": map[string]any{"load": "yes"}})
				for j := range 5 {
					do("update_session_state", map[string]any{"session_id": id, "set": map[string]any{"step": j}})
					do("get_session", map[string]any{"session_id": id})
				}
				do("list_sessions", map[string]any{"label": "load"})
				do("session_metrics", map[string]any{})
				if i%5 == 0 {
					do("audit_query", map[string]any{"session_id": id, "limit": 20})
					do("list_snapshots", map[string]any{"session_id": id})
				}
				do("delete_session", map[string]any{"session_id": id})
			}
		}()
	}
	wg.Wait()
	t.Logf("%d calls by %d clients in %v, %d failed", calls.Load(), clients, loadDuration, failures.Load())
	if failures.Load() > 0 {
		t.Errorf("%d of %d calls failed; the first:\n%s\ndaemon log:\n%s", failures.Load(), calls.Load(), strings.Join(firstFailures, "\n"), d.log.String())
	}

	// Back to the baseline: a few goroutines of slack for the scrape itself and HTTP keep-alives
	// winding down.
	var g, fds int
	testutil.Eventually(t, 20*time.Second, "goroutines and open files back to the baseline", func() bool {
		g, fds = goroutines(t, d, admin), openFiles(t, d.pid)
		return g <= baseG+5 && fds <= baseFD+3
	}, func() string {
		return fmt.Sprintf("goroutines %d (baseline %d), open files %d (baseline %d)", g, baseG, fds, baseFD)
	})
}

// goroutines reads go_goroutines from the daemon's /metrics.
func goroutines(t *testing.T, d *tcpDaemon, token string) int {
	t.Helper()
	code, b := d.scrape(t, token)
	for _, line := range strings.Split(b, "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return int(n)
			}
		}
	}
	t.Fatalf("/metrics has no go_goroutines (%d):\n%s", code, b)
	return 0
}

// openFiles counts the open file descriptors of a process.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
