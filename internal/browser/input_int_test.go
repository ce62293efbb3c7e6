package browser

import (
	"context"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"
)

// Every page of a context takes clicks, not only the newest: each tab has a window of its own,
// so none is left in the background, where Chromium paints nothing and answers no input.
func TestEveryPageOfAContextTakesClicks(t *testing.T) {
	d, s := shared(t), newSite(t)
	c := openContext(t, d, "many-pages", nil)
	pages := []Page{openPage(t, c, s.url("/popup")), openPage(t, c, s.url("/popup")), openPage(t, c, s.url("/popup"))}
	for i, p := range append(pages, pages[0]) {
		if res := boundedAct(t, p, ActionRequest{Action: ActionClick, Selector: "#count"}); res.URL != s.url("/popup") {
			t.Errorf("click on page %d: %+v", i, res)
		}
	}
	if got := evalString(t, pages[0], "document.querySelector('#count').textContent + ' ' + document.visibilityState"); got != "2 visible" {
		t.Errorf("the first page says %q, want two clicks and visible", got)
	}
}

// An action on a page that is not painted (a tab was put in front of it, outside troupe) ends
// at its deadline with ErrTimeout instead of hanging: every step runs under the caller's
// deadline (input.go: rod's Mouse, Keyboard and ScrollIntoView do not).
func TestAnActionOnAnUnpaintedPageEndsAtItsDeadline(t *testing.T) {
	d, s := shared(t), newSite(t)
	c := openContext(t, d, "unpainted", nil)
	p := openPage(t, c, s.url("/popup"))
	rc := c.(*rodContext)
	// A plain tab in the same window, in front of p (no opener: the popup guard leaves it).
	tab, err := proto.TargetCreateTarget{URL: blankURL, BrowserContextID: rc.id}.Call(rc.browser)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = proto.TargetCloseTarget{TargetID: tab.TargetID}.Call(rc.browser) }()
	if got := evalString(t, p, "document.visibilityState"); got != "hidden" {
		t.Fatalf("the page is %s, want hidden for this test", got)
	}
	for _, req := range []ActionRequest{
		{Action: ActionClick, Selector: "#count"},
		{Action: ActionPress, Text: "Enter"},
	} {
		const deadline = 2 * time.Second
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		done := make(chan error, 1)
		start := time.Now()
		go func() { _, err := p.Action(ctx, req); done <- err }()
		select {
		case err := <-done:
			// Chromium answers key events in the background; a click it does not.
			if (req.Action == ActionClick || err != nil) && !errorsIs(err, ErrTimeout) {
				t.Errorf("%s on an unpainted page: %v after %s, want ErrTimeout", req.Action, err, time.Since(start))
			}
		case <-time.After(deadline + 5*time.Second):
			t.Fatalf("%s on an unpainted page did not return within %s of its deadline", req.Action, 5*time.Second)
		}
		cancel()
	}
}
