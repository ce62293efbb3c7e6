package tools

import (
	"context"

	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/internal/bench"
)

// BenchmarkTerminal measures terminal agents (DESIGN §13) over MCP: a key typed on `cat` on a
// PTY until read_agent_screen shows it, and the memory 50 idle terminal agents take.
func BenchmarkTerminal(b *testing.B) {
	c := benchClient(b, 200)
	callJSON(b, c, "create_session", map[string]any{"session_id": "term"})
	for b.Loop() {
		callJSON(b, c, "create_agent", map[string]any{"session_id": "term", "name": "cat", "preset": "cat", "mode": "terminal", "rows": 24, "cols": 80})
		var lat []time.Duration
		for i := range 300 {
			key := string(rune('a' + i%26))
			want := strings.Repeat(key, 1+i/26%3) // a row of its own: cat echoes each line twice
			start := time.Now()
			errs := make(chan error, 1)
			go func() {
				_, err := callTool(c, "send_keys", map[string]any{"agent_id": "term/cat", "text": want, "keys": []string{"Enter"}})
				errs <- err
			}()
			for {
				scr := callJSON(b, c, "read_agent_screen", map[string]any{"agent_id": "term/cat"})
				if rowsEnd(scr, want) {
					break
				}
			}
			if i >= 20 {
				lat = append(lat, time.Since(start))
			}
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		bench.ReportRounded("terminal_key_to_screen_p50_ms", bench.Millis(bench.Percentile(lat, 50)), 2, "ms")

		callJSON(b, c, "create_session", map[string]any{"session_id": "fifty"})
		before := settledRSSKB()
		for i := range 50 {
			callJSON(b, c, "create_agent", map[string]any{"session_id": "fifty", "name": fmt.Sprintf("t%02d", i), "preset": "cat", "mode": "terminal"})
		}
		for i := range 50 { // each has drawn something and settled
			callJSON(b, c, "send_keys", map[string]any{"agent_id": fmt.Sprintf("fifty/t%02d", i), "text": "hello", "keys": []string{"Enter"}})
		}
		after := settledRSSKB()
		bench.ReportRounded("terminal_agents_50_rss_mb", float64(after-before)/1024, 1, "MB")
	}
}

// rowsEnd reports whether the screen's last non-blank rows are want twice (typed, then cat's copy).
func rowsEnd(scr map[string]any, want string) bool {
	var rows []string
	for _, r := range scr["screen"].([]any) {
		rows = append(rows, r.(string))
	}
	for len(rows) > 0 && rows[len(rows)-1] == "" {
		rows = rows[:len(rows)-1]
	}
	return len(rows) >= 2 && slices.Equal(rows[len(rows)-2:], []string{want, want})
}

// settledRSSKB is this process's resident memory after a GC returned what it could.
func settledRSSKB() int {
	runtime.GC()
	debug.FreeOSMemory()
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// callTool calls a tool and reports a failure as an error (for goroutines).
func callTool(c *client.Client, tool string, args map[string]any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	res, err := c.CallTool(context.Background(), req)
	if err == nil && res.IsError {
		err = fmt.Errorf("%s: %+v", tool, res.Content)
	}
	return res, err
}
