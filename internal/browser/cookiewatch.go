package browser

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// DefaultCookieInterval is how often a context with open pages reads its cookies back, to
// catch what no response announces (document.cookie writes, expiries).
const DefaultCookieInterval = time.Second

// cookieSettle is how long a Set-Cookie response waits before the cookies are read back, so
// that a burst of responses costs one read.
const cookieSettle = 100 * time.Millisecond

// watch follows the browser connection's events for the context: target events go to the
// popup guard (popup.go), and it keeps LastCookies current without a call from the session
// (DESIGN §14: cookies from any source are saved within about a second of changing). Two
// triggers: a response of any kind in the context's tabs (navigation, fetch, XHR) that carries
// Set-Cookie, seen as Network.responseReceivedExtraInfo on one of the context's own tabs; and a
// read every CookieInterval while the context has pages open. A read that finds the cookies
// changed signals CookiesChanged. It returns when the context's lifetime ends.
func (c *rodContext) watch(life context.Context) {
	events := c.browser.Context(life).Event()
	tick := time.NewTicker(c.d.opts.CookieInterval)
	defer tick.Stop()
	var due <-chan time.Time
	for {
		select {
		case <-life.Done():
			return
		case msg, ok := <-events:
			if !ok {
				return
			}
			if c.onTarget(msg) {
				continue
			}
			if due == nil && setsCookie(msg) && c.ownsSession(msg.SessionID) {
				due = time.After(cookieSettle)
			}
		case <-due:
			due = nil
			c.refreshCookies(life)
		case <-tick.C:
			if c.pageCount() > 0 {
				c.refreshCookies(life)
			}
		}
	}
}

// setsCookie reports whether msg is a response whose headers set a cookie.
func setsCookie(msg *rod.Message) bool {
	var e proto.NetworkResponseReceivedExtraInfo
	if !msg.Load(&e) {
		return false
	}
	for k := range e.Headers {
		if strings.EqualFold(k, "set-cookie") {
			return true
		}
	}
	return false
}

// ownsSession reports whether a CDP session is one of the context's tabs: the connection
// carries every context's events.
func (c *rodContext) ownsSession(id proto.TargetSessionID) bool {
	_, ok := c.pageOfSession(id)
	return ok
}

// pageCount is the number of the context's open tabs.
func (c *rodContext) pageCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pages)
}

// storeCookies keeps all as the cookies last seen and signals CookiesChanged when they differ
// from the previous copy.
func (c *rodContext) storeCookies(all []Cookie) {
	c.mu.Lock()
	changed := !slices.Equal(c.last, all)
	c.last = all
	c.mu.Unlock()
	if changed {
		signal(c.changed)
	}
}

// CookiesChanged implements Context.
func (c *rodContext) CookiesChanged() <-chan struct{} { return c.changed }

// signal makes a pending, coalesced notification on ch (capacity 1).
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
