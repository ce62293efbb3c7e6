package browser

import (
	"context"
	"slices"
	"sync"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// popupGuard closes the tabs that pages open by themselves: a link with target=_blank,
// window.open, a form with a target. troupe's policy is that a session's pages are the ones
// its caller opened: a popup is closed as soon as Chromium reports it, and the action that
// opened it reports its address (ActionResult.Popups), to be followed with a navigation.
//
// Why close rather than leave it: a new tab in headless Chromium takes the foreground, and
// Input.dispatchMouseEvent and dispatchKeyEvent on the opener, now in the background, are not
// answered until it is in front again — every later click on the page hung (issue 11 item 6).
type popupGuard struct {
	mu      sync.Mutex
	pending map[proto.TargetTargetID]*popup   // reported, not yet gone
	asked   map[proto.TargetTargetID][]string // by opener: the addresses it asked to open
	gone    chan struct{}                     // closed (and replaced) when a popup is gone: wakes every waiter
}

// popup is one tab a page opened.
type popup struct {
	opener proto.TargetTargetID
}

func (g *popupGuard) init() {
	g.pending = map[proto.TargetTargetID]*popup{}
	g.asked = map[proto.TargetTargetID][]string{}
	g.gone = make(chan struct{})
}

// onTarget handles the connection's popup events: a popup of this context is closed, and its
// disappearance noted; the address a page asks to open (Page.windowOpen, on the opener: the
// new tab itself starts at about:blank) is kept for the action to report. It reports whether
// msg was one of these events.
func (c *rodContext) onTarget(msg *rod.Message) bool {
	var (
		created   proto.TargetTargetCreated
		opened    proto.PageWindowOpen
		destroyed proto.TargetTargetDestroyed
	)
	g := &c.popups
	switch {
	case msg.Load(&created):
		info := created.TargetInfo
		if info.BrowserContextID != c.id || info.Type != proto.TargetTargetInfoTypePage || info.OpenerID == "" {
			return true // a tab troupe opened has no opener
		}
		g.mu.Lock()
		g.pending[info.TargetID] = &popup{opener: info.OpenerID}
		g.mu.Unlock()
		c.d.log.Debug().Str("session", c.sessionID).Msg("browser: closing a popup")
		go c.closePopup(info.TargetID)
	case msg.Load(&opened):
		if opener, ok := c.pageOfSession(msg.SessionID); ok {
			g.mu.Lock()
			g.asked[opener] = append(g.asked[opener], opened.URL)
			g.mu.Unlock()
		}
	case msg.Load(&destroyed):
		c.popupGone(destroyed.TargetID)
	default:
		return false
	}
	return true
}

// closePopup closes a popup under the call deadline; one that cannot be closed is forgotten
// (the context's disposal takes it with the rest).
func (c *rodContext) closePopup(id proto.TargetTargetID) {
	ctx, cancel := c.callCtx(c.life)
	defer cancel()
	if _, err := (proto.TargetCloseTarget{TargetID: id}).Call(c.conn.browser.Context(ctx)); err != nil {
		c.d.log.Debug().Err(err).Str("session", c.sessionID).Msg("browser: a popup could not be closed")
		c.popupGone(id)
	}
}

// popupGone records that a popup has disappeared.
func (c *rodContext) popupGone(id proto.TargetTargetID) {
	g := &c.popups
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.pending[id]; ok {
		delete(g.pending, id)
		close(g.gone)
		g.gone = make(chan struct{})
	}
}

// pageOfSession finds the tab of the context a CDP session belongs to.
func (c *rodContext) pageOfSession(id proto.TargetSessionID) (proto.TargetTargetID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.pages {
		if p.page.SessionID == id {
			return p.page.TargetID, true
		}
	}
	return "", false
}

// takePopups waits until the popups the page opened are gone (or ctx ends) and returns the
// addresses it asked to open since the last call.
func (c *rodContext) takePopups(ctx context.Context, opener proto.TargetTargetID) []string {
	g := &c.popups
	for {
		g.mu.Lock()
		waiting := slices.ContainsFunc(mapValues(g.pending), func(p *popup) bool { return p.opener == opener })
		var urls []string
		if !waiting {
			urls = g.asked[opener]
			delete(g.asked, opener)
		}
		gone := g.gone
		g.mu.Unlock()
		if !waiting {
			return urls
		}
		select {
		case <-gone:
		case <-ctx.Done():
			return nil
		case <-c.done:
			return nil
		}
	}
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
