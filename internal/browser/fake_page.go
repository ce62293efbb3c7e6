package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"
)

// fakeContext is the Fake's Context.
type fakeContext struct {
	f         *Fake
	sessionID string
	lost      chan struct{}
	lostOnce  sync.Once

	mu      sync.Mutex
	closed  bool
	crashed bool
	pages   map[*fakePage]struct{}
	cookies []Cookie
	storage Storage
	changed chan struct{} // signalled when the cookies change
}

func (c *fakeContext) SessionID() string { return c.sessionID }

func (c *fakeContext) Alive() bool { return c.usable() == nil }

func (c *fakeContext) Done() <-chan struct{} { return c.lost }

func (c *fakeContext) usable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return fmt.Errorf("%w: the browser context of session %q is closed", ErrClosed, c.sessionID)
	case c.crashed:
		return fmt.Errorf("%w (session %q)", ErrContextLost, c.sessionID)
	}
	return nil
}

func (c *fakeContext) lose() {
	c.mu.Lock()
	c.crashed = true
	c.mu.Unlock()
	c.lostOnce.Do(func() { close(c.lost) })
}

func (c *fakeContext) markClosed() {
	c.mu.Lock()
	c.closed = true
	c.pages = map[*fakePage]struct{}{}
	c.mu.Unlock()
	c.lostOnce.Do(func() { close(c.lost) })
}

func (c *fakeContext) pageCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pages)
}

func (c *fakeContext) OpenPage(ctx context.Context, rawURL string) (Page, error) {
	if rawURL != "" {
		if _, err := CheckURL(rawURL, c.f.policy); err != nil {
			return nil, err
		}
	}
	if err := c.usable(); err != nil {
		return nil, err
	}
	if err := c.f.enter(ctx, FakeOpenPage, c.sessionID, rawURL); err != nil {
		return nil, err
	}
	p := &fakePage{c: c, url: blankURL}
	c.mu.Lock()
	c.pages[p] = struct{}{}
	c.mu.Unlock()
	if rawURL != "" {
		if _, err := p.Navigate(ctx, rawURL); err != nil {
			_ = p.Close(ctx)
			return nil, err
		}
	}
	return p, nil
}

func (c *fakeContext) SetCookies(ctx context.Context, cookies []Cookie) error {
	cookies, err := validateCookies(cookies)
	if err != nil {
		return err
	}
	if err := c.usable(); err != nil {
		return err
	}
	if err := c.f.enter(ctx, FakeSetCookies, c.sessionID, ""); err != nil {
		return err
	}
	c.setCookies(cookies)
	return nil
}

// setCookies stores cookies as a browser would: URL becomes a host-only domain and a default
// path; a cookie replaces the one with the same name, domain and path.
func (c *fakeContext) setCookies(cookies []Cookie) {
	c.mu.Lock()
	before := slices.Clone(c.cookies)
	defer func() {
		changed := !slices.Equal(before, c.cookies)
		c.mu.Unlock()
		if changed {
			signal(c.changed)
		}
	}()
	for _, ck := range cookies {
		if u, err := ParseCookieURL(ck.URL); err == nil && u != nil { // validated before
			if ck.Domain == "" {
				ck.Domain = normalizeHost(u.Hostname())
			}
			if ck.Path == "" {
				ck.Path = defaultCookiePath(u)
			}
			ck.URL = ""
		}
		if ck.Path == "" {
			ck.Path = "/"
		}
		c.cookies = slices.DeleteFunc(c.cookies, func(o Cookie) bool {
			return o.Name == ck.Name && o.Domain == ck.Domain && o.Path == ck.Path
		})
		if ck.Expires == 0 || float64(time.Now().Unix()) < ck.Expires {
			c.cookies = append(c.cookies, ck)
		}
	}
}

func (c *fakeContext) Cookies(ctx context.Context, rawURL string) ([]Cookie, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	u, err := ParseCookieURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := c.f.enter(ctx, FakeCookies, c.sessionID, rawURL); err != nil {
		return nil, err
	}
	all := c.LastCookies()
	if u == nil {
		return all, nil
	}
	return cookiesFor(all, u, time.Now()), nil
}

func (c *fakeContext) CookiesChanged() <-chan struct{} { return c.changed }

func (c *fakeContext) LastCookies() []Cookie {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.cookies)
}

func (c *fakeContext) Close() error {
	c.mu.Lock()
	done := c.closed
	c.mu.Unlock()
	if done {
		return nil
	}
	if c.usable() == nil {
		if err := c.f.enter(context.Background(), FakeCloseContext, c.sessionID, ""); err != nil {
			return err
		}
	}
	c.markClosed()
	c.f.forget(c)
	return nil
}

// fakePage is the Fake's Page.
type fakePage struct {
	c *fakeContext

	mu     sync.Mutex
	url    string
	title  string
	closed bool
}

func (p *fakePage) Info() (string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.url, p.title
}

func (p *fakePage) usable() error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return fmt.Errorf("%w: the page is closed", ErrClosed)
	}
	return p.c.usable()
}

