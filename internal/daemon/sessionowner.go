package daemon

import (
	"net/http"
	"sync"
	"time"

	"github.com/troupe-dev/troupe/internal/principal"
)

// sessionOwners binds each MCP session to the principal that initialized it, on the socket and
// on TCP alike: a session id used by another principal is answered 404, as an unknown session
// is, so holding someone's session id is not enough to act as them.
type sessionOwners struct {
	// ttl forgets a session unused for this long (longer than mcp-go keeps one, which then
	// answers 404 anyway); 0 keeps every session until its DELETE.
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	owner  map[string]sessionOwner // Mcp-Session-Id →
	pruned time.Time
}

type sessionOwner struct {
	name string
	used time.Time
}

func newSessionOwners(ttl time.Duration) *sessionOwners {
	return &sessionOwners{ttl: ttl, now: time.Now, owner: map[string]sessionOwner{}}
}

// bind checks a request's session against its principal and records the owner of new sessions.
func (s *sessionOwners) bind(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := principal.From(r.Context()).Name
		id := r.Header.Get("Mcp-Session-Id")
		if id == "" {
			next.ServeHTTP(&ownerRecorder{ResponseWriter: w, owners: s, who: who}, r)
			return
		}
		if !s.use(id, who) {
			http.Error(w, "Session not found", http.StatusNotFound)
			return
		}
		next.ServeHTTP(w, r)
		if r.Method == http.MethodDelete {
			s.mu.Lock()
			delete(s.owner, id)
			s.mu.Unlock()
		}
	})
}

// use reports whether who may use session id (its owner, or a session not recorded here).
func (s *sessionOwners) use(id, who string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, known := s.owner[id]
	if !known {
		return true // unknown to mcp-go as well, or from before this daemon: mcp-go answers it
	}
	if o.name != who {
		return false
	}
	o.used = s.now()
	s.owner[id] = o
	return true
}

func (s *sessionOwners) record(id, who string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.owner[id] = sessionOwner{name: who, used: now}
	if s.ttl > 0 && now.Sub(s.pruned) >= time.Minute {
		s.pruned = now
		for sid, o := range s.owner {
			if now.Sub(o.used) > s.ttl {
				delete(s.owner, sid)
			}
		}
	}
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
		o.owners.record(id, o.who)
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
