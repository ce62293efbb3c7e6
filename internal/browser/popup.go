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
	pending map[proto.TargetTargetID]*popup // reported, not yet gone
	closed  map[proto.TargetTargetID][]string
	gone    chan struct{} // closed (and replaced) when a popup is gone: wakes every waiter
}

// popup is one tab a page opened.
type popup struct {
	opener proto.TargetTargetID
	url    string
}

func (g *popupGuard) init() {
	g.pending = map[proto.TargetTargetID]*popup{}
	g.closed = map[proto.TargetTargetID][]string{}
	g.gone = make(chan struct{})
}

// onTarget handles the connection's target events: a popup of this context is closed, and
// its disappearance noted. It reports whether msg was a target event.
func (c *rodContext) onTarget(msg *rod.Message) bool {
	var (
		created   proto.TargetTargetCreated
		changed   proto.TargetTargetInfoChanged
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
		g.pending[info.TargetID] = &popup{opener: info.OpenerID, url: info.URL}
		g.mu.Unlock()
		c.d.log.Debug().Str("session", c.sessionID).Str("url", info.URL).Msg("browser: closing a popup")
		go c.closePopup(info.TargetID)
	case msg.Load(&changed):
		g.mu.Lock()
		if p := g.pending[changed.TargetInfo.TargetID]; p != nil && changed.TargetInfo.URL != "" {
			p.url = changed.TargetInfo.URL
		}
		g.mu.Unlock()
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

// popupGone records that a popup has disappeared, with the address it had.
func (c *rodContext) popupGone(id proto.TargetTargetID) {
	g := &c.popups
	g.mu.Lock()
	p := g.pending[id]
	delete(g.pending, id)
	if p != nil {
		url := p.url
		if url == "" {
			url = blankURL
		}
		g.closed[p.opener] = append(g.closed[p.opener], url)
		close(g.gone)
		g.gone = make(chan struct{})
	}
	g.mu.Unlock()
}

// takePopups waits until the popups the page opened are gone (or ctx ends) and returns their
// addresses, each once.
func (c *rodContext) takePopups(ctx context.Context, opener proto.TargetTargetID) []string {
	g := &c.popups
	for {
		g.mu.Lock()
		waiting := slices.ContainsFunc(mapValues(g.pending), func(p *popup) bool { return p.opener == opener })
		var urls []string
		if !waiting {
			urls = g.closed[opener]
			delete(g.closed, opener)
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
