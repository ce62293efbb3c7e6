package browser

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"
)

func TestNavigateReportsStatusAndTitle(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "nav", nil), "")
	if u, _ := p.Info(); u != blankURL {
		t.Errorf("a new page is at %q, want about:blank", u)
	}
	res, err := p.Navigate(context.Background(), s.url("/missing"))
	if err != nil || res.Status != 404 || res.Title != "Not here" {
		t.Errorf("Navigate(/missing) = %+v, %v; want status 404, title Not here", res, err)
	}
	res, err = p.Navigate(context.Background(), s.url("/redirect?to=/about"))
	if err != nil || res.Status != 200 || res.URL != s.url("/about") {
		t.Errorf("Navigate(redirect) = %+v, %v; want 200 at /about", res, err)
	}
}

func TestMalformedAndForbiddenURLsAreRefused(t *testing.T) {
	d, s := shared(t), newSite(t)
	c := openContext(t, d, "policy", nil)
	p := openPage(t, c, s.url("/"))
	ctx := context.Background()
	for _, tc := range []struct {
		url  string
		want error
	}{
		{"file:///etc/passwd", ErrURLNotAllowed},
		{"chrome://settings", ErrURLNotAllowed},
		{"javascript:alert(1)", ErrURLNotAllowed},
		{"data:text/html,<p>hi</p>", ErrURLNotAllowed},
		{"example.com/page", ErrBadURL},
		{"localhost:8080", ErrBadURL},
		{"http://", ErrBadURL},
		{"http://[::1", ErrBadURL},
		{"", ErrBadURL},
	} {
		if _, err := p.Navigate(ctx, tc.url); !errorsIs(err, tc.want) {
			t.Errorf("Navigate(%q) = %v, want %v", tc.url, err, tc.want)
		}
		if tc.url != "" {
			if _, err := c.OpenPage(ctx, tc.url); !errorsIs(err, tc.want) {
				t.Errorf("OpenPage(%q) = %v, want %v", tc.url, err, tc.want)
			}
		}
		if _, err := d.Crawl(ctx, tc.url, ContentRequest{}, nil); !errorsIs(err, tc.want) {
			t.Errorf("Crawl(%q) = %v, want %v", tc.url, err, tc.want)
		}
	}
	if u, _ := p.Info(); u != s.url("/") {
		t.Errorf("a refused navigation moved the page to %q", u)
	}
}

func TestPolicyFollowsRedirects(t *testing.T) {
	s := newSite(t)
	d := newDriver(t, Options{Policy: Policy{DenyHosts: []string{"localhost"}}})
	p := openPage(t, openContext(t, d, "deny", nil), "")
	ctx := context.Background()
	if _, err := p.Navigate(ctx, strings.Replace(s.url("/about"), "127.0.0.1", "localhost", 1)); !errorsIs(err, ErrURLNotAllowed) {
		t.Errorf("a denied host: %v, want ErrURLNotAllowed", err)
	}
	to := strings.Replace(s.url("/about"), "127.0.0.1", "localhost", 1)
	if _, err := p.Navigate(ctx, s.url("/redirect?to="+to)); !errorsIs(err, ErrURLNotAllowed) {
		t.Errorf("a redirect to a denied host: %v, want ErrURLNotAllowed", err)
	}
	if u, _ := p.Info(); u != blankURL {
		t.Errorf("after a refused redirect the page is at %q, want about:blank", u)
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestUnreachableHostIsReportedClearly(t *testing.T) {
	d := shared(t)
	c := openContext(t, d, "unreach", nil)
	target := "http://" + closedPort(t) + "/x"
	p := openPage(t, c, "")
	_, err := p.Navigate(context.Background(), target)
	if !errorsIs(err, ErrUnreachable) || !strings.Contains(err.Error(), "ERR_CONNECTION_REFUSED") {
		t.Errorf("Navigate(closed port) = %v, want ErrUnreachable naming ERR_CONNECTION_REFUSED", err)
	}
	if u, _ := p.Info(); u != target {
		t.Errorf("Info after the failure = %q, want the URL asked for", u)
	}
	if _, err := c.OpenPage(context.Background(), target); !errorsIs(err, ErrUnreachable) {
		t.Errorf("OpenPage(closed port) = %v, want ErrUnreachable", err)
	}
	if _, err := d.Crawl(context.Background(), target, ContentRequest{}, nil); !errorsIs(err, ErrUnreachable) {
		t.Errorf("Crawl(closed port) = %v, want ErrUnreachable", err)
	}
}

func TestNavigationTimeoutStopsLoading(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "hang", nil), s.url("/"))
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	_, err := p.Navigate(ctx, s.url("/hang"))
	if !errorsIs(err, ErrTimeout) || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("Navigate(/hang) = %v, want ErrTimeout saying it was stopped", err)
	}
	waitFor(t, "the browser to drop the hanging request", func() bool { return s.hangCanceled.Load() == 1 })
	if res, err := p.Navigate(context.Background(), s.url("/about")); err != nil || res.Title != "About" {
		t.Errorf("the next navigation: %+v, %v; want About", res, err)
	}
}

