package actors

import (
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// A forced delete finishes within its bound even when a page's browser call never returns,
// cancelled or not (issue 11 item 6: the session stayed "deleting" until a restart): the
// call is abandoned and answered, and a tab whose close hangs is left to the context.
func TestForcedDeleteOfAWedgedPageAnswersWithinTheBound(t *testing.T) {
	const closeTimeout = 200 * time.Millisecond
	h, fake := pageHarness(t, func(o *Options) { o.PageCloseTimeout = closeTimeout })
	// Two phases at most (the call ending, the tab closing), each bounded; plus room for the
	// rest of the cascade.
	bound := 2*(closeTimeout+stopSlack) + time.Second

	for _, tc := range []struct {
		name   string
		wedged []browser.FakeOp
	}{
		{"call", []browser.FakeOp{browser.FakeAction}},
		{"call-and-close", []browser.FakeOp{browser.FakeAction, browser.FakeClosePage}},
	} {
		func() {
			h.mustCreate(tc.name)
			h.mustPage(tc.name, "p", homeURL)
			for _, op := range tc.wedged {
				defer fake.Wedge(op)() // released at the end: the wedged goroutines then return
			}
			stuck := h.askAsync(&messages.PageAction{PageID: tc.name + "/p", Action: "click", Selector: "#name"})
			waitFor(t, func() bool { c, _ := h.child(tc.name, tc.name+"/p"); return c.Busy })

			start := time.Now()
			res := h.del(&messages.DeleteSession{SessionID: tc.name, Force: true})
			if took := time.Since(start); res.Err != nil || took > bound {
				t.Fatalf("%s: forced delete = %+v after %s, want an answer within %s", tc.name, res.Err, took, bound)
			}
			r := testutil.AsPageAction(<-stuck)
			wantCode(t, r.Err, messages.CodeDeleting)
			wantCode(t, h.get(tc.name).Err, messages.CodeNotFound)
		}()
	}
}

// close_page of a page whose call never returns answers too, and the page is gone.
func TestCloseOfAWedgedPageAnswers(t *testing.T) {
	h, fake := pageHarness(t, func(o *Options) { o.PageCloseTimeout = 200 * time.Millisecond })
	h.mustCreate("s")
	h.mustPage("s", "p", homeURL)
	defer fake.Wedge(browser.FakeContent)()
	stuck := h.askAsync(&messages.PageContent{PageID: "s/p"})
	waitFor(t, func() bool { c, _ := h.child("s", "s/p"); return c.Busy })
	if r := testutil.AsClosePage(h.ask(&messages.ClosePage{PageID: "s/p"})); r.Err != nil || !r.Closed {
		t.Fatalf("close_page of a wedged page = %+v", r)
	}
	wantCode(t, testutil.AsPageContent(<-stuck).Err, messages.CodeDeleting)
	if _, ok := h.child("s", "s/p"); ok {
		t.Fatal("the page is still a child of the session")
	}
}
