package actors

import (
	"encoding/json"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

func (s *sessionActor) openPage(ctx actor.Context, msg *messages.OpenPage) {
	reply := func(err *messages.Error) { ctx.Respond(&messages.PageResult{Err: err}) }
	if s.opts.Browser == nil {
		reply(errNoBrowser)
		return
	}
	name := msg.Name
	if name == "" {
		name = s.nextChildName("page")
	}
	if err := s.refuseNewChild(name); err != nil {
		reply(err)
		return
	}
	spec := pageChildSpec{URL: msg.URL}
	raw, _ := json.Marshal(spec)
	c := &child{spec: store.ChildSpec{ID: s.rec.ID + "/" + name, Kind: "page", Name: name, CreatedAt: s.opts.Clock.Now(), Spec: raw}}
	if err := s.startPageChild(ctx, c, spec); err != nil {
		reply(messages.Errorf(messages.CodeInternal, "start page %s: %v", c.spec.ID, err))
		return
	}
	s.pendingCreate[c.spec.ID] = ctx.Sender()
}

// startPageChild spawns the page actor of c; it opens its tab and answers pageStarted.
func (s *sessionActor) startPageChild(ctx actor.Context, c *child, spec pageChildSpec) error {
	cfg := pageConfig{opts: s.opts, sessionID: s.rec.ID, name: c.spec.Name, createdAt: c.spec.CreatedAt, spec: spec}
	pid, err := s.spawnChild(ctx, actor.PropsFromProducer(func() actor.Actor { return newPageActor(cfg) }), c.spec.Name)
	if err != nil {
		return err
	}
	c.pid = pid
	c.page = &messages.PageInfo{PageID: c.spec.ID, SessionID: s.rec.ID, Name: c.spec.Name, URL: spec.URL, Title: spec.Title,
		Status: messages.PageOpening, CreatedAt: c.spec.CreatedAt}
	s.children = append(s.children, c)
	return nil
}

// onPageStarted completes open_page (saving the child before answering) or a recovery.
func (s *sessionActor) onPageStarted(ctx actor.Context, msg *pageStarted) {
	c := s.childByName(msg.name)
	if c == nil || c.spec.Kind != "page" {
		return
	}
	sender, creating := s.pendingCreate[c.spec.ID]
	delete(s.pendingCreate, c.spec.ID)
	info := msg.info
	c.page = &info
	if msg.err != nil {
		if creating {
			s.removeChild(c)
			ctx.Stop(c.pid)
			ctx.Send(sender, &messages.PageResult{Err: msg.err})
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
			ctx.Send(sender, &messages.PageResult{Err: messages.Errorf(messages.CodeInternal, "could not save page %s: %v; it was not opened", c.spec.ID, err)})
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
	if c := s.childByName(msg.name); c != nil && c.spec.Kind == "page" {
		info := msg.info
		c.page = &info
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

// syncCookies takes the context's cookies as last seen into the record; it reports whether
// they changed (then the caller saves the record).
func (s *sessionActor) syncCookies() bool {
	if s.browser.ctx == nil {
		return false
	}
	cur := toMessageCookies(s.browser.ctx.LastCookies())
	if slices.Equal(cur, s.rec.Cookies) {
		return false
	}
	s.rec.Cookies = cur
	return true
}

// routeToPage forwards a call for "<session>/<name>" to the page.
func (s *sessionActor) routeToPage(ctx actor.Context, pageID string, msg any) {
	_, name, _ := splitChildID(pageID)
	if c := s.childByName(name); c == nil || c.spec.Kind != "page" {
		ctx.Respond(errorReply(msg, messages.Errorf(messages.CodeNotFound, "session %q has no page %q; get_session lists its children", s.rec.ID, name)))
		return
	}
	s.routeToChild(ctx, pageID, msg)
}

func (s *sessionActor) closePage(ctx actor.Context, msg *messages.ClosePage) {
	_, name, _ := splitChildID(msg.PageID)
	c := s.childByName(name)
	sender := ctx.Sender()
	reply := func(r *messages.ClosePageResult) { ctx.Send(sender, r) }
	switch {
	case c == nil || c.spec.Kind != "page":
		reply(&messages.ClosePageResult{PageID: msg.PageID, Err: messages.Errorf(messages.CodeNotFound, "session %q has no page %q; get_session lists its children", s.rec.ID, name)})
		return
	case c.stopping:
		reply(&messages.ClosePageResult{PageID: msg.PageID, Err: messages.Errorf(messages.CodeDeleting, "page %s is already being closed", msg.PageID)})
		return
	}
	s.touch()
	// A page closes whatever it is doing (close_page has no force): its running operation is cancelled.
	s.stopChild(ctx, c, s.opts.PageCloseTimeout, true, func(ctx actor.Context, err error, _ *process.ExitStatus) {
		if err != nil {
			reply(&messages.ClosePageResult{PageID: msg.PageID, Err: messages.Errorf(messages.CodeUnavailable, "page %s did not close: %v; try again", msg.PageID, err)})
			return
		}
		if perr := s.persist(); perr != nil {
			s.log.Error().Err(perr).Msg("persist after close_page")
		}
		s.reportChildren(ctx)
		reply(&messages.ClosePageResult{PageID: msg.PageID, Closed: true})
	})
}
