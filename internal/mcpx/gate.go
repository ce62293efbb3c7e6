package mcpx

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"
)

// StdioGate holds back the end of input until every request read has been answered.
//
// It works around mcp-go's stdio transport (server/stdio.go, v1.2.1): at EOF, Listen returns
// from processInputStream and then cancels every request's context and closes the tool-call
// queue (stdio.go:550-551, "cancelRequests(); close(s.toolCallQueue)"), so the tool calls still
// queued behind the 5 workers are dropped or cancelled. A client that writes its last requests
// and closes stdin (a script, `troupe serve < calls.jsonl`, the Inspector CLI) would get no answer
// to them. SIGTERM still stops at once.
//
// Requests are counted as they are read and answers as they are written. Answers are not counted
// through the server's hooks (OnSuccess/OnError/AfterCallTool), because that does not hold for
// every answer: MCPServer.HandleMessage answers a request with a bad JSON-RPC version, a
// protocol-era error or a failed initialization hook without calling them
// (server/request_handler.go:39, 66, 89), and the stdio worker answers a tool handler's panic
// with an error no hook sees (stdio.go:461, 652); the gate would then wait out its limit. The
// hooks cannot count the requests either (only those that reach a handler). mcp-go writes each
// message with one Write (stdio.go:874), so counting there is exact.
type StdioGate struct {
	mu       sync.Mutex
	changed  chan struct{}
	requests int // requests read (a method and an id)
	answers  int // responses written (an id, no method)
	pending  []byte
}

// NewStdioGate returns a gate with nothing read yet.
func NewStdioGate() *StdioGate { return &StdioGate{changed: make(chan struct{})} }

func (g *StdioGate) bump(requests, answers int) {
	g.mu.Lock()
	g.requests += requests
	g.answers += answers
	close(g.changed)
	g.changed = make(chan struct{})
	g.mu.Unlock()
}

// Reader wraps the input: requests are counted as they pass; at EOF it waits (until ctx ends or
// at most limit) for their answers before passing the EOF on.
func (g *StdioGate) Reader(ctx context.Context, r io.Reader, limit time.Duration) io.Reader {
	return &gateReader{g: g, r: r, ctx: ctx, limit: limit}
}

type gateReader struct {
	g     *StdioGate
	r     io.Reader
	ctx   context.Context
	limit time.Duration
}

func (gr *gateReader) Read(p []byte) (int, error) {
	n, err := gr.r.Read(p)
	if n > 0 {
		gr.count(p[:n])
	}
	if err == io.EOF {
		gr.wait()
	}
	return n, err
}

func (gr *gateReader) count(b []byte) {
	g := gr.g
	g.pending = append(g.pending, b...)
	requests, start := 0, 0
	for {
		i := bytes.IndexByte(g.pending[start:], '\n')
		if i < 0 {
			break
		}
		if req, _ := classify(g.pending[start : start+i]); req {
			requests++
		}
		start += i + 1
	}
	// The rest moves to the front, so that the buffer is reused rather than grown at each read.
	g.pending = g.pending[:copy(g.pending, g.pending[start:])]
	if requests > 0 {
		g.bump(requests, 0)
	}
}

func (gr *gateReader) wait() {
	deadline := time.After(gr.limit)
	for {
		gr.g.mu.Lock()
		done, changed := gr.g.answers >= gr.g.requests, gr.g.changed
		gr.g.mu.Unlock()
		if done {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			return
		case <-gr.ctx.Done():
			return
		}
	}
}

// Writer wraps the output and counts the answers; mcp-go writes one message per Write.
func (g *StdioGate) Writer(w io.Writer) io.Writer { return gateWriter{g: g, w: w} }

type gateWriter struct {
	g *StdioGate
	w io.Writer
}

func (gw gateWriter) Write(p []byte) (int, error) {
	n, err := gw.w.Write(p)
	if isAnswer(p) {
		gw.g.bump(0, 1)
	}
	return n, err
}

var answerPrefix = []byte(`{"jsonrpc":"2.0","id":`)

// isAnswer reports whether p, a message mcp-go wrote, is a response: its id is followed by
// "result" or "error" (a request of the server's has "method" there). mcp-go writes these keys in
// this order; anything else is parsed in full.
func isAnswer(p []byte) bool {
	rest, ok := bytes.CutPrefix(p, answerPrefix)
	if !ok {
		_, answer := classify(bytes.TrimSpace(p))
		return answer
	}
	i := 0
	if i < len(rest) && rest[i] == '"' {
		for i++; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' {
				i++
			}
		}
		i++
	} else {
		for i < len(rest) && (rest[i] == '-' || rest[i] == '.' || rest[i] == '+' || rest[i] == 'e' || rest[i] == 'E' || (rest[i] >= '0' && rest[i] <= '9')) {
			i++
		}
	}
	if i > len(rest) {
		return false
	}
	rest = rest[i:]
	return bytes.HasPrefix(rest, []byte(`,"result"`)) || bytes.HasPrefix(rest, []byte(`,"error"`))
}
