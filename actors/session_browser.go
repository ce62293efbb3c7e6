package actors

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/messages"
)

// sessionBrowser is a session's one browser context, opened on first use (a page, a crawl in
// the session, its cookies) with the session's cookies, and re-opened with the cookies it last
// had when the browser died. The session never waits on the browser: the context is opened in
// a goroutine and the calls that need it wait in waiters.
type sessionBrowser struct {
	ctx     browser.Context
	opening bool
	waiters []func(ctx actor.Context, bc browser.Context, err *messages.Error)
	// mu guards stopped and pending against the goroutine opening a context: a context that
	// finishes opening after the session stopped is closed at once, and one whose message the
	// stopped actor will never read is closed when it stops.
	mu      sync.Mutex
	stopped bool
	pending browser.Context
	// saveAtStop: the session stops with the server (not deleted): its cookies are read and
	// saved one last time before the context closes.
	saveAtStop bool
}

// Internal messages of the session's browser work.
type (
	contextOpened struct {
		bc       browser.Context
		err      error
		replaced bool // a lost context was replaced: the pages re-open
	}
	crawlDone struct {
		msg     *messages.CrawlURL
		to      *actor.PID
		content browser.Content
		err     error
		retried bool
	}
	cookiesDone struct {
		set     *messages.SetCookies // nil for a read
		url     string               // a read: the cookies sent to url, or all
		to      *actor.PID
		cookies []browser.Cookie
		err     error
		retried bool
	}
)

// browserUser is a kind whose children live in the session's browser context: they hear when
// a lost context was replaced.
type browserUser interface {
	contextReplaced(ctx actor.Context, c *child, bc browser.Context)
}

var errNoBrowser = messages.Errorf(messages.CodeUnavailable, "pages are not available: this server runs without a browser driver")

// withContext calls fn with the session's live context, opening (or re-opening) it first.
func (s *sessionActor) withContext(ctx actor.Context, fn func(ctx actor.Context, bc browser.Context, err *messages.Error)) {
	b := &s.browser
	if s.opts.Browser == nil {
		fn(ctx, nil, errNoBrowser)
		return
	}
	if b.ctx != nil && b.ctx.Alive() {
		fn(ctx, b.ctx, nil)
		return
	}
	b.waiters = append(b.waiters, fn)
	if b.opening {
		return
	}
	b.opening = true
	old, cookies, storage := b.ctx, toBrowserCookies(s.rec.Cookies), browser.Storage(s.rec.LocalStorage).Clone()
	if old != nil {
		// What the lost context had last: newer than the record when a save was missed.
		cookies, storage = old.LastCookies(), old.LastLocalStorage()
		s.log.Warn().Msg("browser context lost; opening a new one with the session's cookies and localStorage")
	}
	drv, id, timeout, root, self := s.opts.Browser, s.rec.ID, s.opts.PageTimeout, ctx.ActorSystem().Root, ctx.Self()
	bg := s.opts.background
	bg.Add(1)
	go func() {
		defer bg.Done()
		if old != nil {
			_ = old.Close()
		}
		octx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		bc, err := drv.OpenContext(octx, id, cookies)
		if err == nil && len(storage) > 0 {
			// Before any page opens: the first document of each origin finds it.
			if serr := bc.SetLocalStorage(octx, storage); serr != nil {
				_ = bc.Close()
				bc, err = nil, serr
			}
		}
		if err == nil {
			b.mu.Lock()
			if b.stopped {
				b.mu.Unlock()
				_ = bc.Close()
				return
			}
			b.pending = bc
			b.mu.Unlock()
		}
		root.Send(self, &contextOpened{bc: bc, err: err, replaced: old != nil})
	}()
}

func (s *sessionActor) onContextOpened(ctx actor.Context, msg *contextOpened) {
	b := &s.browser
	b.mu.Lock()
	b.pending = nil
	b.mu.Unlock()
	b.opening = false
	waiters := b.waiters
	b.waiters = nil
	var e *messages.Error
	if msg.err != nil {
		e = browserError(msg.err)
		s.log.Warn().Err(msg.err).Msg("browser context could not be opened")
	} else {
		b.ctx = msg.bc
		s.watchCookies(ctx, b.ctx)
	}
	for _, fn := range waiters {
		fn(ctx, b.ctx, e)
	}
	if e == nil && msg.replaced {
		for _, c := range s.children {
			if k, ok := kinds[c.spec.Kind].(browserUser); ok && !c.stopping {
				k.contextReplaced(ctx, c, b.ctx)
			}
		}
	}
}

// releaseBrowser runs before the deleted-session guard: it closes the session's context once
// the actor has stopped, closes a context that finished opening after the session was gone,
// and still answers the browser calls that were under way then.
func (s *sessionActor) releaseBrowser(ctx actor.Context, msg any) {
	if _, stopping := msg.(*actor.Stopping); stopping && s.gone == "" {
		s.browser.saveAtStop = true // a deleted session is gone before it stops
	}
	if _, stopped := msg.(*actor.Stopped); stopped {
		s.saveCookiesAtStop()
		b := &s.browser
		b.mu.Lock()
		b.stopped = true
		pending := b.pending
		b.pending = nil
		b.mu.Unlock()
		if pending != nil && pending != b.ctx {
			_ = pending.Close()
		}
		if b.ctx != nil {
			_ = b.ctx.Close()
			b.ctx = nil
		}
	}
	if s.gone == "" {
		return
	}
	gone := messages.Errorf(messages.CodeNotFound, "session %q %s", s.rec.ID, s.gone)
	switch m := msg.(type) {
	case *contextOpened:
		if m.bc != nil {
			_ = m.bc.Close()
		}
		for _, fn := range s.browser.waiters {
			fn(ctx, nil, gone)
		}
		s.browser.waiters, s.browser.opening = nil, false
	case *pageChanged:
		if m.to != nil {
			ctx.Send(m.to, m.reply)
		}
	case *crawlDone:
		ctx.Send(m.to, gone)
	case *cookiesDone:
		ctx.Send(m.to, gone)
	}
}

