package tools

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// NotifyTracker makes a call's result follow its progress notifications. mcp-go queues
// notifications and writes them from another goroutine, so over stdio a result could overtake
// them (DESIGN §10). The tracker counts the notifications sent and, through the writer it wraps
// around stdout, those written; a handler that sent some waits for them before it returns.
type NotifyTracker struct {
	mu      sync.Mutex
	cond    *sync.Cond
	sent    uint64
	written uint64
}

// NewNotifyTracker returns an empty tracker.
func NewNotifyTracker() *NotifyTracker {
	t := &NotifyTracker{}
	t.cond = sync.NewCond(&t.mu)
	return t
}

var progressPrefix = []byte(`{"jsonrpc":"2.0","method":"notifications/progress"`)

// Writer wraps the transport's output; mcp-go writes each message with one Write.
func (t *NotifyTracker) Writer(w io.Writer) io.Writer { return trackingWriter{t: t, w: w} }

type trackingWriter struct {
	t *NotifyTracker
	w io.Writer
}

func (tw trackingWriter) Write(p []byte) (int, error) {
	n, err := tw.w.Write(p)
	if bytes.HasPrefix(p, progressPrefix) {
		tw.t.mu.Lock()
		tw.t.written++
		tw.t.cond.Broadcast()
		tw.t.mu.Unlock()
	}
	return n, err
}

func (t *NotifyTracker) noteSent() {
	t.mu.Lock()
	t.sent++
	t.mu.Unlock()
}

// drain waits until every notification sent so far is written, at most timeout.
func (t *NotifyTracker) drain(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	stop := time.AfterFunc(timeout, func() {
		t.mu.Lock()
		t.cond.Broadcast()
		t.mu.Unlock()
	})
	defer stop.Stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.written < t.sent && time.Now().Before(deadline) {
		t.cond.Wait()
	}
}

// progressReporter returns a function that sends MCP progress notifications for the call, or
// nil when the client sent no progress token; and a function to call before returning, which
// waits for the notifications to be written.
func (d Deps) progressReporter(ctx context.Context, req mcp.CallToolRequest) (report func(done, total int, message string), flush func()) {
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return nil, func() {}
	}
	srv := server.ServerFromContext(ctx)
	if srv == nil {
		return nil, func() {}
	}
	token := req.Params.Meta.ProgressToken
	// report runs on the actor's goroutine, flush on the handler's; once the handler has
	// returned (answered, or given up waiting), later steps are not reported.
	var mu sync.Mutex
	sent, finished := 0, false
	report = func(done, total int, message string) {
		mu.Lock()
		defer mu.Unlock()
		if finished {
			return
		}
		err := srv.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
			"progressToken": token, "progress": done, "total": total, "message": message,
		})
		if err == nil && d.Notifications != nil {
			d.Notifications.noteSent()
			sent++
		}
	}
	flush = func() {
		mu.Lock()
		finished = true
		n := sent
		mu.Unlock()
		if n > 0 && d.Notifications != nil {
			d.Notifications.drain(5 * time.Second)
		}
	}
	return report, flush
}
