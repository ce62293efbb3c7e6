package proptest

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/troupe-dev/troupe/messages"
)

// The small worlds the actions draw from: few ids and names, so that collisions, limits and
// re-used ids come up often.
var (
	sessionIDs  = []string{"s1", "s2", "s3", "s4", "s5"}
	childNames  = []string{"c1", "c2", "c3", "c4"}
	stateKeys   = []string{"k1", "k2", "k3"}
	stateValues = []string{`1`, `"v"`, `"a-value-of-thirty-characters"`}
	// advances are the clock steps of "expire": below, between and above the idle timeouts.
	advances = []time.Duration{5 * time.Minute, 15 * time.Minute, 2 * time.Hour}
)

// Limits of the tree under test, small so that refusals are exercised.
const (
	maxSessions   = 4
	maxChildren   = 3
	maxStateBytes = 64
	idleTimeout   = time.Hour
	shortTimeout  = 600 // seconds: a per-session idle timeout below the default
	retention     = 5 * time.Hour
)

// Child kinds and agent modes as the model names them.
const (
	kindAgent   = "agent"
	kindPage    = "page"
	interactive = "interactive"
	perMessage  = "per-message"
	terminal    = "terminal"
)

// model is the plain-Go lifecycle the tree must follow.
type model struct {
	now        time.Time
	sessions   map[string]*mSession
	snapshots  []*mSnapshot      // every completed snapshot, in creation order (pruned ones too)
	tombstones map[string]string // id → reason of its last delete ("deleted", "expired")
	counters   mCounters
	// orphans are processes told never to stop whose child is gone (a forced delete, a
	// restart): they may still run, and nothing else may.
	orphans map[int]bool
	// expect are the audit events the current action should record, by session ("" for none):
	// "action target outcome".
	expect map[string][]string
	// totals count the events expected over the run, by action.
	totals map[string]int
}

type mCounters struct{ created, deleted, expired, restored, rollbacks int64 }

// mSession is one live session of the model.
type mSession struct {
	id       string
	timeout  time.Duration
	state    map[string]json.RawMessage
	children []*mChild // creation order
}

// mChild is one child. A process is expected for a running interactive agent and a busy
// per-message agent.
type mChild struct {
	name, kind, mode string
	url              string
	exited           bool // interactive or terminal agent whose process ended (by itself, or with a server restart)
	exitCode         *int // its exit code, when it ended by itself
	busy             bool // per-message agent running a message
	queued           int  // messages waiting behind the running one
	stuck            bool // its process was told never to stop
	stuckPID         int
	// rows and cols are a terminal agent's size, as created.
	rows, cols int
	// typed is the last line typed on an agent (send_keys, send_to_agent), "" when the last
	// input typed none or its screen and output are new (a restart): a terminal agent's screen
	// shows it, and the output of an agent that echoes it holds it, after its exit too.
	typed string
	// saved is a line on the screen the tree keeps of a terminal agent (in its record), when
	// that is known: what was typed last before its process ended by itself. ("" unknown: it
	// also keeps the screen each time the agent waits for input, which depends on timing.)
	// last is a line its get_session's last_screen must show: the screen kept when the agent
	// was restored or the tree restarted.
	saved, last string
}

// mSnapshot is a snapshot the model knows; id is the real one, learned from the tree.
type mSnapshot struct {
	id        string
	sessionID string
	createdAt time.Time
	session   *mSession
	pruned    bool
}

func newModel(now time.Time) *model {
	return &model{now: now, sessions: map[string]*mSession{}, tombstones: map[string]string{},
		orphans: map[int]bool{}, expect: map[string][]string{}, totals: map[string]int{}}
}

// liveIDs are the live sessions, sorted: actions draw from slices, never from map order.
func (m *model) liveIDs() []string {
	return slices.Sorted(maps.Keys(m.sessions))
}

func (m *model) event(session, action, target, outcome string) {
	m.expect[session] = append(m.expect[session], action+" "+target+" "+outcome)
	m.totals[action]++
}

// unknown is the code for an id that names no live session.
func (m *model) unknown(id string) messages.Code {
	if m.tombstones[id] == "expired" {
		return messages.CodeExpired
	}
	return messages.CodeNotFound
}

func (s *mSession) childID(c *mChild) string { return s.id + "/" + c.name }

