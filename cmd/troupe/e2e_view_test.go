package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// The live view in real Chromium, in both of its hosts (DESIGN §15), against a real daemon: a
// test page playing an MCP Apps host (Claude Desktop) embeds it in a sandboxed iframe, and a
// test server standing in for the daemon's TCP listener serves it top-level.
//
// With TROUPE_UPDATE_SCREENSHOT=1 it also rewrites docs/live-view.png, the README's picture.
func TestLiveViewInBothHosts(t *testing.T) {
	dir := testutil.ShortDir(t)
	d := startTCPDaemon(t, dir, "--no-auth")
	s := startServer(t, dir, "TROUPE_LOG_LEVEL=warn") // a bridge to the same daemon
	liveSession(t, s, shopSite(t))
	b := testChromium(t)
	shots := artifactsDir(t)

	t.Run("mcp-apps", func(t *testing.T) {
		host := appsHost(t, s)
		p := openTab(t, b, host)
		v := viewFrame(t, p)
		checkSessionView(t, v)
		// The handshake came first, the view told its size, and the host saw no approve button.
		var log []struct {
			Method      string `json:"method"`
			Initialized bool   `json:"initialized"`
		}
		evalJSON(t, p, `() => JSON.stringify(window.hostLog)`, &log)
		if len(log) == 0 || log[0].Method != "ui/initialize" {
			t.Errorf("host log %+v: want ui/initialize first", log)
		}
		for _, m := range log {
			if m.Method == "tools/call" && !m.Initialized {
				t.Errorf("host log %+v: a tools/call before ui/notifications/initialized", log)
				break
			}
		}
		if got := eval(t, p, `() => String(window.lastSize && window.lastSize.height > 300)`); got != "true" {
			t.Errorf("no ui/notifications/size-changed with the view's height (last %s)", eval(t, p, `() => JSON.stringify(window.lastSize)`))
		}
		if got := eval(t, v, `() => String(document.querySelectorAll('[data-decision]').length)`); got != "0" {
			t.Errorf("%s approve/deny buttons inside the MCP Apps host, want none", got)
		}
		if got := eval(t, v, `() => String(document.getElementById('signout').hidden)`); got != "true" {
			t.Error("a sign-out button inside the MCP Apps host, want none (no sign-in there)")
		}
		png := screenshot(t, p)
		save(t, filepath.Join(shots, "live-view-mcp-apps.png"), png)
		if os.Getenv("TROUPE_UPDATE_SCREENSHOT") == "1" {
			save(t, filepath.Join("..", "..", "docs", "live-view.png"), png)
		}
	})

	t.Run("top-level", func(t *testing.T) {
		// The daemon's own / (--no-auth here: the sign-in is TestLiveViewSignInAndApprovals's).
		p := openTab(t, b, d.base+"/")
		waitFor(t, p, "the session list", `() => !!document.querySelector('[data-session="live"]')`)
		click(t, p, `[data-session="live"]`)
		checkSessionView(t, p)
		if got := eval(t, p, `() => location.hash`); got != "#session=live" {
			t.Errorf("location.hash = %q, want #session=live", got)
		}
		save(t, filepath.Join(shots, "live-view-top-level.png"), screenshot(t, p))
	})
}

// liveSession makes session "live": a terminal agent, a pipe agent and a page, deleted (a
// snapshot, each child stopped newest first) and restored, then each child given something to show.
func liveSession(t *testing.T, s *troupeProc, site string) {
	t.Helper()
	s.ok("create_session", map[string]any{"session_id": "live", "name": "checkout revamp",
		"labels": map[string]any{"project": "shop"}, "state": map[string]any{"ticket": "SHOP-142"}})
	s.ok("create_agent", map[string]any{"session_id": "live", "name": "shell", "preset": "bash"})
	s.ok("create_agent", map[string]any{"session_id": "live", "name": "notes", "preset": "cat"})
	s.ok("open_page", map[string]any{"session_id": "live", "name": "shop", "url": site})
	del := s.ok("delete_session", map[string]any{"session_id": "live"})
	s.ok("restore_session", map[string]any{"snapshot_id": del["snapshot_id"]})
	eventually(t, 30*time.Second, "the restored children run", func() bool {
		up := 0
		for _, c := range s.ok("get_session", map[string]any{"session_id": "live"})["children"].([]any) {
			if st := c.(map[string]any)["status"]; st == "running" || st == "open" {
				up++
			}
		}
		return up == 3
	})
	s.ok("send_keys", map[string]any{"agent_id": "live/shell", "text": "echo troupe-$((6*7)) && printf '%s\\n' build test ship", "keys": []string{"Enter"},
		"wait_for": "troupe-42", "wait_seconds": 15})
	s.ok("send_to_agent", map[string]any{"agent_id": "live/notes", "message": "meow from the pipe"})
	s.ok("send_to_agent", map[string]any{"agent_id": "live/notes", "message": "checkout flow: reviewed, 2 nits"})
}

