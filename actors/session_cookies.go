package actors

import (
	"context"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/browser"
)

// cookieStopRead bounds the last read of a session's cookies when the server stops.
const cookieStopRead = 2 * time.Second

// cookiesChanged says the context's cookies changed with no call of the session's: a fetch, a
// script, a response in a tab (DESIGN §14).
type cookiesChanged struct{ bc browser.Context }

// watchCookies forwards the context's CookiesChanged to the session until the context ends,
// so that a cookie set after a page loaded is saved within about a second, not only when the
// next navigation or action happens to read the cookies back.
func (s *sessionActor) watchCookies(ctx actor.Context, bc browser.Context) {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	go func() {
		for {
			select {
			case <-bc.Done():
				return
			case <-bc.CookiesChanged():
				root.Send(self, &cookiesChanged{bc: bc})
			}
		}
	}()
}

// onCookiesChanged saves the context's cookies when they differ from the record.
func (s *sessionActor) onCookiesChanged(msg *cookiesChanged) {
	if msg.bc != s.browser.ctx || s.deleting != nil {
		return // a replaced context, or a delete that snapshots the cookies itself
	}
	if s.syncCookies() {
		if err := s.persist(); err != nil {
			s.log.Error().Err(err).Msg("persist cookies the browser changed")
		}
	}
}

// saveCookiesAtStop reads the context's cookies one last time and saves them when the session
// stops with the server (not when it was deleted), before its context is closed: what changed
// since the last read survives a clean stop. The actor has stopped, so the bounded wait blocks
// no one.
func (s *sessionActor) saveCookiesAtStop() {
	bc := s.browser.ctx
	if !s.browser.saveAtStop || bc == nil || s.deleting != nil {
		return
	}
	if bc.Alive() {
		cctx, cancel := context.WithTimeout(context.Background(), cookieStopRead)
		if _, err := bc.Cookies(cctx, ""); err != nil {
			s.log.Warn().Err(err).Msg("read cookies at stop; saving those last seen")
		}
		cancel()
	}
	if s.syncCookies() {
		if err := s.persist(); err != nil {
			s.log.Error().Err(err).Msg("persist cookies at stop")
		}
	}
}