func TestCrawlWithAndWithoutContext(t *testing.T) {
	d, s := shared(t), newSite(t)
	ctx := context.Background()
	c, err := d.Crawl(ctx, s.url("/"), ContentRequest{}, nil)
	if err != nil || !strings.Contains(c.Text, "# Welcome home") || c.Title != "Home" {
		t.Errorf("Crawl without a context = %+v, %v", c, err)
	}
	sess := openContext(t, d, "crawler", []Cookie{{Name: "k", Value: "v1", URL: s.url("/")}})
	c, err = d.Crawl(ctx, s.url("/echo-cookies"), ContentRequest{Format: FormatText}, sess)
	if err != nil || c.Text != "cookies: k=v1" {
		t.Errorf("Crawl in the session's context = %q, %v; want its cookie", c.Text, err)
	}
	c, err = d.Crawl(ctx, s.url("/echo-cookies"), ContentRequest{Format: FormatText}, nil)
	if err != nil || c.Text != "cookies:" {
		t.Errorf("Crawl in a throwaway context = %q, %v; want no cookie", c.Text, err)
	}
	if n := len(contextTargets(t, sess.(*rodContext))); n != 0 {
		t.Errorf("the crawl left %d tabs in the session's context", n)
	}
	d.mu.Lock()
	n := len(d.contexts)
	d.mu.Unlock()
	if n != 1 {
		t.Errorf("%d contexts open after the crawls, want only the session's", n)
	}
}

// contextTargets lists the tabs Chromium has in a context.
func contextTargets(t *testing.T, c *rodContext) []*proto.TargetTargetInfo {
	t.Helper()
	res, err := proto.TargetGetTargets{}.Call(c.browser)
	if err != nil {
		t.Fatalf("Target.getTargets: %v", err)
	}
	var out []*proto.TargetTargetInfo
	for _, ti := range res.TargetInfos {
		if ti.Type == proto.TargetTargetInfoTypePage && ti.BrowserContextID == c.id {
			out = append(out, ti)
		}
	}
	return out
}

func TestClosePage(t *testing.T) {
	d, s := shared(t), newSite(t)
	c := openContext(t, d, "close", nil)
	p := openPage(t, c, s.url("/"))
	keep := openPage(t, c, s.url("/about"))
	ctx := context.Background()
	if n := len(contextTargets(t, c.(*rodContext))); n != 2 {
		t.Fatalf("%d tabs, want 2", n)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(ctx); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if n := len(contextTargets(t, c.(*rodContext))); n != 1 {
		t.Errorf("%d tabs after closing one, want 1", n)
	}
	if _, err := p.Content(ctx, ContentRequest{}); !errorsIs(err, ErrClosed) {
		t.Errorf("Content on a closed page: %v, want ErrClosed", err)
	}
	if _, err := p.Navigate(ctx, s.url("/")); !errorsIs(err, ErrClosed) {
		t.Errorf("Navigate on a closed page: %v, want ErrClosed", err)
	}
	if got := pageText(t, keep); got != "about us" {
		t.Errorf("the other page says %q", got)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("closing the context: %v", err)
	}
	if c.Alive() {
		t.Error("a closed context is alive")
	}
	<-c.Done()
	if _, err := keep.Content(ctx, ContentRequest{}); !errorsIs(err, ErrClosed) {
		t.Errorf("Content in a closed context: %v, want ErrClosed", err)
	}
	if _, err := c.OpenPage(ctx, ""); !errorsIs(err, ErrClosed) {
		t.Errorf("OpenPage in a closed context: %v, want ErrClosed", err)
	}
	if err := keep.Close(ctx); err != nil {
		t.Errorf("closing a page of a closed context: %v, want nil", err)
	}
}
