package mcpx

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
)

// sessionHeader is the Streamable HTTP session header (mcp-go's server.HeaderKeySessionID).
const sessionHeader = "Mcp-Session-Id"

// HTTPHandler wraps mcp-go's Streamable HTTP handler so that Progress learns when a progress
// notification is written to a client, as Writer does for stdio.
//
// mcp-go writes each SSE event with one Write (server/streamable_http.go:1295, writeSSEEvent)
// and flushes after it. In stateful mode every stream of a registered session — the POST's own,
// another POST's, the GET listening stream — drains one notificationChannel, so a call's
// notifications may leave on a stream other than the one that carries its answer: each response
// of the session is watched, and a notification counts as written once it is flushed. The
// session is the request's Mcp-Session-Id header (the id ClientSessionFromContext gives the
// call); a 2026-07-28 request has none and its ephemeral session's id is "", which is what the
// call sees too. A nil Progress returns h.
func HTTPHandler(h http.Handler, p *Progress) http.Handler {
	if p == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &progressResponse{ResponseWriter: w, p: p, session: r.Header.Get(sessionHeader)}
		if f, ok := w.(http.Flusher); ok {
			pw.flusher = f
		}
		var rw http.ResponseWriter = pw
		if pw.flusher != nil {
			rw = flushingResponse{pw}
		}
		h.ServeHTTP(rw, r)
		pw.report() // whatever was written but never flushed is written by now
	})
}

// progressResponse watches one response for progress notifications.
type progressResponse struct {
	http.ResponseWriter
	p       *Progress
	session string
	flusher http.Flusher

	mu      sync.Mutex
	pending []string // token keys written, not yet flushed
}

// sseProgress starts the data line of an SSE event carrying a progress notification.
var sseProgress = append([]byte("data: "), progressPrefix...)

func (pw *progressResponse) Write(b []byte) (int, error) {
	n, err := pw.ResponseWriter.Write(b)
	if i := bytes.Index(b, sseProgress); i >= 0 && err == nil {
		line := b[i+len("data: "):]
		if j := bytes.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		var m struct {
			Params struct {
				ProgressToken json.RawMessage `json:"progressToken"`
			} `json:"params"`
		}
		if json.Unmarshal(line, &m) == nil {
			pw.mu.Lock()
			pw.pending = append(pw.pending, tokenKey(pw.session, m.Params.ProgressToken))
			pw.mu.Unlock()
			if pw.flusher == nil {
				pw.report()
			}
		}
	}
	return n, err
}

// report counts the pending notifications as written.
func (pw *progressResponse) report() {
	pw.mu.Lock()
	keys := pw.pending
	pw.pending = nil
	pw.mu.Unlock()
	for _, k := range keys {
		pw.p.written(k)
	}
}

// Unwrap lets http.ResponseController (mcp-go sets write deadlines through it) reach the
// connection's writer.
func (pw *progressResponse) Unwrap() http.ResponseWriter { return pw.ResponseWriter }

// flushingResponse is a progressResponse over a writer that can flush: mcp-go streams SSE only
// when the writer is an http.Flusher.
type flushingResponse struct{ *progressResponse }

func (fr flushingResponse) Flush() {
	fr.flusher.Flush()
	fr.report()
}
