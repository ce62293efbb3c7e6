package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/internal/bench"
)

// Where each side of the peer benchmark spends its time: logged beside the BENCH figures
// (go test -v), for tuning, not compared with goals. Memory per process type: chromiumTypes.

// peerVisitParts splits a warm visit into its calls: an MCP round trip that touches no page,
// the navigation, the read; and the size and text of what each side answers.
func peerVisitParts(b *testing.B, tc, pc *client.Client, site string) {
	const n = 10
	var trip, nav, read, pTrip, pNav []time.Duration
	var tChars, pChars int
	var pText string
	timed := func(into *[]time.Duration, c *client.Client, tool string, args map[string]any) *mcp.CallToolResult {
		start := time.Now()
		res := call(b, c, tool, args)
		*into = append(*into, time.Since(start))
		return res
	}
	for i := range n {
		url := site + "/" + string("ab"[i%2])
		timed(&trip, tc, "list_sessions", map[string]any{})
		timed(&nav, tc, "navigate_page", map[string]any{"page_id": "peer/p", "url": url})
		tChars = chars(timed(&read, tc, "page_content", map[string]any{"page_id": "peer/p", "format": "markdown"}))
		timed(&pTrip, pc, "browser_tabs", map[string]any{"action": "list"})
		res := timed(&pNav, pc, "browser_navigate", map[string]any{"url": url})
		pChars, pText = chars(res), text(res)
	}
	p50 := func(ds []time.Duration) float64 { return bench.Millis(bench.Percentile(ds, 50)) }
	b.Logf("troupe warm visit p50: round trip (list_sessions) %.1f ms, navigate_page %.1f ms, page_content %.1f ms; answer %d chars (markdown)",
		p50(trip), p50(nav), p50(read), tChars)
	b.Logf("Playwright MCP warm visit p50: round trip (browser_tabs list) %.1f ms, browser_navigate %.1f ms (%d chars; browser_snapshot answers %d chars: YAML); browser_navigate answers:\n%s",
		p50(pTrip), p50(pNav), pChars, chars(call(b, pc, "browser_snapshot", map[string]any{})), pText)
}

// chars is the length of a tool result's text.
func chars(res *mcp.CallToolResult) int { return len(text(res)) }

// text is a tool result's text.
func text(res *mcp.CallToolResult) string {
	var s strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			s.WriteString(t.Text)
		}
	}
	return s.String()
}
