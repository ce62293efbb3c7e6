package proptest

import (
	"encoding/json"
	"maps"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// The ops: each does one thing to the tree, predicts its answer with the model, compares, and
// moves the model on. The invariant check runs after each (by rapid, or by the script runner).

// begin starts an op.
func (w *world) begin(name string) {
	w.step++
	w.action = name
}

// modelChild finds a child of a live session in the model; a script naming another is wrong.
func (w *world) modelChild(t tb, sessionID, name string) (*mSession, *mChild) {
	t.Helper()
	if s := w.m.sessions[sessionID]; s != nil {
		if c := s.child(name); c != nil {
			return s, c
		}
	}
	w.fatalf(t, "no child %s/%s in the model", sessionID, name)
	return nil, nil
}

func (w *world) createSession(t tb, id string, short bool) {
	w.begin("create_session")
	msg := &messages.CreateSession{SessionID: id}
	timeout := idleTimeout
	if short {
		msg.IdleTimeoutSeconds = shortTimeout
		timeout = shortTimeout * time.Second
	}
	r := testutil.AsSession(w.ask(t, msg))
	var want messages.Code
	switch {
	case w.m.sessions[id] != nil:
		want = messages.CodeAlreadyExists
	case len(w.m.sessions) >= maxSessions:
		want = messages.CodeLimitExceeded
	}
	reached("create_session", want)
	wantCode(t, w, "create_session "+id, r.Err, want)
	if want != "" {
		return
	}
	if r.Session == nil || r.Session.SessionID != id {
		w.fatalf(t, "create_session %s answered %+v", id, r.Session)
	}
	w.m.sessions[id] = &mSession{id: id, timeout: timeout, state: map[string]json.RawMessage{}}
	delete(w.m.tombstones, id)
	w.m.counters.created++
}

// refuseChild is the code a new child named name gets in s.
func refuseChild(s *mSession, name string) messages.Code {
	switch {
	case s.child(name) != nil:
		return messages.CodeAlreadyExists
	case len(s.children) >= maxChildren:
		return messages.CodeLimitExceeded
	}
	return ""
}

// createAgent creates an agent in mode; rows and cols are a terminal agent's size.
func (w *world) createAgent(t tb, sessionID, name, mode string, rows, cols int) {
	w.begin("create_agent")
	s := w.m.sessions[sessionID]
	spec := catSpec
	switch mode {
	case perMessage:
		spec = slowSpec
	case terminal:
		spec = termSpec
		spec.Rows, spec.Cols = rows, cols
	default:
		rows, cols = 0, 0
	}
	r := testutil.AsAgent(w.ask(t, &messages.CreateAgent{SessionID: sessionID, Name: name, Spec: spec}))
	if s == nil {
		wantCode(t, w, "create_agent in "+sessionID, r.Err, w.m.unknown(sessionID))
		return
	}
	want := refuseChild(s, name)
	reached("create_agent", want)
	wantCode(t, w, "create_agent "+sessionID+"/"+name, r.Err, want)
	if want != "" {
		return
	}
	if r.Agent == nil || r.Agent.AgentID != sessionID+"/"+name {
		w.fatalf(t, "create_agent answered %+v", r.Agent)
	}
	c := &mChild{name: name, kind: kindAgent, mode: mode, rows: rows, cols: cols}
	if r.Agent.Mode != mode || !sameSize(r.Agent.Size, c) {
		w.fatalf(t, "create_agent %s answered mode %s size %+v, want %s %dx%d", r.Agent.AgentID, r.Agent.Mode, r.Agent.Size, mode, rows, cols)
	}
	if why := stateDisagrees(mode, r.Agent.Status, r.Agent.State, r.Agent.Busy); why != "" {
		w.fatalf(t, "create_agent %s answered status %s state %s: %s", r.Agent.AgentID, r.Agent.Status, r.Agent.State, why)
	}
	s.children = append(s.children, c)
}

func (w *world) openPage(t tb, sessionID, name string) {
	w.begin("open_page")
	s := w.m.sessions[sessionID]
	url := "https://site.test/" + name
	r := testutil.AsPage(w.ask(t, &messages.OpenPage{SessionID: sessionID, Name: name, URL: url}))
	if s == nil {
		wantCode(t, w, "open_page in "+sessionID, r.Err, w.m.unknown(sessionID))
		return
	}
	want := refuseChild(s, name)
	reached("open_page", want)
	wantCode(t, w, "open_page "+sessionID+"/"+name, r.Err, want)
	if want != "" {
		return
	}
	if r.Page == nil || r.Page.PageID != sessionID+"/"+name || r.Page.URL != url {
		w.fatalf(t, "open_page answered %+v", r.Page)
	}
	s.children = append(s.children, &mChild{name: name, kind: kindPage, url: url})
}

// makeBusy gives a per-message agent a message; its fake process lingers until make_idle.
// A busy agent queues the message.
func (w *world) makeBusy(t tb, sessionID, name string) {
	w.begin("make_busy")
	s, c := w.modelChild(t, sessionID, name)
	id := s.childID(c)
	r := testutil.AsSendToAgent(w.ask(t, &messages.SendToAgent{AgentID: id, Message: "job"}))
	wantCode(t, w, "send_to_agent "+id, r.Err, "")
	want := 0
	if c.busy {
		want = 1 + c.queued
		c.queued++
	}
	if r.Queued != want {
		w.fatalf(t, "send_to_agent %s: queued %d, want %d", id, r.Queued, want)
	}
	c.busy = true
}

// makeIdle finishes the running message of a busy agent; a queued one starts next.
func (w *world) makeIdle(t tb, sessionID, name string) {
	w.begin("make_idle")
	s, c := w.modelChild(t, sessionID, name)
	pid := w.childInfo(t, sessionID, name).PID
	if pid == 0 {
		w.fatalf(t, "busy agent %s shows no process", s.childID(c))
	}
	w.process(t, pid).Finish(0)
	c.stuck = false
	if c.queued > 0 {
		c.queued--
	} else {
		c.busy = false
	}
	var last messages.ChildInfo
	w.poll(t, "the end of the run of "+s.childID(c), func() bool {
		last = w.childInfo(t, sessionID, name)
		return last.PID != pid && (last.PID != 0) == c.busy
	}, func() string { return jsonString(last) })
}

func (w *world) updateState(t tb, id string, set map[string]json.RawMessage, unset []string) {
	w.begin("update_state")
	r := testutil.AsUpdateSessionState(w.ask(t, &messages.UpdateSessionState{SessionID: id, Set: set, Unset: unset}))
	s := w.m.sessions[id]
	if s == nil {
		wantCode(t, w, "update_state "+id, r.Err, w.m.unknown(id))
		return
	}
	next := maps.Clone(s.state)
	var want messages.Code
	for _, k := range unset {
		delete(next, k)
		if _, both := set[k]; both {
			want = messages.CodeInvalidArgument
		}
	}
	maps.Copy(next, set)
	if want == "" && stateSize(next) > maxStateBytes {
		want = messages.CodeTooLarge
	}
	reached("update_state", want)
	wantCode(t, w, "update_state "+id, r.Err, want)
	if want != "" {
		return
	}
	s.state = next
	if got, want := stateString(r.State), stateString(next); got != want {
		w.fatalf(t, "update_state %s answered state %s, want %s", id, got, want)
	}
}

// sameSize says whether an agent's answered size is c's: a terminal agent's as created, none for
// another.
func sameSize(got *messages.TermSize, c *mChild) bool {
	if c.mode != terminal {
		return got == nil
	}
	return got != nil && *got == messages.TermSize{Rows: c.rows, Cols: c.cols}
}
