package daemon

import (
	"net/http"
	"sync"

	"github.com/troupe-dev/troupe/internal/principal"
)

// sessionOwners binds each MCP session opened over TCP to the principal that initialized it: a
// session id used with another principal's token is answered 404, as an unknown session is, so
// holding someone's session id is not enough to act as them.
type sessionOwners struct {
	mu    sync.Mutex
	owner map[string]string // Mcp-Session-Id → principal name
}

func newSessionOwners() *sessionOwners { return &sessionOwners{owner: map[string]string{}} }

// bind checks a request's session against its principal and records the owner of new sessions.
func (s *sessionOwners) bind(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := principal.From(r.Context()).Name
		if id := r.Header.Get("Mcp-Session-Id"); id != "" {
			s.mu.Lock()
			owner, known := s.owner[id]
			s.mu.Unlock()
			if known && owner != who {
				http.Error(w, "Session not found", http.StatusNotFound)
				return
			}
			next.ServeHTTP(w, r)
			if r.Method == http.MethodDelete {
				s.mu.Lock()
				delete(s.owner, id)
				s.mu.Unlock()
			}
			return
		}
		next.ServeHTTP(&ownerRecorder{ResponseWriter: w, owners: s, who: who}, r)
	})
}

// ownerRecorder notes the Mcp-Session-Id an answer (an initialize's) hands out.
type ownerRecorder struct {
	http.ResponseWriter
	owners *sessionOwners
	who    string
	seen   bool
}

func (o *ownerRecorder) note() {
	if o.seen {
		return
	}
	o.seen = true
	if id := o.Header().Get("Mcp-Session-Id"); id != "" {
		o.owners.mu.Lock()
		o.owners.owner[id] = o.who
		o.owners.mu.Unlock()
	}
}

func (o *ownerRecorder) WriteHeader(code int) { o.note(); o.ResponseWriter.WriteHeader(code) }

func (o *ownerRecorder) Write(b []byte) (int, error) { o.note(); return o.ResponseWriter.Write(b) }

// Flush keeps streaming answers (SSE) working through the wrapper.
func (o *ownerRecorder) Flush() {
	o.note()
	if f, ok := o.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (o *ownerRecorder) Unwrap() http.ResponseWriter { return o.ResponseWriter }
