package browser

import (
	"context"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/cdp"
	"github.com/go-rod/rod/lib/proto"
	"github.com/go-rod/rod/lib/utils"
)

// cdpConn is the one CDP connection to a running Chromium, over its pipes. Every session's
// context is a view of it (a rod.Browser copy with its BrowserContextID set), so that nothing
// but troupe can talk to the browser: there is no DevTools port to reach (DESIGN §10).
type cdpConn struct {
	pipe    *pipeTransport
	browser *rod.Browser // bound to life
	life    context.Context
	stop    context.CancelFunc
}

// connect starts the CDP client on the pipes and checks that the browser answers within ctx.
// rod's Browser.Connect subscribes to the connection's events and turns on target discovery
// (browser.go:148), which the popup guard needs (popup.go).
func connect(ctx context.Context, pipe *pipeTransport) (*cdpConn, error) {
	life, stop := context.WithCancel(context.Background())
	client := cdp.New().Logger(utils.LoggerQuiet).Start(pipe)
	b := rod.New().Client(client).Context(life).Logger(utils.LoggerQuiet).
		NoDefaultDevice().Trace(false).SlowMotion(0).Monitor("")
	c := &cdpConn{pipe: pipe, browser: b, life: life, stop: stop}
	go func() { // the connection's lifetime ends with the pipe, whoever ended it
		select {
		case <-pipe.lost:
		case <-life.Done():
		}
		stop()
	}()
	if _, err := await(ctx, func() (struct{}, error) { return struct{}{}, b.Connect() }, nil); err != nil {
		c.close()
		return nil, err
	}
	if _, err := (proto.BrowserGetVersion{}).Call(b.Context(ctx)); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// lost is closed when the connection has ended.
func (c *cdpConn) lost() <-chan struct{} { return c.pipe.lost }

func (c *cdpConn) dead() bool { return c.pipe.dead() }

// close ends the connection (Chromium exits when its pipe closes).
func (c *cdpConn) close() {
	c.pipe.close()
	c.stop()
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
