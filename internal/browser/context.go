package browser

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/cdp"
	"github.com/go-rod/rod/lib/proto"
)

// rodContext is one session's browser context: a view of the browser's one CDP connection
// scoped to the context. The context was created with disposeOnDetach, so Chromium disposes it
// when the connection ends (troupe gone, the pipe closed); while troupe runs, Close disposes
// it explicitly, and a disposal that failed is retried before the next context opens
// (rodDriver.orphans), so a session's tabs go away with the session.
type rodContext struct {
	d         *rodDriver
	sessionID string
	id        proto.BrowserBrowserContextID
	conn      *cdpConn
	browser   *rod.Browser // the connection's, BrowserContextID set, bound to life
	life      context.Context
	stop      context.CancelFunc
	done      chan struct{} // closed when the context is closed or the connection lost

	// changed is signalled (coalesced) when a read finds the cookies changed.
	changed chan struct{}
	popups  popupGuard

	mu      sync.Mutex
	closed  bool
	pages   map[*rodPage]struct{}
	last    []Cookie
	storage storageState
}

// openRodContext creates a browser context on the browser's connection.
func openRodContext(ctx context.Context, d *rodDriver, conn *cdpConn, sessionID string) (*rodContext, error) {
	life, stop := context.WithCancel(conn.life)
	c := &rodContext{d: d, sessionID: sessionID, conn: conn, life: life, stop: stop, done: make(chan struct{}),
		pages: map[*rodPage]struct{}{}, changed: make(chan struct{}, 1)}
	c.popups.init()
	go func() {
		<-life.Done() // closed, or the connection ended
		close(c.done)
	}()
	res, err := proto.TargetCreateBrowserContext{DisposeOnDetach: true}.Call(conn.browser.Context(ctx))
	if err != nil {
		ferr := c.fail(ctx, "opening a browser context", err)
		c.stop()
		return nil, ferr
	}
	c.id = res.BrowserContextID
	scoped := *conn.browser.Context(life)
	scoped.BrowserContextID = c.id
	c.browser = &scoped
	go c.watch(life)
	return c, nil
}

// SessionID implements Context.
func (c *rodContext) SessionID() string { return c.sessionID }

// Alive implements Context.
func (c *rodContext) Alive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed && !c.conn.dead()
}

// Done implements Context.
func (c *rodContext) Done() <-chan struct{} { return c.done }

// usable says why the context cannot be used, or nil.
func (c *rodContext) usable() error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return fmt.Errorf("%w: the browser context of session %q is closed", ErrClosed, c.sessionID)
	}
	if c.conn.dead() {
		return fmt.Errorf("%w (session %q)", ErrContextLost, c.sessionID)
	}
	return nil
}

// fail turns an error from a browser call into one of the package's errors.
func (c *rodContext) fail(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if uerr := c.usable(); uerr != nil {
		return fmt.Errorf("%s: %w", what, uerr)
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %s did not finish in time", ErrTimeout, what)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", what, context.Canceled)
	}
	return fmt.Errorf("browser: %s: %w", what, err)
}

// callCtx bounds a call by the driver's default unless ctx ends earlier.
func (c *rodContext) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.d.opts.CallTimeout)
}

