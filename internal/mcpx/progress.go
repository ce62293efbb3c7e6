package mcpx

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// Progress makes each call's answer follow its own progress notifications, by a margin.
//
// It works around two things. mcp-go's stdio transport queues notifications on a channel and
// writes them from another goroutine (server/stdio.go:99, 403), while a tool's answer is
// written by the worker that ran it: an answer can overtake its notifications, and a client
// then drops them (DESIGN §10). And the official TypeScript SDK (1.32) handles a notification
// in a microtask but an answer at once (shared/protocol.js: _onnotification defers through
// Promise.resolve(), _onresponse does not): a notification that arrives in the same read as
// its call's answer is reported as "a progress notification for an unknown token". So a call
// waits until its notifications are written (counted per session and progress token as
// they pass the Writer), then until MinGap has passed since the last one, and only then answers.
//
// Progress is also the sink the actors report to (Report): a message carries the call's id,
// data only, and the id finds the call here.
type Progress struct {
	mu     sync.Mutex
	cond   *sync.Cond
	calls  map[string]*ProgressCall // by call id
	tokens map[string]*ProgressCall // by session id and progress token (tokenKey)
	nextID atomic.Uint64
}

// MinGap is how long a call's answer waits after its last notification was written.
const MinGap = 30 * time.Millisecond

// NewProgress returns an empty Progress.
func NewProgress() *Progress {
	p := &Progress{calls: make(map[string]*ProgressCall), tokens: make(map[string]*ProgressCall)}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// ProgressCall is one call's progress: the notifications it sent and how many are written.
type ProgressCall struct {
	p       *Progress
	id      string
	token   any
	key     string
	send    Sender
	ctx     context.Context
	sent    int
	written int
	last    time.Time // when its last notification was written
	ended   bool
}

// ID names the call in messages (DeleteSession.ProgressID); "" for no progress.
func (c *ProgressCall) ID() string {
	if c == nil {
		return ""
	}
	return c.id
}

// Sender sends a notification to the client of ctx: mcp-go's *server.MCPServer.
type Sender interface {
	SendNotificationToClient(ctx context.Context, method string, params map[string]any) error
}

// Begin starts tracking a call whose client sent a progress token, sending through send (the
// server of the call); it returns nil when there is no token or no sender. End the call before
// answering.
func (p *Progress) Begin(ctx context.Context, send Sender, token any) *ProgressCall {
	if p == nil || token == nil || send == nil {
		return nil
	}
	raw, err := json.Marshal(token)
	if err != nil {
		return nil
	}
	session := ""
	if s := server.ClientSessionFromContext(ctx); s != nil {
		session = s.SessionID()
	}
	c := &ProgressCall{p: p, id: "progress-" + strconv.FormatUint(p.nextID.Add(1), 10), token: token,
		key: tokenKey(session, raw), send: send, ctx: ctx}
	p.mu.Lock()
	p.calls[c.id] = c
	p.tokens[c.key] = c
	p.mu.Unlock()
	return c
}

// Report sends a progress notification for the call with id (from an actor's goroutine: it
// does not block). A report after the call ended, or for an unknown id, is dropped. The last
// step (done >= total) is not sent: the answer carries the summary, and the step right before
// the answer is the one a client could see after it.
func (p *Progress) Report(id string, done, total int, message string) {
	if p == nil || id == "" || done >= total {
		return
	}
	p.mu.Lock()
	c := p.calls[id]
	if c == nil || c.ended {
		p.mu.Unlock()
		return
	}
	c.sent++
	p.mu.Unlock()
	err := c.send.SendNotificationToClient(c.ctx, "notifications/progress", map[string]any{
		"progressToken": c.token, "progress": done, "total": total, "message": message,
	})
	if err != nil {
		p.mu.Lock()
		c.sent--
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// End stops the call's reports and waits, at most timeout, until every notification it sent is
// written and MinGap has passed since the last one.
func (c *ProgressCall) End(timeout time.Duration) {
	if c == nil {
		return
	}
	p := c.p
	deadline := time.Now().Add(timeout)
	stop := time.AfterFunc(timeout, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop.Stop()
	p.mu.Lock()
	c.ended = true
	for c.written < c.sent && time.Now().Before(deadline) {
		p.cond.Wait()
	}
	last := c.last
	delete(p.calls, c.id)
	if p.tokens[c.key] == c {
		delete(p.tokens, c.key)
	}
	p.mu.Unlock()
	if wait := time.Until(last.Add(MinGap)); !last.IsZero() && wait > 0 && time.Now().Add(wait).Before(deadline) {
		time.Sleep(wait)
	}
}

// tokenKey names a progress token within its transport session: clients choose tokens, and two
// clients of one server (over HTTP) may well choose the same.
func tokenKey(session string, token json.RawMessage) string { return session + "\x00" + string(token) }

// progressPrefix starts every progress notification mcp-go writes: it marshals
// mcp.JSONRPCNotification, whose fields come in this order (tested against mcp-go's own type).
var progressPrefix = []byte(`{"jsonrpc":"2.0","method":"notifications/progress"`)

// Writer wraps the output of the transport session with the id session (mcp-go's
// ClientSession.SessionID()); mcp-go writes each message with one Write (server/stdio.go:874),
// so a progress notification is seen whole. A nil Progress returns w.
func (p *Progress) Writer(session string, w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return progressWriter{p: p, session: session, w: w}
}

type progressWriter struct {
	p       *Progress
	session string
	w       io.Writer
}

func (pw progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	if bytes.HasPrefix(b, progressPrefix) {
		var m struct {
			Params struct {
				ProgressToken json.RawMessage `json:"progressToken"`
			} `json:"params"`
		}
		if json.Unmarshal(b, &m) == nil {
			pw.p.written(tokenKey(pw.session, m.Params.ProgressToken))
		}
	}
	return n, err
}

// written counts a notification of the call with the token key (tokenKey) as written.
func (p *Progress) written(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.tokens[key]; c != nil {
		c.written++
		c.last = time.Now()
		p.cond.Broadcast()
	}
}
