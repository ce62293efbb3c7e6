package browser

import (
	"bytes"
	"context"
	"image/png"
	"strings"
	"testing"
)

// contract is what every Driver must do, checked against the real driver and the Fake alike,
// so that tests written against the Fake hold for Chromium. home serves indexHTML.
func contract(t *testing.T, d Driver, home string) {
	ctx := context.Background()
	c := openContext(t, d, "contract", []Cookie{{Name: "a", Value: "1", URL: home}})
	if c.SessionID() != "contract" || !c.Alive() {
		t.Errorf("new context: session %q, alive %v", c.SessionID(), c.Alive())
	}
	if cs, err := c.Cookies(ctx, home); err != nil || !hasCookie(cs, "a", "1") {
		t.Errorf("Cookies = %v, %v; want a=1", cs, err)
	}
	if !hasCookie(c.LastCookies(), "a", "1") {
		t.Errorf("LastCookies = %v, want a=1", c.LastCookies())
	}

	p := openPage(t, c, home)
	if u, title := p.Info(); u != home || title != "Home" {
		t.Errorf("Info = %q, %q; want %q, Home", u, title, home)
	}
	md, err := p.Content(ctx, ContentRequest{})
	if err != nil || !strings.Contains(md.Text, "# Welcome home") || md.Format != FormatMarkdown || md.Title != "Home" {
		t.Errorf("Content = %+v, %v", md, err)
	}
	txt, err := p.Content(ctx, ContentRequest{Format: FormatText, Max: 5})
	if err != nil || len(txt.Text) > 5 || !txt.Truncated || txt.NextOffset == 0 {
		t.Errorf("a 5-byte window = %+v, %v", txt, err)
	}
	shot, err := p.Screenshot(ctx, false)
	if err != nil {
		t.Errorf("Screenshot: %v", err)
	} else if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Errorf("the screenshot is not a PNG: %v", err)
	}
	for _, tc := range []struct {
		req  ActionRequest
		want error
	}{
		{ActionRequest{Action: ActionClick, Selector: "#absent"}, ErrNoElement},
		{ActionRequest{Action: "drag"}, ErrBadRequest},
		{ActionRequest{Action: ActionPress, Text: "NoSuchKey"}, ErrBadRequest},
	} {
		if _, err := p.Action(ctx, tc.req); !errorsIs(err, tc.want) {
			t.Errorf("Action(%+v) = %v, want %v", tc.req, err, tc.want)
		}
	}
	if _, err := p.Navigate(ctx, "file:///etc/passwd"); !errorsIs(err, ErrURLNotAllowed) {
		t.Errorf("Navigate(file:) = %v, want ErrURLNotAllowed", err)
	}
	if _, err := p.Content(ctx, ContentRequest{Format: "pdf"}); !errorsIs(err, ErrBadRequest) {
		t.Errorf("Content(pdf) = %v, want ErrBadRequest", err)
	}
	if err := c.SetCookies(ctx, []Cookie{{Name: "b"}}); !errorsIs(err, ErrBadRequest) {
		t.Errorf("SetCookies without url or domain = %v, want ErrBadRequest", err)
	}

	crawled, err := d.Crawl(ctx, home, ContentRequest{Format: FormatText}, c)
	if err != nil || !strings.Contains(crawled.Text, "Welcome home") {
		t.Errorf("Crawl in the context = %+v, %v", crawled, err)
	}
	if crawled, err = d.Crawl(ctx, home, ContentRequest{}, nil); err != nil || crawled.Title != "Home" {
		t.Errorf("Crawl alone = %+v, %v", crawled, err)
	}

	if err := p.Close(ctx); err != nil {
		t.Fatalf("page Close: %v", err)
	}
	if err := p.Close(ctx); err != nil {
		t.Errorf("second page Close: %v", err)
	}
	if _, err := p.Content(ctx, ContentRequest{}); !errorsIs(err, ErrClosed) {
		t.Errorf("Content on a closed page = %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("context Close: %v", err)
	}
	<-c.Done()
	if c.Alive() {
		t.Error("a closed context is alive")
	}
	if _, err := c.OpenPage(ctx, home); !errorsIs(err, ErrClosed) {
		t.Errorf("OpenPage on a closed context = %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second context Close: %v", err)
	}
}

func TestContractRealDriver(t *testing.T) {
	contract(t, shared(t), newSite(t).url("/"))
}

func TestContractFake(t *testing.T) {
	f := NewFake(Policy{})
	const home = "http://site.test/"
	f.Serve(home, FakeDoc{Title: "Home", HTML: indexHTML})
	contract(t, f, home)
}
