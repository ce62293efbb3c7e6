package browser

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"
)

// boundedAct runs an action that must answer within 10 s (a hang fails the test instead of
// blocking it).
func boundedAct(t *testing.T, p Page, req ActionRequest) ActionResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	var res ActionResult
	var err error
	go func() {
		defer close(done)
		res, err = p.Action(ctx, req)
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("Action(%+v) did not return within 15 s with a 10 s deadline", req)
	}
	if err != nil {
		t.Fatalf("Action(%+v): %v", req, err)
	}
	return res
}

// A page that opens a new tab (a target=_blank link, window.open from a click or a script,
// with or without noopener)
// still answers later clicks: the popup is closed and reported (issue 11 item 6: every later
// click on the page hung for good).
func TestPopupIsClosedAndLaterClicksAnswer(t *testing.T) {
	d, s := shared(t), newSite(t)
	c := openContext(t, d, "popups", nil)
	p := openPage(t, c, s.url("/popup"))
	for i, tc := range []struct {
		opener ActionRequest
		url    string
	}{
		{ActionRequest{Action: ActionClick, Selector: "#blank"}, "/about"},
		{ActionRequest{Action: ActionClick, Selector: "#open"}, "/about?from=open"},
		{ActionRequest{Action: ActionEvaluate, Text: "window.open('/about?from=script'); 1"}, "/about?from=script"},
		{ActionRequest{Action: ActionEvaluate, Text: "window.open('/about?noopener', '_blank', 'noopener'); 1"}, "/about?noopener"},
	} {
		opener := tc.opener
		res := boundedAct(t, p, opener)
		if want := []string{s.url(tc.url)}; !slices.Equal(res.Popups, want) {
			t.Errorf("%+v reported popups %q, want %q", opener, res.Popups, want)
		}
		if res.Navigated || res.URL != s.url("/popup") {
			t.Errorf("%+v: %+v, want the page to stay at /popup", opener, res)
		}
		res = boundedAct(t, p, ActionRequest{Action: ActionClick, Selector: "#count"})
		if len(res.Popups) != 0 {
			t.Errorf("a plain click reported popups %q", res.Popups)
		}
		got := boundedAct(t, p, ActionRequest{Action: ActionEvaluate, Text: "document.querySelector('#count').textContent"})
		if want := `"` + string(rune('1'+i)) + `"`; string(got.Value) != want {
			t.Errorf("after %d clicks the counter says %s, want %s", i+1, got.Value, want)
		}
		boundedAct(t, p, ActionRequest{Action: ActionPress, Selector: "#count", Text: "Tab"})
	}
	if tabs := contextTabs(t, c); len(tabs) != 1 {
		t.Errorf("the context has tabs %q, want only the page", tabs)
	}
}

// contextTabs lists the URLs of a context's tabs, as Chromium has them.
func contextTabs(t *testing.T, c Context) []string {
	t.Helper()
	rc := c.(*rodContext)
	res, err := proto.TargetGetTargets{}.Call(rc.conn.browser)
	if err != nil {
		t.Fatalf("Target.getTargets: %v", err)
	}
	var urls []string
	for _, ti := range res.TargetInfos {
		if ti.BrowserContextID == rc.id && ti.Type == proto.TargetTargetInfoTypePage {
			urls = append(urls, ti.URL)
		}
	}
	slices.Sort(urls)
	return urls
}
