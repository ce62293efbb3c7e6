package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

const (
	homeURL  = "https://site.test/"
	loginURL = "https://site.test/login"
)

// pageHarness is a harness whose sessions have a fake browser serving a small site.
func pageHarness(t *testing.T, mod func(*Options)) (*harness, *browser.Fake) {
	t.Helper()
	fake := browser.NewFake(browser.Policy{})
	fake.Serve(homeURL, browser.FakeDoc{Title: "Home", HTML: "<h1>Welcome</h1><table><tr><th>a</th></tr><tr><td>1</td></tr></table>",
		Elements: map[string]string{"#name": "<input id=name>"}, Links: map[string]string{"a.login": loginURL}})
	fake.Serve(loginURL, browser.FakeDoc{Title: "Login", HTML: "<p>logged in</p>",
		SetCookies: []browser.Cookie{{Name: "sid", Value: "s3cret"}}})
	h := newHarness(t, func(o *Options) {
		o.Browser = fake
		if mod != nil {
			mod(o)
		}
	})
	t.Cleanup(func() { _ = fake.Close() })
	return h, fake
}

func (h *harness) openPage(session, name, url string) testutil.PageReply {
	h.t.Helper()
	return testutil.AsPage(h.ask(&messages.OpenPage{SessionID: session, Name: name, URL: url}))
}

func (h *harness) mustPage(session, name, url string) *messages.PageInfo {
	h.t.Helper()
	r := h.openPage(session, name, url)
	if r.Err != nil {
		h.t.Fatalf("open page %s/%s at %s: %v", session, name, url, r.Err)
	}
	return r.Page
}

// record is the session's record as stored.
func (h *harness) record(id string) store.SessionRecord {
	h.t.Helper()
	recs, err := h.store.LoadSessions()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range recs {
		if r.ID == id {
			return r
		}
	}
	h.t.Fatalf("session %q is not in the store", id)
	return store.SessionRecord{}
}

func storedPageURL(t *testing.T, rec store.SessionRecord, id string) string {
	t.Helper()
	for _, c := range rec.Children {
		if c.ID == id {
			var spec pageChildSpec
			if err := json.Unmarshal(c.Spec, &spec); err != nil {
				t.Fatal(err)
			}
			return spec.URL
		}
	}
	return ""
}

func (h *harness) child(session, id string) (messages.ChildInfo, bool) {
	for _, c := range h.get(session).Session.Children {
		if c.ID == id {
			return c, true
		}
	}
	return messages.ChildInfo{}, false
}

func TestPageOpenNavigateReadAct(t *testing.T) {
	h, fake := pageHarness(t, nil)
	h.mustCreate("s")
	p := h.mustPage("s", "", homeURL)
	if p.PageID != "s/page-1" || p.URL != homeURL || p.Title != "Home" || p.Status != messages.PageOpen {
		t.Fatalf("open_page = %+v, want s/page-1 open at %s titled Home", p, homeURL)
	}
	if c, ok := h.child("s", "s/page-1"); !ok || c.Kind != "page" || c.URL != homeURL || c.Title != "Home" || c.Busy {
		t.Fatalf("get_session child = %+v", c)
	}
	if got := storedPageURL(t, h.record("s"), "s/page-1"); got != homeURL {
		t.Fatalf("stored page URL = %q, want %q", got, homeURL)
	}

	c := testutil.AsPageContent(h.ask(&messages.PageContent{PageID: "s/page-1"}))
	if c.Err != nil || !strings.Contains(c.Content.Text, "# Welcome") || !strings.Contains(c.Content.Text, "| a |") {
		t.Fatalf("markdown content = %+v", c)
	}
	shot := testutil.AsScreenshotPage(h.ask(&messages.ScreenshotPage{PageID: "s/page-1"}))
	if shot.Err != nil {
		t.Fatal(shot.Err)
	}
	if _, err := png.Decode(bytes.NewReader(shot.PNG)); err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}

	// A click that follows a link: the page and the store move with it, and the server's
	// cookie lands in the session's record before the answer.
	a := testutil.AsPageAction(h.ask(&messages.PageAction{PageID: "s/page-1", Action: "click", Selector: "a.login"}))
	if a.Err != nil || !a.Navigated || a.URL != loginURL {
		t.Fatalf("click = %+v, want a navigation to %s", a, loginURL)
	}
	rec := h.record("s")
	if got := storedPageURL(t, rec, "s/page-1"); got != loginURL {
		t.Fatalf("stored URL after the click = %q, want %q", got, loginURL)
	}
	if len(rec.Cookies) != 1 || rec.Cookies[0].Name != "sid" || rec.Cookies[0].Value != "s3cret" {
		t.Fatalf("stored cookies = %+v, want the server's sid", rec.Cookies)
	}

	n := testutil.AsNavigatePage(h.ask(&messages.NavigatePage{PageID: "s/page-1", URL: homeURL}))
	if n.Err != nil || n.URL != homeURL || n.Title != "Home" || n.Status != 200 {
		t.Fatalf("navigate = %+v", n)
	}
	if fake.Contexts() != 1 || fake.Pages() != 1 {
		t.Fatalf("%d contexts and %d pages, want one of each", fake.Contexts(), fake.Pages())
	}
	m := testutil.AsSessionMetrics(h.ask(&messages.SessionMetrics{}))
	if m.Children[messages.KindPage] != 1 {
		t.Fatalf("metrics pages = %d, want 1", m.Children[messages.KindPage])
	}
}

