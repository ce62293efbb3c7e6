package actors

import (
	"context"
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/messages"
)

// The page's side of the shared stop protocol (close_page, a delete's cascade).
//
// A stop never waits on the browser without a bound: the running call is cancelled, and a
// call that has not ended stopBound later is abandoned (its caller answered); the tab's close
// has a deadline, and a close that has not reported stopBound later is left behind too. The
// tab is then the context's to dispose (the session closes its context when it stops). So a
// forced delete ends within the grace plus twice the bound whatever the browser does (issue 11
// item 6: a page whose call hung kept its session "deleting" until a restart).

// stopSlack is how much longer than its own deadline a close may take to report before the
// stop goes on without it.
const stopSlack = time.Second

// stopOverdue tells the page a phase of its stop took longer than the bound.
type stopOverdue struct{ phase int }

// stopBound is how long a phase of a stop (the running call ending, the tab closing) may take.
func (a *pageActor) stopBound() time.Duration { return a.cfg.opts.PageCloseTimeout + stopSlack }

// armStop schedules a stopOverdue for the current phase of the stop.
func (a *pageActor) armStop() {
	a.disarmStop()
	a.stopPhase++
	root, self, phase := a.root, a.self, a.stopPhase
	a.stopTimer = time.AfterFunc(a.stopBound(), func() { root.Send(self, &stopOverdue{phase: phase}) })
}

func (a *pageActor) disarmStop() {
	if a.stopTimer != nil {
		a.stopTimer.Stop()
		a.stopTimer = nil
	}
}

// beginStop closes the tab for close_page or a delete (the shared stop protocol): waiting
// calls are refused, the running one is cancelled, then the tab is closed with a deadline.
func (a *pageActor) beginStop(ctx actor.Context) {
	if a.stopping != nil {
		ctx.Respond(&childStopped{id: a.id, err: errors.New("a close is already in progress")})
		return
	}
	a.stopping = ctx.Sender()
	a.status = messages.PageStopping
	for _, op := range a.queue {
		a.reply(ctx, op, nil, messages.Errorf(messages.CodeDeleting, "page %s was closed before this call ran", a.id))
	}
	a.queue = nil
	switch {
	case a.running != nil && a.waiting:
		a.waiting = false
		a.finish(ctx, a.running, nil, messages.Errorf(messages.CodeDeleting, "page %s was closed before this call ran", a.id))
	case a.running != nil:
		a.cancel() // finish closes the tab once the call has returned
		a.armStop()
	default:
		a.close(ctx)
	}
}

// onStopOverdue goes on with a stop whose phase did not end within the bound.
func (a *pageActor) onStopOverdue(ctx actor.Context, msg *stopOverdue) {
	if a.stopping == nil || msg.phase != a.stopPhase {
		return // that phase ended in time
	}
	switch {
	case a.running != nil:
		a.log.Warn().Dur("bound", a.stopBound()).Msg("page: the running call did not end after it was cancelled; abandoning it")
		a.abandoned = a.running
		a.finish(ctx, a.running, nil, messages.Errorf(messages.CodeDeleting,
			"page %s was closed while this call ran; the browser did not answer within %s", a.id, a.stopBound()))
	case a.closeRunning:
		a.log.Warn().Dur("bound", a.stopBound()).Msg("page: the tab did not close in time; left to the browser context's disposal")
		a.closeRunning = false
		a.finishStop(ctx, nil)
	}
}

// close closes the tab in a goroutine; pageClosed finishes the stop.
func (a *pageActor) close(ctx actor.Context) {
	page := a.page
	a.page, a.closing = nil, page
	if page == nil {
		a.finishStop(ctx, nil)
		return
	}
	a.closeRunning = true
	a.armStop()
	root, self, timeout := a.root, a.self, a.cfg.opts.PageCloseTimeout
	go func() {
		cctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		root.Send(self, &pageClosed{err: page.Close(cctx)})
	}()
}

func (a *pageActor) onPageClosed(ctx actor.Context, msg *pageClosed) {
	if !a.closeRunning {
		return // the stop went on without it (onStopOverdue)
	}
	a.closeRunning = false
	a.finishStop(ctx, msg.err)
}

func (a *pageActor) finishStop(ctx actor.Context, err error) {
	a.disarmStop()
	if err != nil {
		// The tab is still there: the page stays, and works as before.
		a.page, a.status = a.closing, messages.PageOpen
	}
	a.closing = nil
	to := a.stopping
	a.stopping, a.closed = nil, err == nil
	ctx.Send(to, &childStopped{id: a.id, err: err})
	if err != nil {
		a.notify(ctx, false, nil, nil)
		a.next(ctx)
	}
}

// dropLate closes the tab a call abandoned by a stop opened after all, in the background.
func (a *pageActor) dropLate(d *pageOpDone) {
	if d.page == nil || d.page == a.page || d.page == a.closing {
		return
	}
	closeInBackground(d.page)
}

// shutdown releases the tab when the actor stops for any reason (a server shutdown keeps the
// page in the store: it re-opens at the next start). It does not wait: the actor's stop, and
// its session's, never hang on the browser.
func (a *pageActor) shutdown() {
	a.disarmStop()
	if a.cancel != nil {
		a.cancel()
	}
	for _, p := range []browser.Page{a.page, a.closing} {
		if p != nil {
			closeInBackground(p)
		}
	}
	a.page, a.closing = nil, nil
}

// closeInBackground closes a tab under a short deadline, waited for by nobody.
func closeInBackground(p browser.Page) {
	go func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = p.Close(cctx)
	}()
}
