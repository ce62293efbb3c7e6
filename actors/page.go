package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/messages"
)

// pageConfig is what a session gives a new page actor.
type pageConfig struct {
	opts      *Options
	sessionID string
	name      string
	createdAt time.Time
	// spec is where the page opens: the URL asked for, or the last URL of a recovered or
	// restored page.
	spec pageChildSpec
}

// pageChildSpec is what the store keeps of a page: where it was, to re-open it there.
type pageChildSpec struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
}

// pageQueueLimit bounds the calls waiting for a page.
const pageQueueLimit = 16

// pageActor is one tab in its session's browser context (DESIGN §2). It serializes the calls
// on the tab: one runs at a time, in a goroutine that reports back, so that the mailbox stays
// free for a close; the others wait in order. It never owns the browser context: it asks its
// session for one, and after a browser crash it gets a new one and re-opens the tab at its
// last URL.
type pageActor struct {
	cfg  pageConfig
	id   string
	log  zerolog.Logger
	self *actor.PID
	root *actor.RootContext

	bctx   browser.Context // the session's context the tab lives in
	page   browser.Page    // nil until opened, and after the tab was lost
	url    string
	title  string
	status string
	err    string // why the tab is not open, when it is not

	queue   []*pageOp
	running *pageOp // the call in progress; it waits for a context when waiting is set
	waiting bool
	cancel  context.CancelFunc
	started bool // the first open has been reported to the session

	stopping     *actor.PID // who asked for the stop, answered once the tab is closed
	closing      browser.Page
	closeRunning bool        // the tab's close is under way (pageClosed has not come back)
	stopPhase    int         // counts the phases of stops, so that a late stopOverdue is ignored
	stopTimer    *time.Timer // the bound of the current phase
	abandoned    *pageOp     // a call the stop gave up waiting for
	closed       bool        // the stop is done: the session stops the actor next
}

// pageOp is one call on the page.
type pageOp struct {
	// run does the work on the open tab; nil only opens (or re-opens) it.
	run func(ctx context.Context, p browser.Page) (any, error)
	// answer builds the caller's reply from run's result, or from the error.
	answer func(res any, err *messages.Error) any
	sender *actor.PID
	// fresh: the call needs the tab at its last URL (content, action, screenshot); a
	// navigation does not, so a lost tab is re-opened blank for it.
	fresh   bool
	retried bool
}

// Internal messages of the page actor.
type (
	// pageOpDone reports the end of a call's goroutine.
	pageOpDone struct {
		op         *pageOp
		page       browser.Page    // the tab the call ran on (a new one when it was re-opened)
		bctx       browser.Context // the context that tab belongs to
		res        any
		err        error
		url, title string
	}
	// needContext asks the session for a live browser context; it answers contextReady.
	needContext struct{ name string }
	// contextReady gives a page the session's context (or why there is none). The session
	// also sends it unasked when it replaced a lost context, so that its pages re-open.
	contextReady struct {
		bctx browser.Context
		err  *messages.Error
	}
	// pageClosed reports the end of a close.
	pageClosed struct{ err error }
	// pageStarted tells the session how the first open went.
	pageStarted struct {
		name string
		info messages.PageInfo
		err  *messages.Error
	}
	// pageChanged tells the session a page's state (busy, URL, title); when reply is set the
	// session persists what changed and then sends reply to `to` (write-through before the
	// answer).
	pageChanged struct {
		name    string
		info    messages.PageInfo
		cookies bool // the page loaded or acted: the context's cookies may have changed
		to      *actor.PID
		reply   any
	}
)

func newPageActor(cfg pageConfig) *pageActor {
	id := cfg.sessionID + "/" + cfg.name
	return &pageActor{cfg: cfg, id: id, url: cfg.spec.URL, title: cfg.spec.Title, status: messages.PageOpening,
		log: cfg.opts.Logger.With().Str("page", id).Logger()}
}