func TestPageRefusals(t *testing.T) {
	h, fake := pageHarness(t, func(o *Options) { o.MaxChildren = 2 })
	h.mustCreate("s")
	wantCode(t, h.openPage("s", "", "file:///etc/passwd").Err, messages.CodeInvalidArgument)
	wantCode(t, h.openPage("s", "", "javascript:alert(1)").Err, messages.CodeInvalidArgument)
	wantCode(t, h.openPage("s", "", "no-scheme.test").Err, messages.CodeInvalidArgument)
	fake.FailNext(browser.FakeNavigate, fmt.Errorf("%w: https://down.test/: net::ERR_CONNECTION_REFUSED", browser.ErrUnreachable))
	r := h.openPage("s", "", "https://down.test/")
	wantCode(t, r.Err, messages.CodeUnavailable)
	if !strings.Contains(r.Err.Message, "ERR_CONNECTION_REFUSED") {
		t.Fatalf("unreachable message %q should say why", r.Err.Message)
	}
	if kids := h.get("s").Session.Children; len(kids) != 0 || len(h.record("s").Children) != 0 || fake.Pages() != 0 {
		t.Fatalf("refused pages left children %+v / %d tabs", kids, fake.Pages())
	}

	h.mustPage("s", "one", homeURL)
	wantCode(t, h.openPage("s", "one", homeURL).Err, messages.CodeAlreadyExists)
	h.mustAgent("s", "cat", catSpec)
	wantCode(t, h.openPage("s", "", homeURL).Err, messages.CodeLimitExceeded)

	n := testutil.AsNavigatePage(h.ask(&messages.NavigatePage{PageID: "s/one", URL: "data:text/html,hi"}))
	wantCode(t, n.Err, messages.CodeInvalidArgument)
	c := testutil.AsPageContent(h.ask(&messages.PageContent{PageID: "s/one", Selector: "#missing"}))
	wantCode(t, c.Err, messages.CodeInvalidArgument)
	wantCode(t, testutil.AsPageContent(h.ask(&messages.PageContent{PageID: "s/cat"})).Err, messages.CodeInvalidArgument)
	wantCode(t, testutil.AsPageContent(h.ask(&messages.PageContent{PageID: "s/nope"})).Err, messages.CodeNotFound)
	wantCode(t, testutil.AsPageContent(h.ask(&messages.PageContent{PageID: "nope/one"})).Err, messages.CodeNotFound)
	wantCode(t, testutil.AsClosePage(h.ask(&messages.ClosePage{PageID: "s/cat"})).Err, messages.CodeInvalidArgument)
}

func TestPagesWithoutBrowser(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	wantCode(t, h.openPage("s", "", homeURL).Err, messages.CodeUnavailable)
	crawl := testutil.AsPageContent(h.ask(&messages.CrawlURL{URL: homeURL}))
	wantCode(t, crawl.Err, messages.CodeUnavailable)

	h2, fake := pageHarness(t, nil)
	h2.mustCreate("s")
	fake.Fail(browser.FakeOpenContext, browser.ErrNoBrowser)
	r := h2.openPage("s", "", homeURL)
	wantCode(t, r.Err, messages.CodeUnavailable)
	if !strings.Contains(r.Err.Message, "apt-get install chromium") {
		t.Fatalf("no-browser message %q should say how to install one", r.Err.Message)
	}
	// Installing the browser is enough: the next call works.
	fake.Fail(browser.FakeOpenContext, nil)
	h2.mustPage("s", "", homeURL)
}

