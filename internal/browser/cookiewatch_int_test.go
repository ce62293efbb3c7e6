package browser

import (
	"context"
	"testing"
	"time"
)

// waitCookie waits for c's CookiesChanged until LastCookies holds name=value; it never reads
// the cookies itself, as the session does not.
func waitCookie(t *testing.T, c Context, name, value string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !hasCookie(c.LastCookies(), name, value) {
		select {
		case <-c.CookiesChanged():
		case <-deadline:
			t.Fatalf("cookie %s=%s not seen without a call; last seen %+v", name, value, c.LastCookies())
		}
	}
}

// A cookie a fetch sets after the page loaded is seen at once from its response, with no call
// and no periodic read (the interval here is an hour).
func TestCookieSetByALaterFetchIsSeenFromItsResponse(t *testing.T) {
	d, s := newDriver(t, Options{CookieInterval: time.Hour}), newSite(t)
	c := openContext(t, d, "fetch", nil)
	p := openPage(t, c, s.url("/login-later"))
	if _, err := p.Action(context.Background(), ActionRequest{Action: ActionClick, Selector: "#login"}); err != nil {
		t.Fatalf("click: %v", err)
	}
	if hasCookie(c.LastCookies(), "session", "logged-in") {
		t.Fatal("the cookie is there right after the click; the test must set it later")
	}
	waitCookie(t, c, "session", "logged-in")
}

// A cookie a script writes with document.cookie, which no response announces, is seen by the
// periodic read while a page is open.
func TestCookieWrittenByAScriptIsSeenByThePeriodicRead(t *testing.T) {
	d, s := shared(t), newSite(t)
	c := openContext(t, d, "script", nil)
	p := openPage(t, c, s.url("/about"))
	js := `setTimeout(() => { document.cookie = "pref=dark; path=/" }, 300), true`
	if _, err := p.Action(context.Background(), ActionRequest{Action: ActionEvaluate, Text: js}); err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	waitCookie(t, c, "pref", "dark")
}