// OpenPage implements Context.
func (c *rodContext) OpenPage(ctx context.Context, rawURL string) (Page, error) {
	if rawURL != "" {
		if _, err := CheckURL(rawURL, c.d.opts.Policy); err != nil {
			return nil, err
		}
	}
	if err := c.usable(); err != nil {
		return nil, err
	}
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	// A window per tab: in a shared window only the newest tab is painted, and a tab behind it
	// has no animation frames and answers no mouse input (every click on an older page of the
	// session hung).
	t, err := proto.TargetCreateTarget{URL: blankURL, BrowserContextID: c.id, NewWindow: true}.Call(c.browser.Context(cctx))
	if err != nil {
		return nil, c.fail(cctx, "opening a page", err)
	}
	closeTarget := func() {
		tctx, cancel := context.WithTimeout(context.Background(), c.d.opts.CallTimeout)
		defer cancel()
		_, _ = proto.TargetCloseTarget{TargetID: t.TargetID}.Call(c.browser.Context(tctx))
	}
	// PageFromTarget binds the page to the connection's lifetime, so it runs on c.browser.
	rp, err := await(cctx, func() (*rod.Page, error) { return c.browser.PageFromTarget(t.TargetID) },
		func(*rod.Page) { closeTarget() })
	if err != nil {
		closeTarget()
		return nil, c.fail(cctx, "opening a page", err)
	}
	// The Network domain reports every response's raw headers (responseReceivedExtraInfo),
	// so that a cookie a fetch sets is seen at once (watchCookies).
	if err := (proto.NetworkEnable{}).Call(rp.Context(cctx)); err != nil {
		closeTarget()
		return nil, c.fail(cctx, "opening a page", err)
	}
	p := &rodPage{c: c, page: rp, url: blankURL}
	// localStorage still to be restored is written before the first document's scripts run.
	if err := c.installRestore(cctx, p); err != nil {
		closeTarget()
		return nil, c.fail(cctx, "opening a page", err)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		closeTarget()
		return nil, c.usable()
	}
	c.pages[p] = struct{}{}
	c.mu.Unlock()
	if rawURL != "" {
		if _, err := p.Navigate(ctx, rawURL); err != nil {
			_ = p.Close(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	return p, nil
}

func (c *rodContext) forget(p *rodPage) {
	c.mu.Lock()
	delete(c.pages, p)
	c.mu.Unlock()
	c.popups.mu.Lock()
	delete(c.popups.asked, p.page.TargetID) // popups no call will report now
	c.popups.mu.Unlock()
}

// SetCookies implements Context. It also says what the browser did not keep (checkKept).
func (c *rodContext) SetCookies(ctx context.Context, cookies []Cookie) error {
	cookies, err := validateCookies(cookies)
	if err != nil {
		return err
	}
	return c.setCookies(ctx, cookies, true)
}

// setCookies sets valid cookies; with check, it compares the cookies before and after
// (checkKept). A new context's saved cookies are set without: what the browser drops of
// them is no caller's to fix.
func (c *rodContext) setCookies(ctx context.Context, cookies []Cookie, check bool) error {
	if err := c.usable(); err != nil {
		return err
	}
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	var before []Cookie
	var err error
	if check {
		if before, err = c.allCookies(cctx); err != nil {
			return c.fail(cctx, "reading cookies", err)
		}
	}
	err = proto.StorageSetCookies{Cookies: toCookieParams(cookies), BrowserContextID: c.id}.Call(c.browser.Context(cctx))
	var refused *cdp.Error
	if errors.As(err, &refused) && refused.Code == -32602 {
		// Chromium's "Invalid cookie fields" (CDP invalid params) for what ValidateCookie does
		// not foresee: the caller's to fix, not a fault of the browser connection.
		return fmt.Errorf("%w: the browser refused the cookies (%s); check each cookie's name, value, domain and path", ErrBadRequest, refused.Message)
	}
	if err != nil {
		return c.fail(cctx, "setting cookies", err)
	}
	all, err := c.allCookies(cctx)
	if err != nil {
		c.d.log.Debug().Err(err).Str("session", c.sessionID).Msg("browser: cookies not refreshed")
		return nil
	}
	if !check {
		return nil
	}
	return checkKept(before, cookies, all, time.Now())
}

// Cookies implements Context.
func (c *rodContext) Cookies(ctx context.Context, rawURL string) ([]Cookie, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	u, err := ParseCookieURL(rawURL)
	if err != nil {
		return nil, err
	}
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	all, err := c.allCookies(cctx)
	if err != nil {
		return nil, c.fail(cctx, "reading cookies", err)
	}
	if u == nil {
		return all, nil
	}
	return cookiesFor(all, u, time.Now()), nil
}

func (c *rodContext) allCookies(ctx context.Context) ([]Cookie, error) {
	res, err := proto.StorageGetCookies{BrowserContextID: c.id}.Call(c.browser.Context(ctx))
	if err != nil {
		return nil, err
	}
	all := fromProtoCookies(res.Cookies)
	c.storeCookies(all)
	return slices.Clone(all), nil
}

// refreshCookies updates LastCookies and LastLocalStorage; a failure only leaves the older copy.
func (c *rodContext) refreshCookies(ctx context.Context) {
	if _, err := c.allCookies(ctx); err != nil {
		c.d.log.Debug().Err(err).Str("session", c.sessionID).Msg("browser: cookies not refreshed")
	}
	if c.readStorage(ctx) {
		signal(c.changed)
	}
}

// LastCookies implements Context.
func (c *rodContext) LastCookies() []Cookie {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.last)
}

// Close implements Context: the context is disposed (its tabs close).
func (c *rodContext) Close() error {
	c.shutdown(true)
	c.d.forget(c)
	return nil
}

// shutdown closes the context once; dispose asks Chromium to dispose the context (and waits
// for it, bounded). A disposal that fails is left to the driver to retry; without dispose
// (the driver is closing the whole browser) the context goes with the browser.
func (c *rodContext) shutdown(dispose bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.pages = map[*rodPage]struct{}{}
	c.mu.Unlock()
	c.stop()
	if !dispose || c.id == "" || c.conn.dead() {
		return
	}
	ctx, cancel := c.callCtx(context.Background())
	defer cancel()
	err := proto.TargetDisposeBrowserContext{BrowserContextID: c.id}.Call(c.conn.browser.Context(ctx))
	if err != nil && !c.conn.dead() {
		c.d.log.Warn().Err(err).Str("session", c.sessionID).Msg("browser: dispose failed; retried before the next context opens")
		c.d.orphan(c.conn, c.id)
	}
}