// Receive implements actor.Actor.
func (a *pageActor) Receive(ctx actor.Context) {
	defer a.recoverPanic(ctx)
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.self, a.root = ctx.Self(), ctx.ActorSystem().Root
		a.enqueue(ctx, &pageOp{fresh: true})
	case *messages.NavigatePage:
		a.enqueue(ctx, a.navigateOp(ctx, msg))
	case *messages.PageContent:
		a.enqueue(ctx, a.contentOp(ctx, msg))
	case *messages.PageAction:
		a.enqueue(ctx, a.actionOp(ctx, msg))
	case *messages.ScreenshotPage:
		a.enqueue(ctx, a.screenshotOp(ctx, msg))
	case *pageOpDone:
		a.onOpDone(ctx, msg)
	case *contextReady:
		a.onContextReady(ctx, msg)
	case *stopChild:
		a.beginStop(ctx)
	case *pageClosed:
		a.onPageClosed(ctx, msg)
	case *stopOverdue:
		a.onStopOverdue(ctx, msg)
	case *actor.Stopping:
		a.shutdown()
	case *actor.Stopped, *actor.Restarting:
	default:
		a.log.Warn().Str("type", fmt.Sprintf("%T", msg)).Msg("page: unknown message")
		respondUnknown(ctx, "page "+a.id)
	}
}

func (a *pageActor) recoverPanic(ctx actor.Context) {
	if r := recover(); r != nil {
		a.log.Error().Interface("panic", r).Str("type", fmt.Sprintf("%T", ctx.Message())).Msg("page: handler panicked")
		err := messages.Errorf(messages.CodeInternal, "internal error in page %s: %v", a.id, r)
		switch {
		case ctx.Sender() == nil:
		case isStop(ctx.Message()):
			ctx.Respond(&childStopped{id: a.id, err: err})
		default:
			ctx.Respond(err)
		}
	}
}

// enqueue adds a call and starts it when none is running.
func (a *pageActor) enqueue(ctx actor.Context, op *pageOp) {
	if a.stopping != nil || a.closed {
		a.reply(ctx, op, nil, messages.Errorf(messages.CodeDeleting, "page %s is being closed", a.id))
		return
	}
	if len(a.queue) >= pageQueueLimit {
		a.reply(ctx, op, nil, messages.Errorf(messages.CodeBusy, "page %s already has %d calls waiting; wait for them to finish and try again", a.id, len(a.queue)))
		return
	}
	a.queue = append(a.queue, op)
	a.next(ctx)
}

// next starts the first waiting call when none runs.
func (a *pageActor) next(ctx actor.Context) {
	if a.running != nil || len(a.queue) == 0 || a.stopping != nil {
		return
	}
	a.running = a.queue[0]
	a.queue = a.queue[1:]
	a.notify(ctx, false, nil, nil)
	a.launch(ctx)
}

// launch runs the current call, asking the session for a context first when the tab's is
// missing or lost.
func (a *pageActor) launch(ctx actor.Context) {
	if a.bctx == nil || !a.bctx.Alive() {
		a.dropTab()
		a.waiting = true
		ctx.Send(ctx.Parent(), &needContext{name: a.cfg.name})
		return
	}
	a.waiting = false
	op, bctx, page, target := a.running, a.bctx, a.page, a.url
	if !op.fresh || target == "" {
		target = ""
	}
	octx, cancel := context.WithTimeout(context.Background(), a.cfg.opts.PageTimeout)
	a.cancel = cancel
	root, self := a.root, a.self
	go func() {
		defer cancel()
		d := &pageOpDone{op: op, page: page, bctx: bctx}
		if d.page == nil {
			d.page, d.err = bctx.OpenPage(octx, target)
		}
		if d.err == nil && op.run != nil {
			d.res, d.err = op.run(octx, d.page)
		}
		if d.page != nil {
			d.url, d.title = d.page.Info()
		}
		root.Send(self, d)
	}()
}

// dropTab forgets a tab whose context is gone (closing it costs nothing then).
func (a *pageActor) dropTab() {
	if a.page != nil {
		_ = a.page.Close(context.Background())
		a.page = nil
	}
}

func (a *pageActor) onContextReady(ctx actor.Context, msg *contextReady) {
	if a.closed {
		return
	}
	if !a.waiting {
		// Unasked: the session replaced a lost context. Re-open the tab at once, unless a call
		// is about to do it anyway.
		if msg.err == nil && msg.bctx != a.bctx && a.bctx != nil && a.stopping == nil {
			a.dropTab()
			a.bctx = msg.bctx
			if a.running == nil && len(a.queue) == 0 {
				a.enqueue(ctx, &pageOp{fresh: true})
			}
		}
		return
	}
	if msg.err != nil {
		a.waiting = false
		a.status, a.err = messages.PageLost, msg.err.Message
		a.finish(ctx, a.running, nil, msg.err)
		return
	}
	if msg.bctx != a.bctx {
		a.dropTab()
		a.bctx = msg.bctx
	}
	a.launch(ctx)
}

