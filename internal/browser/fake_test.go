package browser

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFakeFailureInjection(t *testing.T) {
	f := NewFake(Policy{})
	ctx := context.Background()
	boom := errors.New("boom")

	f.FailNext(FakeOpenContext, boom)
	if _, err := f.OpenContext(ctx, "s", nil); !errors.Is(err, boom) {
		t.Errorf("first OpenContext = %v, want boom", err)
	}
	c := openContext(t, f, "s", nil)
	p := openPage(t, c, "http://a.test/")

	f.Fail(FakeNavigate, ErrUnreachable)
	for range 2 {
		if _, err := p.Navigate(ctx, "http://b.test/"); !errors.Is(err, ErrUnreachable) {
			t.Errorf("Navigate = %v, want ErrUnreachable", err)
		}
	}
	if u, _ := p.Info(); u != "http://b.test/" {
		t.Errorf("Info after a failed navigation = %q, want the URL asked for", u)
	}
	f.Fail(FakeNavigate, nil)
	if _, err := p.Navigate(ctx, "http://b.test/"); err != nil {
		t.Errorf("Navigate after clearing = %v", err)
	}

	f.FailNext(FakeClosePage, boom)
	if err := p.Close(ctx); !errors.Is(err, boom) {
		t.Errorf("Close = %v, want boom", err)
	}
	if f.Pages() != 1 {
		t.Errorf("a page whose close failed is gone: %d pages", f.Pages())
	}
	if err := p.Close(ctx); err != nil || f.Pages() != 0 {
		t.Errorf("Close again = %v, %d pages left", err, f.Pages())
	}
	var ops []string
	for _, call := range f.Calls() {
		ops = append(ops, string(call.Op))
	}
	if got := strings.Join(ops, " "); got != "open_context open_context open_page navigate navigate navigate navigate close_page close_page" {
		t.Errorf("calls = %s", got)
	}
}

func TestFakeHoldAndCrash(t *testing.T) {
	f := NewFake(Policy{})
	c := openContext(t, f, "s", []Cookie{{Name: "k", Value: "v", URL: "http://a.test/"}})
	p := openPage(t, c, "http://a.test/")

	release := f.Hold(FakeContent)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := p.Content(ctx, ContentRequest{}); !errors.Is(err, ErrTimeout) {
		t.Errorf("held Content past its deadline = %v, want ErrTimeout", err)
	}
	done := make(chan error, 1)
	go func() { _, err := p.Content(context.Background(), ContentRequest{}); done <- err }()
	waitFor(t, "the second Content call to arrive", func() bool { return len(f.Calls()) == 5 })
	release()
	if err := <-done; err != nil {
		t.Errorf("released Content = %v", err)
	}

	f.Crash()
	<-c.Done()
	if c.Alive() || f.Contexts() != 0 {
		t.Errorf("after Crash: alive %v, %d contexts", c.Alive(), f.Contexts())
	}
	if _, err := p.Navigate(context.Background(), "http://a.test/"); !errors.Is(err, ErrContextLost) {
		t.Errorf("Navigate after Crash = %v, want ErrContextLost", err)
	}
	if !hasCookie(c.LastCookies(), "k", "v") {
		t.Errorf("LastCookies after Crash = %v", c.LastCookies())
	}
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("closing a page of a lost context = %v", err)
	}
	again := openContext(t, f, "s", c.LastCookies())
	if cs, _ := again.Cookies(context.Background(), "http://a.test/"); !hasCookie(cs, "k", "v") {
		t.Errorf("re-opened context cookies = %v", cs)
	}
}

func TestFakeServesDocs(t *testing.T) {
	f := NewFake(Policy{DenyHosts: []string{"no.test"}})
	f.Serve("http://a.test/", FakeDoc{
		Title:      "A",
		HTML:       `<p>hello <a href="/b">b</a></p><script>x()</script>`,
		Status:     201,
		SetCookies: []Cookie{{Name: "sid", Value: "1"}},
		Elements:   map[string]string{"p": "<p>hello</p>"},
		Links:      map[string]string{"a": "http://b.test/"},
	})
	ctx := context.Background()
	c := openContext(t, f, "s", nil)
	p := openPage(t, c, "")
	res, err := p.Navigate(ctx, "http://a.test/")
	if err != nil || res.Status != 201 || res.Title != "A" {
		t.Errorf("Navigate = %+v, %v", res, err)
	}
	if cs, _ := c.Cookies(ctx, "http://a.test/x"); !hasCookie(cs, "sid", "1") {
		t.Errorf("server cookie missing: %v", cs)
	}
	md, _ := p.Content(ctx, ContentRequest{})
	if !strings.Contains(md.Text, "(http://a.test/b)") {
		t.Errorf("markdown = %q, want an absolute link", md.Text)
	}
	txt, _ := p.Content(ctx, ContentRequest{Format: FormatText})
	if txt.Text != "hello b" {
		t.Errorf("text = %q", txt.Text)
	}
	if sel, err := p.Content(ctx, ContentRequest{Format: FormatHTML, Selector: "p"}); err != nil || sel.Text != "<p>hello</p>" {
		t.Errorf("selector p = %+v, %v", sel, err)
	}
	act, err := p.Action(ctx, ActionRequest{Action: ActionClick, Selector: "a"})
	if err != nil || !act.Navigated || act.URL != "http://b.test/" {
		t.Errorf("click on a link = %+v, %v", act, err)
	}
	if _, err := p.Navigate(ctx, "http://no.test/"); !errors.Is(err, ErrURLNotAllowed) {
		t.Errorf("denied host = %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.OpenContext(ctx, "t", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("OpenContext after Close = %v, want ErrClosed", err)
	}
	if c.Alive() {
		t.Error("a context survived the driver's Close")
	}
}

// A saved cookie a newer rule refuses is left out of a new context, not a reason to refuse the
// context: the session would lose its browser at every start.
func TestOpenContextLeavesOutASavedCookieNowRefused(t *testing.T) {
	f := NewFake(Policy{})
	defer f.Close()
	c, err := f.OpenContext(context.Background(), "s", []Cookie{
		{Name: "old", Value: "v", Domain: "exa mple.test"},
		{Name: "good", Value: "v", Domain: "site.test"},
	})
	if err != nil {
		t.Fatalf("OpenContext: %v, want the context without the refused cookie", err)
	}
	got, _ := c.Cookies(context.Background(), "")
	if len(got) != 1 || got[0].Name != "good" {
		t.Fatalf("cookies = %+v, want only good", got)
	}
}
