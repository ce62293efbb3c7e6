package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A cookie a fetch sets 0.8 s after a click, with no call after it, survives a kill -9 of the
// server 2 s later: it was saved within about a second of changing (DESIGN §14; issue 10,
// defect 3).
func TestE2ECookieFromALaterFetchSurvivesKill9(t *testing.T) {
	site := webSite(t)
	dir := t.TempDir()
	s := startServer(t, dir, "TROUPE_LOG_LEVEL=warn")
	s.ok("create_session", map[string]any{"session_id": "alice"})
	s.ok("open_page", map[string]any{"session_id": "alice", "name": "login", "url": site + "/login-later"})
	s.ok("page_action", map[string]any{"page_id": "alice/login", "action": "click", "selector": "#login"})
	// No call for 2 s: that is the case under test, not a wait for a condition.
	time.Sleep(2 * time.Second)
	s.kill9()

	s = startServer(t, dir, "TROUPE_LOG_LEVEL=warn")
	ck := s.ok("get_cookies", map[string]any{"session_id": "alice", "url": site + "/"})
	if got := fmt.Sprint(ck["cookies"]); !strings.Contains(got, "logged-in") {
		t.Fatalf("cookies after kill -9 and restart = %s, want session=logged-in", got)
	}
}
