package browser

import (
	"context"
	"sync"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// navWatch notices a navigation of the page's main frame that an action starts, so that the
// action can wait for the new document. It listens to the Page domain's events, which rod
// enables on every page it attaches.
type navWatch struct {
	frame   proto.PageFrameID
	cancel  context.CancelFunc
	done    chan struct{}
	changed chan struct{}
	started chan struct{} // closed at the first sign of a navigation

	mu        sync.Mutex
	requested bool // a navigation in this tab was asked for (form, link, script)
	loading   bool // the frame started loading
	stopped   bool // …and stopped since

	startedClosed bool
}

func watchNavigation(ctx context.Context, p *rod.Page) *navWatch {
	wctx, cancel := context.WithCancel(ctx)
	w := &navWatch{
		frame:   proto.PageFrameID(p.TargetID),
		cancel:  cancel,
		done:    make(chan struct{}),
		changed: make(chan struct{}, 1),
		started: make(chan struct{}),
	}
	events := p.Context(wctx).Event()
	go func() {
		defer close(w.done)
		for msg := range events {
			w.handle(msg)
		}
	}()
	return w
}

func (w *navWatch) handle(msg *rod.Message) {
	var (
		req     proto.PageFrameRequestedNavigation
		started proto.PageFrameStartedLoading
		stopped proto.PageFrameStoppedLoading
	)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case msg.Load(&req):
		if req.FrameID == w.frame && req.Disposition == proto.PageClientNavigationDispositionCurrentTab {
			w.requested = true
		}
	case msg.Load(&started):
		if started.FrameID == w.frame {
			w.loading, w.stopped = true, false
		}
	case msg.Load(&stopped):
		if stopped.FrameID == w.frame && w.loading {
			w.stopped = true
		}
	default:
		return
	}
	if (w.requested || w.loading) && !w.startedClosed {
		w.startedClosed = true
		close(w.started)
	}
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// wait reports whether a navigation started and, if so, waits until it has finished loading
// (or ctx ends). Call it after a round trip to the page, so that what the action set off has
// been reported.
func (w *navWatch) wait(ctx context.Context) (bool, error) {
	for {
		w.mu.Lock()
		started, finished := w.requested || w.loading, w.loading && w.stopped
		w.mu.Unlock()
		if !started || finished {
			return started, nil
		}
		select {
		case <-w.changed:
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
}

func (w *navWatch) stop() {
	w.cancel()
	<-w.done
}