func (a *pageActor) onOpDone(ctx actor.Context, d *pageOpDone) {
	if d.op != a.running {
		if d.op == a.abandoned {
			a.abandoned = nil
			a.dropLate(d)
		}
		return
	}
	a.disarmStop() // the call ended within the stop's bound
	a.cancel = nil
	stale := d.page != nil && d.bctx != a.bctx
	if stale {
		// The session replaced the context while the call ran (contextReady): the tab belongs
		// to the lost one and is dead. Keeping it would run every later call on it and fail
		// "already closed" while the page shows open; only its last URL is kept.
		a.log.Debug().Msg("page: dropping a tab of a replaced browser context")
		_ = d.page.Close(context.Background()) // its context is gone: this costs nothing
		d.page = nil
		a.url, a.title = d.url, d.title
	}
	if d.page != nil {
		a.page, a.url, a.title = d.page, d.url, d.title
	}
	if d.err != nil && a.stopping == nil && !d.op.retried && a.bctx != nil &&
		(stale || errors.Is(d.err, browser.ErrContextLost) || !a.bctx.Alive()) {
		// The browser went away under the call: once more on a new context, the tab re-opened.
		a.log.Warn().Err(d.err).Msg("page: browser context lost; re-opening the page")
		d.op.retried = true
		a.launch(ctx)
		return
	}
	var e *messages.Error
	switch {
	case d.err == nil:
		a.status, a.err = messages.PageOpen, ""
	case a.stopping != nil:
		e = messages.Errorf(messages.CodeDeleting, "page %s was closed while this call ran", a.id)
	default:
		e = browserError(d.err)
		if a.page == nil || (a.bctx != nil && !a.bctx.Alive()) {
			a.status, a.err = messages.PageLost, e.Message
		} else {
			a.status, a.err = messages.PageOpen, "" // the call failed; the tab is fine
		}
	}
	a.finish(ctx, d.op, d.res, e)
	if stale && a.page == nil && a.running == nil && len(a.queue) == 0 && a.stopping == nil && !a.closed {
		// As onContextReady does for an idle page: re-open the tab in the new context now.
		a.enqueue(ctx, &pageOp{fresh: true})
	}
}

// finish answers the current call, tells the session, and starts the next call (or the
// close that waited for this one).
func (a *pageActor) finish(ctx actor.Context, op *pageOp, res any, e *messages.Error) {
	a.running = nil
	if !a.started {
		a.started = true
		ctx.Send(ctx.Parent(), &pageStarted{name: a.cfg.name, info: a.info(), err: e})
	}
	if op.answer != nil && op.sender != nil {
		reply := op.answer(res, e)
		if e == nil {
			a.notify(ctx, true, op.sender, reply)
		} else {
			a.notify(ctx, true, nil, nil)
			ctx.Send(op.sender, reply)
		}
	} else {
		a.notify(ctx, true, nil, nil)
	}
	if a.stopping != nil {
		a.close(ctx)
		return
	}
	a.next(ctx)
}

// reply answers a call that never ran.
func (a *pageActor) reply(ctx actor.Context, op *pageOp, res any, e *messages.Error) {
	if op.answer != nil && op.sender != nil {
		ctx.Send(op.sender, op.answer(res, e))
	}
}

// notify tells the session the page's state; a successful call's reply goes through the
// session, which saves the new URL, title and cookies before passing it on.
func (a *pageActor) notify(ctx actor.Context, loaded bool, to *actor.PID, reply any) {
	ctx.Send(ctx.Parent(), &pageChanged{name: a.cfg.name, info: a.info(), cookies: loaded, to: to, reply: reply})
}

func (a *pageActor) info() messages.PageInfo {
	return messages.PageInfo{PageID: a.id, SessionID: a.cfg.sessionID, Name: a.cfg.name, URL: a.url, Title: a.title,
		Status: a.status, Busy: a.running != nil, Error: a.err, CreatedAt: a.cfg.createdAt}
}
