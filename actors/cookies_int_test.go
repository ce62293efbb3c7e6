package actors

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// loginLaterSite is a site whose button logs in with a fetch 0.8 s after the click; the fetch's
// response sets the session cookie.
func loginLaterSite(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title>Login</title></head><body>
<button id="login" onclick="setTimeout(() => fetch('/api/login'), 800)">Log in</button></body></html>`)
	})
	mux.HandleFunc("/api/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "logged-in", Path: "/", MaxAge: 3600})
		fmt.Fprint(w, `{"ok":true}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// A cookie a fetch sets after the last call survives a clean stop of the actor tree: with real
// Chromium and a bbolt store, the tree restarted on the same store has it (issue 10, defect 3).
func TestCookieFromALaterFetchSurvivesACleanStop(t *testing.T) {
	site := loginLaterSite(t)
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "troupe.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	drv, err := browser.New(browser.Options{DataDir: filepath.Join(dir, "browser"), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = drv.Close() })
	h := &harness{t: t, opts: Options{Store: st, Logger: zerolog.Nop(), MaxSessions: 10, Browser: drv, DataDir: dir,
		PageTimeout: 30 * time.Second}}
	h.start()
	t.Cleanup(h.stop)

	h.mustCreate("s")
	h.mustPage("s", "p", site)
	if r := testutil.AsPageAction(h.ask(&messages.PageAction{PageID: "s/p", Action: "click", Selector: "#login"})); r.Err != nil {
		t.Fatalf("click: %v", r.Err)
	}
	// No call for 2 s: the fetch sets the cookie 0.8 s after the click, unasked.
	time.Sleep(2 * time.Second)
	h.restart()

	ck := testutil.AsCookies(h.ask(&messages.GetCookies{SessionID: "s"}))
	if ck.Err != nil || !hasMessageCookie(ck.Cookies, "session", "logged-in") {
		t.Fatalf("cookies after a clean stop and restart = %+v (err %v), want session=logged-in", ck.Cookies, ck.Err)
	}
}
