// Package bridge is `troupe serve`: it relays a client's stdio to the data dir's daemon over the
// daemon's unix socket (MCP Streamable HTTP at /mcp), starting a daemon when none runs (DESIGN
// §11). Every message passes in order and unchanged, so the daemon and its audit log see the
// client's own identity (clientInfo, protocol version), never the bridge's.
package bridge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/daemon"
	"github.com/troupe-dev/troupe/internal/mcpx"
)

// Options configure a bridge.
type Options struct {
	DataDir string
	In      io.Reader
	Out     io.Writer
	Logger  zerolog.Logger
	// Version is this binary's version, compared with the daemon's (version skew, DESIGN §11).
	Version string
	// Starter starts a daemon when none answers; nil makes one from DaemonCommand.
	Starter *Starter
	// Drain bounds how long the end of input waits for the answers of calls already sent.
	Drain time.Duration
}

// Run relays In ⇄ the daemon until In ends (then the answers of calls sent are awaited, at most
// Drain) or ctx ends. The daemon keeps running either way.
func Run(ctx context.Context, o Options) error {
	if o.Drain <= 0 {
		o.Drain = 2 * time.Minute
	}
	if o.Starter == nil {
		o.Starter = &Starter{DataDir: o.DataDir, Version: o.Version, Logger: o.Logger}
	}
	b := &bridge{o: o, hc: daemon.HTTPClient(o.DataDir), out: &lineWriter{w: o.Out},
		progress: map[string]time.Time{}, id: newID()}
	defer b.closeListen()
	actx, stopAttach := context.WithCancel(context.Background())
	defer stopAttach()
	go b.attach(actx)
	return b.run(ctx)
}

type bridge struct {
	o   Options
	hc  *http.Client
	out *lineWriter

	mu        sync.Mutex
	ready     bool   // connected to a daemon (and initialized, when the client initialized)
	gen       int    // bumps at every (re)connection: a failure reports the generation it saw
	sessionID string // Mcp-Session-Id of the client's legacy session
	version   string // protocol version negotiated at initialize
	initReq   []byte // the client's initialize, replayed on a new daemon
	initNote  []byte // the client's notifications/initialized, replayed after it
	listen    context.CancelFunc
	progress  map[string]time.Time // when the last progress notification of a token was relayed

	calls  sync.WaitGroup
	id     string
	connMu sync.Mutex // one (re)connection at a time // names this bridge to the daemon (daemon.ClientHeader)
}

// envelope is what the bridge reads of a JSON-RPC message.
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	} `json:"params"`
}

func (e envelope) isRequest() bool { return len(e.ID) > 0 && string(e.ID) != "null" && e.Method != "" }