func TestClosePageThroughTheStopProtocol(t *testing.T) {
	h, fake := pageHarness(t, nil)
	h.mustCreate("s")
	h.mustPage("s", "a", homeURL)
	h.mustPage("s", "b", loginURL)
	r := testutil.AsClosePage(h.ask(&messages.ClosePage{PageID: "s/a"}))
	if r.Err != nil || !r.Closed {
		t.Fatalf("close_page = %+v", r)
	}
	kids := h.get("s").Session.Children
	if len(kids) != 1 || kids[0].ID != "s/b" || len(h.record("s").Children) != 1 || fake.Pages() != 1 {
		t.Fatalf("after close: children %+v, %d tabs", kids, fake.Pages())
	}
	wantCode(t, testutil.AsClosePage(h.ask(&messages.ClosePage{PageID: "s/a"})).Err, messages.CodeNotFound)

	// A close that fails leaves the page as it was.
	fake.FailNext(browser.FakeClosePage, fmt.Errorf("%w: closing the page did not finish in time", browser.ErrTimeout))
	wantCode(t, testutil.AsClosePage(h.ask(&messages.ClosePage{PageID: "s/b"})).Err, messages.CodeUnavailable)
	if c := testutil.AsPageContent(h.ask(&messages.PageContent{PageID: "s/b"})); c.Err != nil {
		t.Fatalf("the page should still work after a failed close: %v", c.Err)
	}
	if r := testutil.AsClosePage(h.ask(&messages.ClosePage{PageID: "s/b"})); r.Err != nil || fake.Pages() != 0 {
		t.Fatalf("second close = %+v, %d tabs left", r, fake.Pages())
	}
}

// askAsync sends a request from a goroutine; the reply arrives on the channel.
func (h *harness) askAsync(msg any) <-chan any {
	out := make(chan any, 1)
	sys := h.sys
	go func() {
		res, err := sys.Request(context.Background(), msg, 10*time.Second)
		if err != nil {
			res = err
		}
		out <- res
	}()
	return out
}

func TestPageBusyWhileAnOperationRuns(t *testing.T) {
	h, fake := pageHarness(t, nil)
	h.mustCreate("s")
	h.mustPage("s", "p", homeURL)
	release := fake.Hold(browser.FakeContent)
	defer release()
	reply := h.askAsync(&messages.PageContent{PageID: "s/p"})
	waitFor(t, func() bool { c, _ := h.child("s", "s/p"); return c.Busy })
	// A second call waits behind the first, in order.
	second := h.askAsync(&messages.NavigatePage{PageID: "s/p", URL: loginURL})
	release()
	if r := testutil.AsPageContent(<-reply); r.Err != nil || r.Content.URL != homeURL {
		t.Fatalf("held content = %+v", r)
	}
	if r := testutil.AsNavigatePage(<-second); r.Err != nil || r.URL != loginURL {
		t.Fatalf("queued navigate = %+v", r)
	}
	waitFor(t, func() bool { c, _ := h.child("s", "s/p"); return !c.Busy })

	// Closing a busy page cancels its call, which is answered.
	release = fake.Hold(browser.FakeNavigate)
	defer release()
	held := h.askAsync(&messages.NavigatePage{PageID: "s/p", URL: homeURL})
	waitFor(t, func() bool { c, _ := h.child("s", "s/p"); return c.Busy })
	if r := testutil.AsClosePage(h.ask(&messages.ClosePage{PageID: "s/p"})); r.Err != nil {
		t.Fatalf("close of a busy page: %v", r.Err)
	}
	r := testutil.AsNavigatePage(<-held)
	wantCode(t, r.Err, messages.CodeDeleting)
}

func TestBrowserCrashReopensPagesWithCookies(t *testing.T) {
	h, fake := pageHarness(t, nil)
	h.mustCreate("s")
	h.mustPage("s", "a", loginURL) // the server sets sid
	h.mustPage("s", "b", homeURL)
	fake.Crash()

	c := testutil.AsPageContent(h.ask(&messages.PageContent{PageID: "s/a"}))
	if c.Err != nil || c.Content.URL != loginURL || !strings.Contains(c.Content.Text, "logged in") {
		t.Fatalf("content after the crash = %+v, want the page re-opened at %s", c, loginURL)
	}
	// The other page re-opens by itself once the session has a new context.
	waitFor(t, func() bool { return fake.Contexts() == 1 && fake.Pages() == 2 },
		func() string { return fmt.Sprintf("%d contexts, %d pages", fake.Contexts(), fake.Pages()) })
	ck := testutil.AsCookies(h.ask(&messages.GetCookies{SessionID: "s", URL: homeURL}))
	if ck.Err != nil || len(ck.Cookies) != 1 || ck.Cookies[0].Value != "s3cret" {
		t.Fatalf("cookies in the new context = %+v, want sid", ck)
	}
	var reopened []string
	for _, call := range fake.Calls() {
		if call.Op == browser.FakeOpenPage {
			reopened = append(reopened, call.URL)
		}
	}
	if got := fmt.Sprint(reopened); got != fmt.Sprint([]string{loginURL, homeURL, loginURL, homeURL}) &&
		got != fmt.Sprint([]string{loginURL, homeURL, homeURL, loginURL}) {
		t.Fatalf("tabs opened at %v, want each page re-opened at its last URL", reopened)
	}
	if c, _ := h.child("s", "s/b"); c.Status != messages.PageOpen {
		t.Fatalf("page b after the crash = %+v", c)
	}
}

