package mcpx

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// namedSession is a transport session with an id, as an HTTP client's would be.
type namedSession struct{ id string }

func (namedSession) Initialize()                                         {}
func (namedSession) Initialized() bool                                   { return true }
func (namedSession) NotificationChannel() chan<- mcp.JSONRPCNotification { return nil }
func (s namedSession) SessionID() string                                 { return s.id }

// TestTokensAreKeptApartBySession: two clients of one server may choose the same progress token
// (over HTTP each has its own session). Client b's notification is held in its writer; client
// a's call, with the same token, ends as soon as its own notification is written.
func TestTokensAreKeptApartBySession(t *testing.T) {
	p := NewProgress()
	srv := server.NewMCPServer("t", "1")
	w := &heldWriter{hold: []byte("b's step"), release: make(chan struct{})}
	ctxA := srv.WithContext(context.Background(), namedSession{"a"})
	ctxB := srv.WithContext(context.Background(), namedSession{"b"})
	a := p.Begin(ctxA, asyncSender{w: p.Writer("a", w)}, 1)
	b := p.Begin(ctxB, asyncSender{w: p.Writer("b", w)}, 1)
	p.Report(b.ID(), 1, 3, "b's step")
	p.Report(a.ID(), 1, 3, "a's step")
	ended := make(chan struct{})
	go func() { a.End(5 * time.Second); close(ended) }()
	select {
	case <-ended:
	case <-time.After(3 * time.Second):
		t.Fatal("client a's call waited for client b's notification with the same token")
	}
	close(w.release)
	b.End(5 * time.Second)
	if !bytes.Contains([]byte(w.text()), []byte("b's step")) {
		t.Fatalf("call b ended before its notification was written: %s", w.text())
	}
}

// TestProgressPrefixIsMcpGosEncoding: the Writer recognises a progress notification by the
// start of mcp-go's encoding of mcp.JSONRPCNotification; if mcp-go reordered its fields, every
// call would wait out End's timeout instead of its notifications.
func TestProgressPrefixIsMcpGosEncoding(t *testing.T) {
	b, err := json.Marshal(mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{
		Method: "notifications/progress",
		Params: mcp.NotificationParams{AdditionalFields: map[string]any{"progressToken": 3, "progress": 1}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, progressPrefix) {
		t.Fatalf("mcp-go writes %s; the Writer looks for the prefix %s", b, progressPrefix)
	}
}