// metaString reads a string from the message's _meta.
func (e envelope) metaString(key string) string {
	var s string
	if raw, ok := e.Params.Meta[key]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

func (b *bridge) run(ctx context.Context) error {
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(b.o.In)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			select {
			case lines <- bytes.Clone(line):
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	for {
		select {
		case <-ctx.Done():
			b.wait(time.Second)
			return nil
		case err := <-readErr:
			// End of input: the client is gone or done. Answers of calls already sent are still
			// written (a client may close stdin right after its last request).
			b.wait(b.o.Drain)
			if err != nil {
				return fmt.Errorf("read stdin: %w", err)
			}
			return nil
		case line := <-lines:
			b.handle(ctx, line)
		}
	}
}

// wait waits at most d for the calls in flight.
func (b *bridge) wait(d time.Duration) {
	done := make(chan struct{})
	go func() { b.calls.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		b.o.Logger.Warn().Dur("waited", d).Msg("bridge: calls still in flight at exit; their answers are lost to this client")
	}
}

// handle relays one message from the client.
func (b *bridge) handle(ctx context.Context, line []byte) {
	var env envelope
	if err := json.Unmarshal(line, &env); err != nil {
		b.out.writeJSON(map[string]any{"jsonrpc": "2.0", "id": nil,
			"error": map[string]any{"code": mcp.PARSE_ERROR, "message": "parse error: each line must be one JSON-RPC message: " + err.Error()}})
		return
	}
	modern := env.metaString(mcp.MetaKeyProtocolVersion)
	if mcp.IsModernProtocol(modern) {
		if err := b.ensure(ctx); err != nil {
			b.fail(env, err.Error())
			return
		}
	} else {
		modern = ""
		switch env.Method {
		case string(mcp.MethodInitialize):
			b.initialize(ctx, env, line)
			return
		case "notifications/initialized":
			b.mu.Lock()
			b.initNote = line
			b.mu.Unlock()
		}
		if err := b.ensure(ctx); err != nil {
			b.fail(env, err.Error())
			return
		}
	}
	b.send(ctx, env, line, modern, true)
}

// send posts a message and relays what comes back; a request's answer is read in its own
// goroutine, but send returns only once the message is written to the daemon, so that messages
// reach the daemon in the client's order (a cancellation never overtakes its request).
func (b *bridge) send(ctx context.Context, env envelope, line []byte, modern string, retry bool) {
	b.mu.Lock()
	gen, sid, ver := b.gen, b.sessionID, b.version
	b.mu.Unlock()
	wrote := make(chan struct{})
	var once sync.Once
	signal := func() { once.Do(func() { close(wrote) }) }
	listenCall := env.Method == string(mcp.MethodSubscriptionsListen)
	if !listenCall {
		b.calls.Add(1)
	}
	go func() {
		if !listenCall {
			defer b.calls.Done()
		}
		defer signal()
		rctx := context.WithoutCancel(ctx)
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { signal() }}
		// resend reconnects (starting a daemon, initializing again) and sends the message once more.
		resend := func(cause error) {
			b.lost(gen, cause)
			if err := b.ensure(ctx); err != nil {
				b.fail(env, err.Error())
				return
			}
			signal()
			b.send(ctx, env, line, modern, false)
		}
		resp, err := b.post(httptrace.WithClientTrace(rctx, trace), line, sid, ver, modern, env.Method)
		if err != nil && retry && daemon.IsNotRunning(err) {
			resend(err) // nothing reached a daemon: none listens
			return
		}
		if err != nil {
			b.lost(gen, err)
			b.fail(env, b.lostMessage(err))
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound && modern == "" && sid != "" && retry {
			// The daemon does not know our session: another bridge restarted it. Initialize
			// again with the client's own initialize, then send this once more.
			_, _ = io.Copy(io.Discard, resp.Body)
			b.o.Logger.Info().Msg("bridge: the daemon no longer knows this client's session; initializing again")
			resend(nil)
			return
		}
		if err := b.relay(env, resp); err != nil {
			b.lost(gen, err)
			b.fail(env, b.lostMessage(err))
		}
	}()
	select {
	case <-wrote:
	case <-ctx.Done():
	}
}

// post sends one message to /mcp.
func (b *bridge) post(ctx context.Context, body []byte, sid, version, modern, method string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, daemon.BaseURL+daemon.MCPPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(daemon.ClientHeader, b.id)
	switch {
	case modern != "":
		// 2026-07-28 over HTTP: the version in a header too, and the method (and tool name) as
		// headers mirroring the body.
		req.Header.Set(mcp.HeaderProtocolVersion, modern)
		var m struct {
			Params json.RawMessage `json:"params"`
		}
		_ = json.Unmarshal(body, &m)
		for k, v := range mcp.StandardHeaders(modern, mcp.MCPMethod(method), m.Params) {
			req.Header.Set(k, v)
		}
	case sid != "":
		req.Header.Set("Mcp-Session-Id", sid)
		if version != "" {
			req.Header.Set(mcp.HeaderProtocolVersion, version)
		}
	}
	return b.hc.Do(req)
}

// relay writes what the daemon answered to a message: nothing (202), one JSON message, or an
// SSE stream of messages (notifications, server requests, then the answer). It returns an error
// when the stream broke before a request's answer.
func (b *bridge) relay(env envelope, resp *http.Response) error {
	ct := resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode == http.StatusAccepted:
		return nil
	case strings.HasPrefix(ct, "text/event-stream"):
		answered := false
		err := readSSE(resp.Body, func(data []byte) {
			if b.relayMessage(env, data) {
				answered = true
			}
		})
		if !env.isRequest() || answered {
			return nil
		}
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return err
	default:
		body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		if err != nil {
			return err
		}
		body = bytes.TrimSpace(body)
		if json.Valid(body) && len(body) > 0 && body[0] == '{' {
			b.relayMessage(env, body)
			return nil
		}
		if env.isRequest() {
			msg := fmt.Sprintf("the troupe daemon answered HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
			if resp.StatusCode == http.StatusServiceUnavailable {
				msg += "; the next call starts a new daemon"
			}
			b.fail(env, msg)
		}
		return nil
	}
}

// relayMessage writes one message from the daemon to the client; it reports whether it was the
// answer to env. A call's answer is kept at least mcpx.MinGap after its last progress notification
// (internal/mcpx/progress.go says why).
func (b *bridge) relayMessage(env envelope, data []byte) bool {
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"params"`
	}
	if json.Unmarshal(data, &m) != nil {
		b.o.Logger.Warn().Bytes("data", data).Msg("bridge: the daemon sent something that is not JSON; dropped")
		return false
	}
	if m.Method == "notifications/progress" {
		b.mu.Lock()
		b.progress[string(m.Params.ProgressToken)] = time.Now()
		b.mu.Unlock()
		b.out.write(data)
		return false
	}
	answer := m.Method == "" && env.isRequest() && bytes.Equal(bytes.TrimSpace(m.ID), bytes.TrimSpace(env.ID))
	if answer {
		if tok, ok := env.Params.Meta["progressToken"]; ok {
			key := string(bytes.TrimSpace(tok))
			b.mu.Lock()
			last, seen := b.progress[key]
			delete(b.progress, key)
			b.mu.Unlock()
			if wait := time.Until(last.Add(mcpx.MinGap)); seen && wait > 0 {
				time.Sleep(wait)
			}
			if seen {
				// A client under load may not have read the notification within MinGap, and
				// then reads it in the same chunk as the answer, which the TypeScript SDK
				// handles first ("progress notification for an unknown token"). Once the pipe
				// is empty the client has read it, and handles the chunk (notification
				// microtask included) before its next read.
				b.out.waitRead(2 * time.Second)
			}
		}
	}
	b.out.write(data)
	return answer
}

// fail answers a request with an error: a tool error for tools/call (the model reads it), a
// JSON-RPC error otherwise. Notifications get nothing.
func (b *bridge) fail(env envelope, msg string) {
	if !env.isRequest() {
		b.o.Logger.Warn().Str("method", env.Method).Msg(msg)
		return
	}
	if env.Method == string(mcp.MethodToolsCall) {
		b.out.writeJSON(map[string]any{"jsonrpc": "2.0", "id": env.ID,
			"result": map[string]any{"content": []any{map[string]any{"type": "text", "text": msg}}, "isError": true}})
		return
	}
	b.out.writeJSON(map[string]any{"jsonrpc": "2.0", "id": env.ID, "error": map[string]any{"code": mcp.INTERNAL_ERROR, "message": msg}})
}