func TestRestartReopensPagesAtLastURLWithCookies(t *testing.T) {
	h, fake := pageHarness(t, nil)
	h.mustCreate("s")
	h.mustPage("s", "p", homeURL)
	if n := testutil.AsNavigatePage(h.ask(&messages.NavigatePage{PageID: "s/p", URL: loginURL})); n.Err != nil {
		t.Fatal(n.Err)
	}
	set := testutil.AsCookies(h.ask(&messages.SetCookies{SessionID: "s", Cookies: []messages.Cookie{{Name: "pref", Value: "dark", URL: homeURL}}}))
	if set.Err != nil || len(set.Cookies) != 2 {
		t.Fatalf("set_cookies = %+v, want sid and pref", set)
	}
	if got := h.record("s").Cookies; len(got) != 2 {
		t.Fatalf("stored cookies after set_cookies = %+v, want both saved before the answer", got)
	}

	h.stop()
	if fake.Contexts() != 0 {
		t.Fatalf("%d contexts left open by the stopped session", fake.Contexts())
	}
	h.start()
	waitFor(t, func() bool { c, _ := h.child("s", "s/p"); return c.Status == messages.PageOpen && !c.Busy },
		func() string { return fmt.Sprint(h.get("s").Session.Children) })
	c, _ := h.child("s", "s/p")
	if c.URL != loginURL || c.Title != "Login" {
		t.Fatalf("page after restart = %+v, want it at %s", c, loginURL)
	}
	ck := testutil.AsCookies(h.ask(&messages.GetCookies{SessionID: "s"}))
	if ck.Err != nil || len(ck.Cookies) != 2 {
		t.Fatalf("cookies after restart = %+v, want sid and pref", ck)
	}
	calls := fake.Calls()
	last := ""
	for _, call := range calls {
		if call.Op == browser.FakeOpenPage {
			last = call.URL
		}
	}
	if last != loginURL {
		t.Fatalf("the page re-opened at %q, want %q", last, loginURL)
	}
}

func TestCrawlInSessionAndThrowaway(t *testing.T) {
	h, fake := pageHarness(t, nil)
	h.mustCreate("s")
	r := testutil.AsPageContent(h.ask(&messages.CrawlURL{URL: loginURL, SessionID: "s", Format: "text"}))
	if r.Err != nil || r.Content.Text == "" || r.Content.Format != "text" {
		t.Fatalf("crawl in session = %+v", r)
	}
	if got := h.record("s").Cookies; len(got) != 1 || got[0].Name != "sid" {
		t.Fatalf("a crawl in the session keeps its cookies: %+v", got)
	}
	r = testutil.AsPageContent(h.ask(&messages.CrawlURL{URL: homeURL}))
	if r.Err != nil || !strings.Contains(r.Content.Text, "Welcome") {
		t.Fatalf("throwaway crawl = %+v", r)
	}
	wantCode(t, testutil.AsPageContent(h.ask(&messages.CrawlURL{URL: "file:///etc/passwd"})).Err, messages.CodeInvalidArgument)
	wantCode(t, testutil.AsPageContent(h.ask(&messages.CrawlURL{URL: homeURL, SessionID: "nope"})).Err, messages.CodeNotFound)
	waitFor(t, func() bool { return fake.Contexts() == 1 && fake.Pages() == 0 },
		func() string { return fmt.Sprintf("%d contexts, %d pages", fake.Contexts(), fake.Pages()) })
}

func TestSetCookiesRefusedAndUnsaved(t *testing.T) {
	h, _ := pageHarness(t, nil)
	h.mustCreate("s")
	bad := testutil.AsCookies(h.ask(&messages.SetCookies{SessionID: "s", Cookies: []messages.Cookie{{Name: "x", Value: "1"}}}))
	wantCode(t, bad.Err, messages.CodeInvalidArgument)
	h.store.FailWrites(fmt.Errorf("disk full"))
	r := testutil.AsCookies(h.ask(&messages.SetCookies{SessionID: "s", Cookies: []messages.Cookie{{Name: "x", Value: "1", URL: homeURL}}}))
	h.store.FailWrites(nil)
	wantCode(t, r.Err, messages.CodeInternal)
	if got := h.record("s").Cookies; len(got) != 0 {
		t.Fatalf("stored cookies = %+v after a failed save", got)
	}
}
