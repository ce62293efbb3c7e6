package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// maxShotHeight caps full-page screenshots: Chromium cannot render taller surfaces reliably.
const maxShotHeight = 16384

// rodPage is one tab of a rodContext.
type rodPage struct {
	c    *rodContext
	page *rod.Page // bound to the connection's lifetime; each call uses a clone with its ctx

	mu     sync.Mutex
	url    string
	title  string
	closed bool
	// restoreID is the tab's script restoring localStorage (storage.go), "" when none.
	restoreID proto.PageScriptIdentifier
}

// pageState is where a document is, as the page reports it.
type pageState struct {
	URL    string `json:"url"`
	Title  string `json:"title"`
	Status int    `json:"status"`
}

// settleJS waits for the load event and reports the document's address and HTTP status.
const settleJS = `new Promise(resolve => {
  const done = () => {
    const nav = performance.getEntriesByType('navigation')[0];
    resolve({url: location.href, title: document.title, status: (nav && nav.responseStatus) || 0});
  };
  if (document.readyState === 'complete') done(); else addEventListener('load', done, {once: true});
})`

// snapshotJS collects the selected parts as HTML or as rendered text.
const snapshotJS = `((sel, text) => {
  let nodes = [document.documentElement];
  if (sel) {
    try { nodes = Array.from(document.querySelectorAll(sel)); }
    catch (e) { return {bad_selector: String(e.message || e)}; }
  }
  const whole = n => n === document.documentElement;
  const parts = nodes.map(n => text
    ? (whole(n) ? (document.body ? document.body.innerText : n.textContent) : (n.innerText ?? n.textContent))
    : n.outerHTML);
  return {url: location.href, title: document.title, base: document.baseURI, parts};
})`

// Info implements Page.
func (p *rodPage) Info() (string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.url, p.title
}

func (p *rodPage) setInfo(url, title string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.url, p.title = url, title
}

func (p *rodPage) usable() error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return fmt.Errorf("%w: the page is closed", ErrClosed)
	}
	return p.c.usable()
}

// Navigate implements Page.
func (p *rodPage) Navigate(ctx context.Context, rawURL string) (NavResult, error) {
	u, err := CheckURL(rawURL, p.c.d.opts.Policy)
	if err != nil {
		return NavResult{}, err
	}
	if err := p.usable(); err != nil {
		return NavResult{}, err
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.c.d.opts.NavTimeout)
	defer cancel()
	target := u.String()
	p.setInfo(target, "") // what to re-open should the navigation not finish
	pg := p.page.Context(ctx)
	if err := pg.Navigate(target); err != nil {
		return NavResult{}, p.navFail(ctx, start, target, err)
	}
	st, err := p.settle(pg)
	if err != nil {
		return NavResult{}, p.navFail(ctx, start, target, err)
	}
	if err := p.landed(ctx, target, st); err != nil {
		return NavResult{}, err
	}
	p.c.refreshCookies(ctx)
	return NavResult{URL: st.URL, Title: st.Title, Status: st.Status}, nil
}

// settle waits for the current document's load event and records where the page is. A
// document replaced while waiting (a script redirect) is waited for in turn.
func (p *rodPage) settle(pg *rod.Page) (pageState, error) {
	var st pageState
	var err error
	for range 3 {
		if err = evalJS(pg, settleJS, &st); err == nil || !contextReplaced(err) {
			break
		}
	}
	if err != nil {
		return st, err
	}
	p.setInfo(st.URL, st.Title)
	return st, nil
}

func contextReplaced(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "context was destroyed") || strings.Contains(msg, "Cannot find context") ||
		strings.Contains(msg, "navigated or closed")
}

// landed checks the policy on where a navigation ended; a refused place is left for about:blank.
func (p *rodPage) landed(ctx context.Context, asked string, st pageState) error {
	if st.URL == "" || st.URL == blankURL {
		return nil
	}
	if _, err := CheckURL(st.URL, p.c.d.opts.Policy); err != nil {
		_ = p.page.Context(ctx).Navigate(blankURL)
		p.setInfo(blankURL, "")
		return fmt.Errorf("%s led to %s, which is refused; the page was left blank: %w", asked, st.URL, err)
	}
	return nil
}

// navFail explains a failed navigation; one that ran out of time is stopped first.
func (p *rodPage) navFail(ctx context.Context, start time.Time, target string, err error) error {
	var navErr *rod.NavigationError
	switch {
	case errors.As(err, &navErr):
		return fmt.Errorf("%w: %s: %s; check that the address is right and the site is up", ErrUnreachable, target, navErr.Reason)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && p.c.usable() == nil:
		p.stopLoading()
		return fmt.Errorf("%w: loading %s took longer than %s and was stopped; try again, or raise the navigation timeout for slow sites",
			ErrTimeout, target, budget(ctx, start))
	}
	return p.c.fail(ctx, "loading "+target, err)
}

