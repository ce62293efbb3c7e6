package daemon

import (
	"fmt"
	"time"
)

// idleWatch says when the daemon was idle (no client connected, no running child) for IdleExit
// without a break. It re-checks every second, or every quarter of IdleExit when that is shorter.
type idleWatch struct {
	expired chan string
	done    chan struct{}
}

func (d *server) idleTicker() idleWatch {
	w := idleWatch{expired: make(chan string, 1), done: make(chan struct{})}
	limit := d.o.IdleExit
	if limit <= 0 {
		return w
	}
	every := min(time.Second, limit/4)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		var since time.Time
		for {
			select {
			case <-w.done:
				return
			case now := <-t.C:
				_, running := d.stats()
				if d.clients.count() > 0 || running > 0 {
					since = time.Time{}
					continue
				}
				if since.IsZero() {
					since = now
				}
				if now.Sub(since) >= limit {
					w.expired <- fmt.Sprintf("idle for %s (daemon_idle_exit): no client connected and no running child", limit)
					return
				}
			}
		}
	}()
	return w
}

func (w idleWatch) stop() { close(w.done) }
