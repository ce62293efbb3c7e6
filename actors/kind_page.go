package actors

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/messages"
)

// The page kind: the session's side of its pages (the actor is in page.go).

func init() { registerKind(messages.KindPage, pageKind{}) }

type pageKind struct{}

func (pageKind) tools() string {
	return "navigate_page, page_content, page_action, screenshot_page or close_page"
}

func (pageKind) receive(s *sessionActor, ctx actor.Context, msg any) bool {
	switch msg := msg.(type) {
	case *messages.OpenPage:
		s.touch()
		s.openPage(ctx, msg)
	case *messages.ClosePage:
		s.closePage(ctx, msg)
	case *pageStarted:
		s.onPageStarted(ctx, msg)
	case *pageChanged:
		s.onPageChanged(ctx, msg)
	default:
		return false
	}
	return true
}

// start spawns the page actor of c; it opens its tab and answers pageStarted.
func (pageKind) start(s *sessionActor, ctx actor.Context, c *child, _ startMode) error {
	var spec pageChildSpec
	if err := json.Unmarshal(c.spec.Spec, &spec); err != nil {
		return fmt.Errorf("page %s: unreadable spec: %w", c.spec.ID, err)
	}
	cfg := pageConfig{opts: s.opts, sessionID: s.rec.ID, name: c.spec.Name, createdAt: c.spec.CreatedAt, spec: spec}
	pid, err := s.spawnChild(ctx, actor.PropsFromProducer(func() actor.Actor { return newPageActor(cfg) }), c.spec.Name)
	if err != nil {
		return err
	}
	c.pid = pid
	c.state = messages.ChildInfo{Status: messages.PageOpening, URL: spec.URL, Title: spec.Title}
	s.children = append(s.children, c)
	return nil
}

// contextReplaced tells a page that the session replaced its lost browser context, so that
// the page re-opens its tab in the new one.
func (pageKind) contextReplaced(ctx actor.Context, c *child, bc browser.Context) {
	ctx.Send(c.pid, &contextReady{bctx: bc})
}

// pageState is how a page shows among its session's children.
func pageState(p messages.PageInfo) messages.ChildInfo {
	return messages.ChildInfo{Status: p.Status, Busy: p.Busy, URL: p.URL, Title: p.Title, Error: p.Error}
}

func (s *sessionActor) openPage(ctx actor.Context, msg *messages.OpenPage) {
	if s.opts.Browser == nil {
		ctx.Respond(errNoBrowser)
		return
	}
	raw, _ := json.Marshal(pageChildSpec{URL: msg.URL})
	c, err := s.newChild(messages.KindPage, msg.Name, raw)
	if err != nil {
		ctx.Respond(err)
		return
	}
	if err := (pageKind{}).start(s, ctx, c, startFresh); err != nil {
		ctx.Respond(messages.Errorf(messages.CodeInternal, "start page %s: %v", c.spec.ID, err))
		return
	}
	s.pendingCreate[c.spec.ID] = ctx.Sender()
}

// onPageStarted completes open_page (saving the child before answering) or a recovery.
func (s *sessionActor) onPageStarted(ctx actor.Context, msg *pageStarted) {
	c := s.childByName(msg.name)
	if c == nil {
		return
	}
	sender, creating := s.pendingCreate[c.spec.ID]
	delete(s.pendingCreate, c.spec.ID)
	info := msg.info
	c.state = pageState(info)
	if msg.err != nil {
		if creating {
			s.removeChild(c)
			ctx.Stop(c.pid)
			ctx.Send(sender, msg.err)
			return
		}
		s.log.Warn().Str("page", c.spec.ID).Str("error", msg.err.Message).Msg("re-open page; it re-opens at its next call")
		return
	}
	c.setPageSpec(info.URL, info.Title)
	s.syncCookies()
	if err := s.persist(); err != nil {
		s.log.Error().Err(err).Str("page", c.spec.ID).Msg("persist page")
		if creating {
			s.removeChild(c)
			ctx.Stop(c.pid)
			ctx.Send(sender, messages.Errorf(storeCode(err), "could not save page %s: %v; it was not opened", c.spec.ID, err))
		}
		return
	}
	if creating {
		s.reportChildren(ctx)
		ctx.Send(sender, &messages.PageResult{Page: &info})
	}
}

// onPageChanged keeps a page's state, saves its new URL, title and the context's cookies, and
// then passes on the page's reply when it sent one.
func (s *sessionActor) onPageChanged(ctx actor.Context, msg *pageChanged) {
	if c := s.childByName(msg.name); c != nil {
		info := msg.info
		c.state = pageState(info)
		changed := c.setPageSpec(info.URL, info.Title)
		if msg.cookies && s.syncCookies() {
			changed = true
		}
		if changed {
			if err := s.persist(); err != nil {
				s.log.Error().Err(err).Str("page", c.spec.ID).Msg("persist page state")
			}
		}
	}
	if msg.to != nil {
		ctx.Send(msg.to, msg.reply)
	}
}

// setPageSpec stores where the page is; it reports whether that changed.
func (c *child) setPageSpec(url, title string) bool {
	var spec pageChildSpec
	_ = json.Unmarshal(c.spec.Spec, &spec)
	if spec.URL == url && spec.Title == title {
		return false
	}
	spec.URL, spec.Title = url, title
	c.spec.Spec, _ = json.Marshal(spec)
	return true
}

// syncCookies takes the context's cookies and localStorage as last seen into the record; it
// reports whether they changed (then the caller saves the record).
func (s *sessionActor) syncCookies() bool {
	if s.browser.ctx == nil {
		return false
	}
	changed := false
	if cur := toMessageCookies(s.browser.ctx.LastCookies()); !slices.Equal(cur, s.rec.Cookies) {
		s.rec.Cookies, changed = cur, true
	}
	if cur := s.browser.ctx.LastLocalStorage(); !maps.EqualFunc(cur, browser.Storage(s.rec.LocalStorage), maps.Equal) {
		if size := cur.Size(); size > browser.MaxStateBytes {
			// Kept as it was last within the bound: a page filling localStorage must not make every
			// save of the session (and each snapshot) megabytes larger without end.
			if !s.storageTooBig {
				s.storageTooBig = true
				s.log.Warn().Int("bytes", size).Int("limit", browser.MaxStateBytes).Msg("the pages' localStorage is past the limit; the last state within it stays saved")
			}
		} else {
			s.rec.LocalStorage, changed, s.storageTooBig = cur, true, false
		}
	}
	return changed
}

func (s *sessionActor) closePage(ctx actor.Context, msg *messages.ClosePage) {
	sender := ctx.Sender()
	c, e := s.targetChild(msg)
	if e != nil {
		ctx.Respond(e)
		return
	}
	s.touch()
	// A page closes whatever it is doing (close_page has no force): its running operation is cancelled.
	s.stopChild(ctx, c, s.opts.PageCloseTimeout, true, func(ctx actor.Context, err error, _ *process.ExitStatus) {
		if err != nil {
			ctx.Send(sender, messages.Errorf(messages.CodeUnavailable, "page %s did not close: %v; try again", msg.PageID, err))
			return
		}
		s.syncCookies() // read back as the tab closed (DESIGN §14)
		if perr := s.persist(); perr != nil {
			s.log.Error().Err(perr).Msg("persist after close_page")
		}
		s.reportChildren(ctx)
		ctx.Send(sender, &messages.ClosePageResult{PageID: msg.PageID, Closed: true})
	})
}