func (s *mSession) child(name string) *mChild {
	for _, c := range s.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// hasProcess says whether the tree should show a running process for c.
func (c *mChild) hasProcess() bool {
	return c.kind == kindAgent && ((c.mode != perMessage && !c.exited) || (c.mode == perMessage && c.busy))
}

// state is the state class get_session should show for c (DESIGN §13): a running process is
// "live" — running or waiting_for_input, which depends on timing (the quiet period) — pages
// have none.
func (c *mChild) state() string {
	switch {
	case c.kind == kindPage:
		return ""
	case c.mode == perMessage && c.busy:
		return messages.StateRunning
	case c.mode == perMessage:
		return messages.StateIdle
	case c.exited:
		return messages.StateExited
	}
	return "live"
}

// status is the status get_session should show for c once it settled.
func (c *mChild) status() string {
	switch {
	case c.kind == kindPage:
		return messages.PageOpen
	case c.mode == perMessage && c.busy:
		return messages.AgentBusy
	case c.mode == perMessage:
		return messages.AgentIdle
	case c.exited:
		return messages.AgentExited
	}
	return messages.AgentRunning
}

// fresh is c re-created from its spec (rollback, restore): a new process, nothing queued; its
// record keeps the screen saved.
func (c *mChild) fresh() *mChild {
	return &mChild{name: c.name, kind: c.kind, mode: c.mode, url: c.url, rows: c.rows, cols: c.cols, saved: c.saved}
}

// copySession is a deep copy of s under id with its children re-created.
func copySession(s *mSession, id string) *mSession {
	out := &mSession{id: id, timeout: s.timeout, state: maps.Clone(s.state)}
	for _, c := range s.children {
		out.children = append(out.children, c.fresh())
	}
	return out
}

// stateSize is the size the tree measures: the state as JSON.
func stateSize(state map[string]json.RawMessage) int {
	if len(state) == 0 {
		return 2
	}
	data, _ := json.Marshal(state)
	return len(data)
}

// deleteOutcome is what the model predicts of one delete of a live session.
type deleteOutcome struct {
	code     messages.Code // "" when the session is gone
	stopped  []string      // ids stopped, in stop order
	failures []string      // ids that failed to stop
	snap     *mSnapshot    // the snapshot kept, when the session is gone
}

// delete applies DESIGN §4 to the model: refuse with busy children unless forced; else stop
// newest first, roll back at the first failure unless forced; else the session is gone with a
// snapshot of it as it was.
func (m *model) delete(s *mSession, force bool, reason string) deleteOutcome {
	if !force {
		for _, c := range s.children {
			if c.busy {
				return deleteOutcome{code: messages.CodeBusy}
			}
		}
	}
	m.event(s.id, "session.snapshot", "", "ok")
	var out deleteOutcome
	for i := len(s.children) - 1; i >= 0; i-- {
		c := s.children[i]
		id := s.childID(c)
		if !(c.stuck && c.hasProcess()) {
			m.event(s.id, "child.stop", id, "ok")
			out.stopped = append(out.stopped, id)
			continue
		}
		m.event(s.id, "child.stop", id, "error")
		out.failures = append(out.failures, id)
		if force {
			continue
		}
		// Rollback: the children stopped (the newer ones) come back fresh, the state is kept.
		for j := i + 1; j < len(s.children); j++ {
			s.children[j] = s.children[j].fresh()
			s.children[j].saved = "" // its new process may keep another screen
		}
		m.event(s.id, "session.rollback", id, "ok")
		m.counters.rollbacks++
		out.code = messages.CodeRolledBack
		return out
	}
	for _, c := range s.children {
		if c.stuck && c.hasProcess() {
			m.orphans[c.stuckPID] = true
		}
	}
	out.snap = &mSnapshot{sessionID: s.id, createdAt: m.now, session: copySession(s, s.id)}
	m.snapshots = append(m.snapshots, out.snap)
	delete(m.sessions, s.id)
	m.tombstones[s.id] = reason
	if reason == "expired" {
		m.counters.expired++
		m.event(s.id, "session.expire", "", "ok")
	} else {
		m.counters.deleted++
		m.event(s.id, "session.deleted", "", "ok")
	}
	return out
}

// restart is a server restart on the same store: children come back, interactive and terminal agents
// (restart policy never) as exited, per-message agents idle with their queue lost; a process
// that would not stop may be left behind.
func (m *model) restart() {
	for _, id := range m.liveIDs() {
		for _, c := range m.sessions[id].children {
			if c.stuck && c.hasProcess() {
				m.orphans[c.stuckPID] = true
			}
			c.stuck, c.busy, c.queued = false, false, 0
			if c.mode == interactive || c.mode == terminal {
				c.exited = true
			}
			// New agents: a new screen and output; the screen saved is the last one shown.
			c.typed, c.exitCode, c.last = "", nil, c.saved
		}
	}
	m.counters = mCounters{}
	if len(m.sessions) > 0 {
		m.event("", "server.recover", "", "ok")
	}
}

// prune drops the snapshots past their retention, as the sweep does.
func (m *model) prune() {
	for _, s := range m.snapshots {
		if s.createdAt.Before(m.now.Add(-retention)) {
			s.pruned = true
		}
	}
}

// liveSnapshots are the snapshots the store should hold.
func (m *model) liveSnapshots() []*mSnapshot {
	var out []*mSnapshot
	for _, s := range m.snapshots {
		if !s.pruned {
			out = append(out, s)
		}
	}
	return out
}
