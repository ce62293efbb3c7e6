package browser

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-rod/rod/lib/cdp"
)

// errDial marks a failure to reach Chromium's DevTools endpoint at all.
var errDial = errors.New("cannot connect to chromium")

// watchedWS is a CDP websocket that knows when it has died, whoever closed it.
type watchedWS struct {
	ws   *cdp.WebSocket
	once sync.Once
	lost chan struct{}
}

func dialWS(ctx context.Context, wsURL string) (*watchedWS, error) {
	ws := &cdp.WebSocket{}
	if err := ws.Connect(ctx, wsURL, nil); err != nil {
		return nil, fmt.Errorf("%w at %s: %v", errDial, wsURL, err)
	}
	return &watchedWS{ws: ws, lost: make(chan struct{})}, nil
}

// Send implements cdp.WebSocketable.
func (w *watchedWS) Send(b []byte) error {
	err := w.ws.Send(b)
	if err != nil {
		w.drop()
	}
	return err
}

// Read implements cdp.WebSocketable.
func (w *watchedWS) Read() ([]byte, error) {
	b, err := w.ws.Read()
	if err != nil {
		w.drop()
	}
	return b, err
}

func (w *watchedWS) drop() { w.once.Do(func() { close(w.lost) }) }

func (w *watchedWS) close() {
	_ = w.ws.Close()
	w.drop()
}

func (w *watchedWS) dead() bool {
	select {
	case <-w.lost:
		return true
	default:
		return false
	}
}

// await runs fn, a call bound to a long-lived rod object that ignores ctx, and gives up when
// ctx ends first; a result that arrives later is passed to cleanup.
func await[T any](ctx context.Context, fn func() (T, error), cleanup func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.err == nil && cleanup != nil {
				cleanup(r.v)
			}
		}()
		var zero T
		return zero, ctx.Err()
	}
}

// budget is how long ctx had left at start, for messages ("within 30s").
func budget(ctx context.Context, start time.Time) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return dl.Sub(start).Round(100 * time.Millisecond)
	}
	return time.Since(start).Round(100 * time.Millisecond)
}
