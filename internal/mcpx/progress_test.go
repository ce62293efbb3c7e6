package mcpx

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// asyncSender writes each notification from its own goroutine through w, as mcp-go's stdio
// transport does from its notification goroutine (server/stdio.go:403).
type asyncSender struct {
	w     io.Writer
	sends *atomic.Int32
}

func (s asyncSender) SendNotificationToClient(_ context.Context, method string, params map[string]any) error {
	if s.sends != nil {
		s.sends.Add(1)
	}
	b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
	if err != nil {
		return err
	}
	// mcp-go writes "jsonrpc" first, then "method"; encoding/json sorts keys the same way.
	go s.w.Write(append(b, '\n'))
	return nil
}

// heldWriter holds every write that contains hold until released.
type heldWriter struct {
	hold    []byte
	release chan struct{}
	mu      sync.Mutex
	out     bytes.Buffer
}

func (h *heldWriter) Write(p []byte) (int, error) {
	if h.hold != nil && bytes.Contains(p, h.hold) {
		<-h.release
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out.Write(p)
}

func (h *heldWriter) text() string { h.mu.Lock(); defer h.mu.Unlock(); return h.out.String() }

// TestACallWaitsForItsOwnNotificationsOnly: the tracker was global, so one call's answer
// waited for another's notifications (issue 10). Call b's notification is held in the writer;
// call a ends as soon as its own is written.
func TestACallWaitsForItsOwnNotificationsOnly(t *testing.T) {
	p := NewProgress()
	w := &heldWriter{hold: []byte(`"progressToken":"b"`), release: make(chan struct{})}
	send := asyncSender{w: p.Writer("", w)}
	ctx := context.Background()
	a, b := p.Begin(ctx, send, "a"), p.Begin(ctx, send, "b")
	p.Report(b.ID(), 1, 3, "b's step")
	p.Report(a.ID(), 1, 3, "a's step")
	ended := make(chan struct{})
	go func() { a.End(5 * time.Second); close(ended) }()
	select {
	case <-ended:
	case <-time.After(3 * time.Second):
		t.Fatal("call a waited for call b's notification")
	}
	if !bytes.Contains([]byte(w.text()), []byte("a's step")) {
		t.Fatalf("call a ended before its notification was written: %s", w.text())
	}
	close(w.release)
	b.End(5 * time.Second)
	if !bytes.Contains([]byte(w.text()), []byte("b's step")) {
		t.Fatalf("call b ended before its notification was written: %s", w.text())
	}
}

// TestEndFollowsTheLastNotificationByAGap: a call's answer follows its last notification by at
// least MinGap, so that a client reading both in one chunk (the TypeScript SDK) cannot get
// them together; the final step (done == total) is never sent, nor a step after the end.
func TestEndFollowsTheLastNotificationByAGap(t *testing.T) {
	p := NewProgress()
	w := &heldWriter{}
	var sends atomic.Int32
	send := asyncSender{w: p.Writer("", w), sends: &sends}
	c := p.Begin(context.Background(), send, 7)
	p.Report(c.ID(), 1, 2, "first")
	p.Report(c.ID(), 2, 2, "last")
	c.End(5 * time.Second)
	p.mu.Lock()
	last := c.last
	p.mu.Unlock()
	switch {
	case !bytes.Contains([]byte(w.text()), []byte("first")):
		t.Fatalf("written: %s; want the first step before End returns", w.text())
	case bytes.Contains([]byte(w.text()), []byte("last")):
		t.Fatalf("written: %s; the final step must not be sent", w.text())
	case time.Since(last) < MinGap:
		t.Fatalf("End returned %v after the last notification was written, want at least %v", time.Since(last), MinGap)
	}
	p.Report(c.ID(), 1, 2, "after the end")
	if n := sends.Load(); n != 1 {
		t.Fatalf("%d notifications sent, want 1: neither the final step nor a step after the end", n)
	}
	if p.Begin(context.Background(), send, nil) != nil || p.Begin(context.Background(), nil, "x") != nil {
		t.Fatal("Begin without a token or a sender must return nil")
	}
	var none *ProgressCall
	none.End(time.Second) // a call without progress ends at once
	if none.ID() != "" {
		t.Fatal("a call without progress has an id")
	}
}
