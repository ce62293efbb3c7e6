package actors

import (
	"fmt"
	"testing"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// A call that runs on a page while its session replaces the lost browser context must not hand
// the dead tab back: the page re-opens in the new context and later calls work (issue 10,
// defect 2).
func TestCallRunningWhileTheContextIsReplacedKeepsNoDeadTab(t *testing.T) {
	h, fake := pageHarness(t, nil)
	h.mustCreate("s")
	h.mustPage("s", "a", homeURL)
	h.mustPage("s", "b", loginURL)

	release := fake.Hold(browser.FakeContent)
	defer release()
	held := h.askAsync(&messages.PageContent{PageID: "s/a"})
	waitFor(t, func() bool { c, _ := h.child("s", "s/a"); return c.Busy })
	fake.Crash()
	// Another call replaces the lost context while a's call still runs; the session tells
	// both pages (a first), and b, idle, re-opens in the new context.
	if ck := testutil.AsCookies(h.ask(&messages.GetCookies{SessionID: "s"})); ck.Err != nil {
		t.Fatalf("get_cookies after the crash: %v", ck.Err)
	}
	waitFor(t, func() bool { return fake.Contexts() == 1 && fake.Pages() == 1 },
		func() string { return fmt.Sprintf("%d contexts, %d pages", fake.Contexts(), fake.Pages()) })
	release()
	<-held // its outcome may be either; what matters is the page afterwards

	for i := range 3 {
		r := testutil.AsPageContent(h.ask(&messages.PageContent{PageID: "s/a"}))
		if r.Err != nil || r.Content.URL != homeURL {
			t.Fatalf("content #%d after the context was replaced = %+v (err %v), want the page re-opened at %s", i, r, r.Err, homeURL)
		}
	}
	if c, _ := h.child("s", "s/a"); c.Status != messages.PageOpen {
		t.Fatalf("page a = %+v, want open", c)
	}
	waitFor(t, func() bool { return fake.Pages() == 2 },
		func() string { return fmt.Sprintf("%d pages open, want a and b in the new context", fake.Pages()) })
}