// stopLoading stops a navigation and the page's pending fetches, under its own deadline.
func (p *rodPage) stopLoading() {
	ctx, cancel := p.c.callCtx(context.Background())
	defer cancel()
	if err := p.page.Context(ctx).StopLoading(); err != nil {
		p.c.d.log.Debug().Err(err).Msg("browser: stop loading failed")
	}
}

// Content implements Page.
func (p *rodPage) Content(ctx context.Context, req ContentRequest) (Content, error) {
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
	ctx, cancel := p.c.callCtx(ctx)
	defer cancel()
	var snap struct {
		snapshot
		BadSelector string `json:"bad_selector"`
	}
	args, _ := json.Marshal([]any{req.Selector, format == FormatText})
	expr := snapshotJS + "(..." + string(args) + ")"
	if err := evalJS(p.page.Context(ctx), expr, &snap); err != nil {
		return Content{}, p.c.fail(ctx, "reading the page", err)
	}
	if snap.BadSelector != "" {
		return Content{}, fmt.Errorf("%w: %q is not a valid CSS selector: %s", ErrBadRequest, req.Selector, snap.BadSelector)
	}
	p.setInfo(snap.URL, snap.Title)
	if len(snap.Parts) == 0 {
		return Content{}, fmt.Errorf("%w: nothing on %s matches %q; check the selector, or leave it out for the whole page",
			ErrNoElement, snap.URL, req.Selector)
	}
	full, err := render(snap.snapshot, format)
	if err != nil {
		return Content{}, err
	}
	out, err := window(full, req.Offset, maxFor(req.Max, p.c.d.opts.MaxContent))
	if err != nil {
		return Content{}, err
	}
	out.URL, out.Title, out.Format = snap.URL, snap.Title, format
	return out, nil
}

// Screenshot implements Page.
func (p *rodPage) Screenshot(ctx context.Context, fullPage bool) ([]byte, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	ctx, cancel := p.c.callCtx(ctx)
	defer cancel()
	pg := p.page.Context(ctx)
	req := proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng}
	if fullPage {
		m, err := proto.PageGetLayoutMetrics{}.Call(pg)
		if err != nil {
			return nil, p.c.fail(ctx, "measuring the page", err)
		}
		if size := m.CSSContentSize; size != nil && size.Width > 0 && size.Height > 0 {
			req.CaptureBeyondViewport = true
			req.Clip = &proto.PageViewport{Width: size.Width, Height: min(size.Height, maxShotHeight), Scale: 1}
		}
	}
	res, err := req.Call(pg)
	if err != nil {
		return nil, p.c.fail(ctx, "taking a screenshot", err)
	}
	return res.Data, nil
}

// Close implements Page.
func (p *rodPage) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	// What the tab keeps in localStorage is read before it goes (DESIGN §14: saved at every close).
	if p.c.usable() == nil {
		rctx, cancel := p.c.callCtx(ctx)
		if p.c.readPageStorage(rctx, p) {
			signal(p.c.changed)
		}
		cancel()
	}
	p.c.forget(p)
	if p.c.usable() != nil {
		return nil // the context, and so the tab, is gone already
	}
	ctx, cancel := p.c.callCtx(ctx)
	defer cancel()
	// Target.closeTarget answers before the tab is gone; wait for its destruction, so that a
	// closed page no longer counts anywhere.
	b, stop := p.c.browser.Context(ctx).WithCancel()
	defer stop()
	events := b.Event()
	_, err := proto.TargetCloseTarget{TargetID: p.page.TargetID}.Call(b)
	p.c.browser.RemoveState(p.page.TargetID)
	if err == nil {
		err = waitDestroyed(ctx, events, p.page.TargetID)
	}
	if err != nil && p.c.usable() == nil {
		return p.c.fail(ctx, "closing the page", err)
	}
	// What the tab left in the context is read at every close (DESIGN §14), so that the
	// session saves it with the page's removal.
	p.c.refreshCookies(ctx)
	return nil
}

// waitDestroyed waits for the event that says a target is gone.
func waitDestroyed(ctx context.Context, events <-chan *rod.Message, id proto.TargetTargetID) error {
	for msg := range events {
		var e proto.TargetTargetDestroyed
		if msg.Load(&e) && e.TargetID == id {
			return nil
		}
	}
	return ctx.Err() // the events end when ctx does (or the connection drops)
}

// evalJS evaluates a JavaScript expression in the page's main frame (a promise is awaited)
// and decodes its value into out.
func evalJS(pg *rod.Page, expr string, out any) error {
	res, err := proto.RuntimeEvaluate{Expression: expr, ReturnByValue: true, AwaitPromise: true}.Call(pg)
	if err != nil {
		return err
	}
	if res.ExceptionDetails != nil {
		return fmt.Errorf("%w: %s", ErrScript, exceptionText(res.ExceptionDetails))
	}
	if out == nil {
		return nil
	}
	return res.Result.Value.Unmarshal(out)
}

func exceptionText(d *proto.RuntimeExceptionDetails) string {
	if d.Exception != nil && d.Exception.Description != "" {
		desc, _, _ := strings.Cut(d.Exception.Description, "\n    at ")
		return desc
	}
	return d.Text
}