// checkSessionView waits until the view v shows session "live" whole, and checks what it shows.
func checkSessionView(t *testing.T, v *rod.Page) {
	t.Helper()
	waitFor(t, v, "the terminal screen", `() => (document.querySelector('[data-child="live/shell"] pre.screen') || {}).textContent.includes('troupe-42')`)
	waitFor(t, v, "the pipe output", `() => (document.querySelector('[data-child="live/notes"] pre.output') || {}).textContent.includes('meow from the pipe')`)
	waitFor(t, v, "the page screenshot, decoded", `() => { const i = document.querySelector('[data-child="live/shop"] img.shot'); return !!i && i.complete && i.naturalWidth > 0; }`)
	waitFor(t, v, "the restore on the timeline", `() => !!document.querySelector('#timeline [data-action="session.restored"]')`)
	waitFor(t, v, "a snapshot", `() => !!document.querySelector('#snapshots [data-snapshot]')`)

	var children []struct{ ID, Kind, Status string }
	evalJSON(t, v, `() => JSON.stringify([...document.querySelectorAll('[data-child]')].map(c => ({id: c.dataset.child,
		kind: c.querySelector('.kind').textContent, status: c.dataset.status})))`, &children)
	want := []struct{ ID, Kind, Status string }{{"live/shell", "terminal", "running"}, {"live/notes", "pipe", "running"}, {"live/shop", "page", "open"}}
	if fmt.Sprint(children) != fmt.Sprint(want) {
		t.Errorf("children %v, want %v (creation order)", children, want)
	}

	// The timeline, oldest first: the calls, then the delete's cascade as steps in order.
	var ops []struct{ Tool, Action, Outcome string }
	evalJSON(t, v, `() => JSON.stringify([...document.querySelectorAll('#timeline > li.op')].map(o => ({tool: o.dataset.tool,
		action: o.dataset.action, outcome: o.dataset.outcome})))`, &ops)
	var order []string
	for _, o := range ops {
		order = append(order, o.Tool+o.Action)
	}
	got := strings.Join(order, " ")
	for _, w := range []string{"create_session", "create_agent", "open_page", "delete_session", "session.restored", "send_keys", "send_to_agent"} {
		if !strings.Contains(got, w) {
			t.Errorf("timeline %q lacks %s", got, w)
		}
	}
	if i, j, k := strings.Index(got, "open_page"), strings.Index(got, "delete_session"), strings.Index(got, "session.restored"); !(i < j && j < k) {
		t.Errorf("timeline %q: want open_page, then delete_session, then the restore", got)
	}
	if strings.Contains(got, "get_session") || strings.Contains(got, "read_agent_screen") {
		t.Errorf("timeline %q shows reads, want them hidden by default", got)
	}
	var steps []string
	evalJSON(t, v, `() => JSON.stringify([...document.querySelectorAll('#timeline > li.op[data-tool="delete_session"] .step')].map(s =>
		s.dataset.step + (s.dataset.target ? ' ' + s.dataset.target : '')))`, &steps)
	wantSteps := "requested session.snapshot session.preserve child.stop live/shop child.stop live/notes child.stop live/shell session.deleted completed"
	if strings.Join(steps, " ") != wantSteps {
		t.Errorf("delete_session steps %q, want %q", steps, wantSteps)
	}
}

// shopSite is the page the session opens: something recognisable in a screenshot.
func shopSite(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title>Fruit shop</title><style>
body{margin:0;font:22px/1.4 sans-serif;background:#fffbeb;color:#422006}
header{background:#f59e0b;color:#fff;padding:24px 48px;font-size:36px;font-weight:700}
main{padding:32px 48px} .sale{font-size:64px;font-weight:800;color:#b45309}
</style></head><body><header>Fruit shop</header><main><p class="sale">Bananas on sale</p>
<p>Checkout: 3 items, 4.20 total</p></main></body></html>`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}