func (p *fakePage) Navigate(ctx context.Context, rawURL string) (NavResult, error) {
	u, err := CheckURL(rawURL, p.c.f.policy)
	if err != nil {
		return NavResult{}, err
	}
	if err := p.usable(); err != nil {
		return NavResult{}, err
	}
	target := u.String()
	p.mu.Lock()
	p.url, p.title = target, ""
	p.mu.Unlock()
	if err := p.c.f.enter(ctx, FakeNavigate, p.c.sessionID, target); err != nil {
		return NavResult{}, err
	}
	return p.load(target), nil
}

func (p *fakePage) load(target string) NavResult {
	d := p.c.f.doc(target)
	var set []Cookie
	for _, ck := range d.SetCookies {
		if ck.URL == "" && ck.Domain == "" {
			ck.URL = target
		}
		set = append(set, ck)
	}
	p.c.setCookies(set)
	p.mu.Lock()
	p.url, p.title = target, d.Title
	p.mu.Unlock()
	status := d.Status
	if status == 0 {
		status = 200
	}
	if target == blankURL {
		status = 0
	}
	return NavResult{URL: target, Title: d.Title, Status: status}
}

func (p *fakePage) Content(ctx context.Context, req ContentRequest) (Content, error) {
	format, err := ParseFormat(string(req.Format))
	if err != nil {
		return Content{}, err
	}
	if req.Offset < 0 {
		return Content{}, fmt.Errorf("%w: offset %d is negative", ErrBadRequest, req.Offset)
	}
	if err := p.usable(); err != nil {
		return Content{}, err
	}
	pageURL, title := p.Info()
	if err := p.c.f.enter(ctx, FakeContent, p.c.sessionID, pageURL); err != nil {
		return Content{}, err
	}
	d := p.c.f.doc(pageURL)
	part := d.HTML
	if req.Selector != "" {
		var ok bool
		if part, ok = d.Elements[req.Selector]; !ok {
			return Content{}, fmt.Errorf("%w: nothing on %s matches %q", ErrNoElement, pageURL, req.Selector)
		}
	}
	if format == FormatText {
		part = htmlText(part)
	}
	full, err := render(snapshot{URL: pageURL, Title: title, Base: pageURL, Parts: []string{part}}, format)
	if err != nil {
		return Content{}, err
	}
	p.c.f.mu.Lock()
	limit := p.c.f.maxContent
	p.c.f.mu.Unlock()
	out, err := window(full, req.Offset, maxFor(req.Max, limit))
	if err != nil {
		return Content{}, err
	}
	out.URL, out.Title, out.Format = pageURL, title, format
	return out, nil
}

func (p *fakePage) Action(ctx context.Context, req ActionRequest) (ActionResult, error) {
	if err := checkAction(req); err != nil {
		return ActionResult{}, err
	}
	if err := p.usable(); err != nil {
		return ActionResult{}, err
	}
	pageURL, title := p.Info()
	if err := p.c.f.enter(ctx, FakeAction, p.c.sessionID, pageURL); err != nil {
		return ActionResult{}, err
	}
	d := p.c.f.doc(pageURL)
	res := ActionResult{Action: req.Action, URL: pageURL, Title: title}
	if req.Selector != "" {
		_, isElem := d.Elements[req.Selector]
		link, isLink := d.Links[req.Selector]
		if !isElem && !isLink {
			return ActionResult{}, fmt.Errorf("%w: nothing matches %q", ErrNoElement, req.Selector)
		}
		if isLink && req.Action == ActionClick {
			nav := p.load(link)
			res.Navigated, res.URL, res.Title = true, nav.URL, nav.Title
		}
	}
	if req.Action == ActionEvaluate {
		res.Value = json.RawMessage("null")
	}
	return res, nil
}

func (p *fakePage) Screenshot(ctx context.Context, _ bool) ([]byte, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	pageURL, _ := p.Info()
	if err := p.c.f.enter(ctx, FakeScreenshot, p.c.sessionID, pageURL); err != nil {
		return nil, err
	}
	return slices.Clone(fakePNG), nil
}

func (p *fakePage) Close(ctx context.Context) error {
	p.mu.Lock()
	done, pageURL := p.closed, p.url
	p.mu.Unlock()
	if done {
		return nil
	}
	if p.c.usable() == nil {
		if err := p.c.f.enter(ctx, FakeClosePage, p.c.sessionID, pageURL); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.c.mu.Lock()
	delete(p.c.pages, p)
	p.c.mu.Unlock()
	return nil
}

// htmlText is the text of an HTML fragment, scripts and styles left out.
func htmlText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b bytes.Buffer
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.StartTagToken:
			if name, _ := z.TagName(); string(name) == "script" || string(name) == "style" {
				skip++
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); (string(name) == "script" || string(name) == "style") && skip > 0 {
				skip--
			}
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
				b.WriteByte(' ')
			}
		}
	}
}

var (
	_ Driver  = (*Fake)(nil)
	_ Context = (*fakeContext)(nil)
	_ Page    = (*fakePage)(nil)
	_ Driver  = (*rodDriver)(nil)
	_ Context = (*rodContext)(nil)
	_ Page    = (*rodPage)(nil)
)
