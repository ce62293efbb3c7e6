package actors

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/messages"
)

// A session's browser state in Playwright's storageState form (DESIGN §14): export reads the
// cookies and localStorage as last seen; import sets them in the live context, or in the record
// the next context opens with.

// importDone is the end of an import into a live context.
type importDone struct {
	to  *actor.PID
	err error
}

func (s *sessionActor) exportBrowserState(ctx actor.Context) {
	if s.syncCookies() {
		if err := s.persist(); err != nil {
			s.log.Error().Err(err).Msg("persist the browser state read for an export")
		}
	}
	ctx.Respond(s.browserStateResult())
}

func (s *sessionActor) browserStateResult() *messages.BrowserStateResult {
	return &messages.BrowserStateResult{SessionID: s.rec.ID, State: messages.NewBrowserState(s.rec.Cookies, s.rec.LocalStorage)}
}

func (s *sessionActor) importBrowserState(ctx actor.Context, msg *messages.ImportBrowserState) {
	if e := checkBrowserState(msg.Cookies, msg.Storage); e != nil {
		ctx.Respond(e)
		return
	}
	if s.browser.ctx == nil && !s.browser.opening {
		// No context yet: the next one opens with it.
		s.rec.Cookies = mergeCookies(s.rec.Cookies, msg.Cookies)
		storage := browser.Storage(s.rec.LocalStorage).Clone()
		for o, items := range msg.Storage {
			storage[o] = items
		}
		s.rec.LocalStorage = storage
		if err := s.persist(); err != nil {
			ctx.Respond(messages.Errorf(storeCode(err), "could not save the browser state of session %s: %v; nothing was changed", s.rec.ID, err))
			return
		}
		ctx.Respond(s.browserStateResult())
		return
	}
	to := ctx.Sender()
	s.withContext(ctx, func(ctx actor.Context, bc browser.Context, e *messages.Error) {
		if e != nil {
			ctx.Send(to, e)
			return
		}
		root, self, timeout := ctx.ActorSystem().Root, ctx.Self(), s.opts.PageTimeout
		go func() {
			cctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			err := bc.SetCookies(cctx, toBrowserCookies(msg.Cookies))
			if err == nil {
				err = bc.SetLocalStorage(cctx, msg.Storage)
			}
			root.Send(self, &importDone{to: to, err: err})
		}()
	})
}

func (s *sessionActor) onImportDone(ctx actor.Context, d *importDone) {
	if d.err != nil {
		ctx.Send(d.to, browserError(d.err))
		return
	}
	s.syncCookies()
	if err := s.persist(); err != nil {
		ctx.Send(d.to, messages.Errorf(messages.CodeInternal, "the browser state is set but could not be saved: %v", err))
		return
	}
	ctx.Send(d.to, s.browserStateResult())
}

// checkBrowserState refuses cookies and origins the browser would not take, before anything changes.
func checkBrowserState(cookies []messages.Cookie, storage map[string]map[string]string) *messages.Error {
	for i, c := range toBrowserCookies(cookies) {
		if err := browser.ValidateCookie(&c); err != nil {
			return messages.Errorf(messages.CodeInvalidArgument, "cookies[%d] (%s): %v", i, c.Name, err)
		}
	}
	for _, o := range browser.Storage(storage).Origins() {
		if err := browser.CheckOrigin(o); err != nil {
			return messages.Errorf(messages.CodeInvalidArgument, "origins: %v", err)
		}
	}
	return nil
}

// mergeCookies is have with add set over it: a cookie of the same name, domain and path replaced.
func mergeCookies(have, add []messages.Cookie) []messages.Cookie {
	out := make([]messages.Cookie, 0, len(have)+len(add))
	same := func(a, b messages.Cookie) bool { return a.Name == b.Name && a.Domain == b.Domain && a.Path == b.Path }
	for _, h := range have {
		replaced := false
		for _, a := range add {
			if same(h, a) {
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, h)
		}
	}
	return append(out, add...)
}
