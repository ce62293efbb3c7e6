// Package approval holds the calls waiting for a person (DESIGN §15): a tool named in
// require_approval runs only after someone other than the model said yes, through MCP
// elicitation, `troupe approve ID`, or the live view's button. An approval lives in the daemon's
// memory: one still open when the daemon stops is dropped, and the call has to be made again.
package approval

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Request is one call waiting for a person (`troupe approvals --json` prints an array of them).
type Request struct {
	ID        string `json:"id"`
	SessionID string `json:"session_id,omitempty"`
	Tool      string `json:"tool"`
	// Arguments are the call's arguments as the audit log keeps them (secrets redacted).
	Arguments   any       `json:"arguments"`
	RequestedAt time.Time `json:"requested_at"`
	// Principal is who made the call (a token's name, or local).
	Principal string `json:"principal"`
}

// Decision is a person's answer.
type Decision struct {
	Approve bool `json:"approve"`
	// Approver names who decided: "elicitation:<client>", "cli:<user>", "view:<token name>".
	Approver string    `json:"approver"`
	At       time.Time `json:"at"`
}

// Errors of Decide.
var (
	ErrNotFound = errors.New("no approval with this id is waiting (it was never asked, it expired, or the daemon restarted since)")
	ErrDecided  = errors.New("this approval was already decided")
)

// Broker keeps the open approvals. The zero value is not usable: use New.
type Broker struct {
	mu    sync.Mutex
	ttl   time.Duration
	now   func() time.Time
	byID  map[string]*entry
	byKey map[string]*entry
	// record, when set, makes a decision durable (the audit log) before it counts: a decision
	// it cannot record is refused (fail closed).
	record func(Request, Decision) error
}

type entry struct {
	req      Request
	key      string
	expires  time.Time
	decided  chan struct{}
	decision *Decision
}

// DefaultTTL is how long an approval stays open (undecided, or decided and not yet used by the
// call made again).
const DefaultTTL = time.Hour

// New returns a broker whose approvals expire ttl after they were asked or decided (0:
// DefaultTTL). record, when not nil, is called with every decision before it counts; its error
// refuses the decision.
func New(ttl time.Duration, record func(Request, Decision) error) *Broker {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Broker{ttl: ttl, now: time.Now, byID: map[string]*entry{}, byKey: map[string]*entry{}, record: record}
}

// TTL is how long an approval stays open.
func (b *Broker) TTL() time.Duration { return b.ttl }

// Ticket is an open approval as its call sees it.
type Ticket struct {
	b *Broker
	e *entry
	// New is true when this call opened the approval (false: the same call made again found it).
	New bool
}

// ID is the approval's id.
func (t Ticket) ID() string { return t.e.req.ID }

// Request is what the approval asks.
func (t Ticket) Request() Request { return t.e.req }

// Open returns the approval of key (who asks, which tool, which arguments): the open one when
// the same call was made before, else a new one made from req (its ID and RequestedAt are set).
func (b *Broker) Open(key string, req Request) Ticket {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked()
	if e, ok := b.byKey[key]; ok {
		return Ticket{b: b, e: e}
	}
	req.ID = newID()
	req.RequestedAt = b.now().UTC()
	e := &entry{req: req, key: key, expires: b.now().Add(b.ttl), decided: make(chan struct{})}
	b.byID[req.ID] = e
	b.byKey[key] = e
	return Ticket{b: b, e: e, New: true}
}

// Find returns the open approval with this id when it was opened for key.
func (b *Broker) Find(id, key string) (Ticket, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked()
	e, ok := b.byID[id]
	if !ok || e.key != key {
		return Ticket{}, false
	}
	return Ticket{b: b, e: e}, true
}

// Wait waits at most d for a decision; ok is false when none came (or ctx ended).
func (t Ticket) Wait(done <-chan struct{}, d time.Duration) (Decision, bool) {
	if dec, ok := t.Decision(); ok {
		return dec, true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.e.decided:
		return t.Decision()
	case <-timer.C:
	case <-done:
	}
	return t.Decision()
}

// Decision returns the decision, when there is one.
func (t Ticket) Decision() (Decision, bool) {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if t.e.decision == nil {
		return Decision{}, false
	}
	return *t.e.decision, true
}

// Close forgets the approval: its call acted on the decision (ran, or answered the refusal).
// A decision is used once; the same call made again asks again.
func (t Ticket) Close() {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	t.b.removeLocked(t.e)
}

// Decide records a person's decision on the open approval id. It returns what was asked.
func (b *Broker) Decide(id string, d Decision) (Request, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked()
	e, ok := b.byID[id]
	if !ok {
		return Request{}, ErrNotFound
	}
	if e.decision != nil {
		return e.req, ErrDecided
	}
	if d.At.IsZero() {
		d.At = b.now().UTC()
	}
	if b.record != nil {
		if err := b.record(e.req, d); err != nil {
			return e.req, fmt.Errorf("the decision was not taken: it could not be recorded: %w", err)
		}
	}
	e.decision = &d
	// The call made again has the TTL from now to use it.
	e.expires = b.now().Add(b.ttl)
	close(e.decided)
	return e.req, nil
}

// Pending returns the approvals not decided yet, oldest first; keep filters them (nil: all).
func (b *Broker) Pending(keep func(Request) bool) []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked()
	out := []Request{}
	for _, e := range b.byID {
		if e.decision == nil && (keep == nil || keep(e.req)) {
			out = append(out, e.req)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].RequestedAt.Equal(out[j].RequestedAt) {
			return out[i].RequestedAt.Before(out[j].RequestedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Get returns the open approval id (decided or not).
func (b *Broker) Get(id string) (Request, *Decision, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked()
	e, ok := b.byID[id]
	if !ok {
		return Request{}, nil, false
	}
	var d *Decision
	if e.decision != nil {
		c := *e.decision
		d = &c
	}
	return e.req, d, true
}

func (b *Broker) expireLocked() {
	now := b.now()
	for _, e := range b.byID {
		if now.After(e.expires) {
			b.removeLocked(e)
		}
	}
}

func (b *Broker) removeLocked(e *entry) {
	if b.byID[e.req.ID] != e {
		return
	}
	delete(b.byID, e.req.ID)
	if b.byKey[e.key] == e {
		delete(b.byKey, e.key)
	}
}

// newID is "apr_" and 16 random hex digits: not guessable by a caller that did not ask.
func newID() string {
	var buf [8]byte
	if _, err := rand.Read(buf[:]); err != nil {
		panic(err)
	}
	return "apr_" + hex.EncodeToString(buf[:])
}