// onNeedContext gives a page the session's context.
func (s *sessionActor) onNeedContext(ctx actor.Context, msg *needContext) {
	s.withContext(ctx, func(ctx actor.Context, bc browser.Context, err *messages.Error) {
		if c := s.childByName(msg.name); c != nil {
			ctx.Send(c.pid, &contextReady{bctx: bc, err: err})
		}
	})
}

// crawl loads a URL in a short-lived page of the session's context.
func (s *sessionActor) crawl(ctx actor.Context, msg *messages.CrawlURL, to *actor.PID, retried bool) {
	s.withContext(ctx, func(ctx actor.Context, bc browser.Context, e *messages.Error) {
		if e != nil {
			ctx.Send(to, e)
			return
		}
		drv, timeout, root, self := s.opts.Browser, s.opts.PageTimeout, ctx.ActorSystem().Root, ctx.Self()
		go func() {
			cctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			content, err := drv.Crawl(cctx, msg.URL, crawlRequest(msg), bc)
			root.Send(self, &crawlDone{msg: msg, to: to, content: content, err: err, retried: retried})
		}()
	})
}

func (s *sessionActor) onCrawlDone(ctx actor.Context, d *crawlDone) {
	if d.err != nil && !d.retried && lostContext(d.err, s.browser.ctx) {
		s.crawl(ctx, d.msg, d.to, true)
		return
	}
	if s.syncCookies() {
		if err := s.persist(); err != nil {
			s.log.Error().Err(err).Msg("persist cookies after a crawl")
		}
	}
	if d.err != nil {
		ctx.Send(d.to, browserError(d.err))
		return
	}
	ctx.Send(d.to, &messages.PageContentResult{Content: contentMessage(d.content)})
}

func lostContext(err error, bc browser.Context) bool {
	return errors.Is(err, browser.ErrContextLost) || (bc != nil && !bc.Alive())
}

func crawlRequest(msg *messages.CrawlURL) browser.ContentRequest {
	return browser.ContentRequest{Format: browser.Format(msg.Format), Offset: msg.Offset, Max: msg.MaxBytes}
}

// cookies sets (set != nil) or reads the session's cookies in its context.
func (s *sessionActor) cookies(ctx actor.Context, set *messages.SetCookies, url string, to *actor.PID, retried bool) {
	s.withContext(ctx, func(ctx actor.Context, bc browser.Context, e *messages.Error) {
		if e != nil {
			ctx.Send(to, e)
			return
		}
		timeout, root, self := s.opts.PageTimeout, ctx.ActorSystem().Root, ctx.Self()
		go func() {
			cctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			d := &cookiesDone{set: set, url: url, to: to, retried: retried}
			if set != nil {
				d.err = bc.SetCookies(cctx, toBrowserCookies(set.Cookies))
			} else {
				d.cookies, d.err = bc.Cookies(cctx, url)
			}
			root.Send(self, d)
		}()
	})
}

// onCookiesDone answers set_cookies once the new cookies are saved (write-through), and
// get_cookies with what the browser said.
func (s *sessionActor) onCookiesDone(ctx actor.Context, d *cookiesDone) {
	if d.err != nil && !d.retried && lostContext(d.err, s.browser.ctx) {
		s.cookies(ctx, d.set, d.url, d.to, true)
		return
	}
	var res any
	cookies := &messages.CookiesResult{SessionID: s.rec.ID}
	switch {
	case d.err != nil:
		res = browserError(d.err)
	case d.set == nil:
		cookies.Cookies, res = toMessageCookies(d.cookies), cookies
		if s.syncCookies() {
			if err := s.persist(); err != nil {
				s.log.Error().Err(err).Msg("persist cookies")
			}
		}
	default:
		prev := s.rec.Cookies
		s.syncCookies()
		if err := s.persist(); err != nil {
			s.rec.Cookies = prev
			s.log.Error().Err(err).Msg("persist cookies")
			res = messages.Errorf(messages.CodeInternal, "the cookies are set in the browser but could not be saved: %v; set them again", err)
			break
		}
		cookies.Cookies, res = slices.Clone(s.rec.Cookies), cookies
	}
	ctx.Send(d.to, res)
}

// crawlThrowaway serves crawl_url without a session: a throwaway context, in a goroutine
// that answers the caller.
func (o *orchestrator) crawlThrowaway(ctx actor.Context, msg *messages.CrawlURL) {
	if o.opts.Browser == nil {
		ctx.Respond(errNoBrowser)
		return
	}
	drv, timeout, root, to := o.opts.Browser, o.opts.PageTimeout, ctx.ActorSystem().Root, ctx.Sender()
	go func() {
		cctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if content, err := drv.Crawl(cctx, msg.URL, crawlRequest(msg), nil); err != nil {
			root.Send(to, browserError(err))
		} else {
			root.Send(to, &messages.PageContentResult{Content: contentMessage(content)})
		}
	}()
}
