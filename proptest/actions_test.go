package proptest

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/messages"
)

// actions are the state machine's actions; "" is the invariant check, run after each.
func (w *world) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"create_session":      w.createSession,
		"create_agent":        w.createAgent,
		"open_page":           w.openPage,
		"make_busy":           w.makeBusy,
		"make_idle":           w.makeIdle,
		"update_state":        w.updateState,
		"delete_session":      w.deleteSession,
		"inject_stop_failure": w.injectStopFailure,
		"restore_session":     w.restoreSession,
		"expire":              w.expire,
		"restart":             w.restart,
		"":                    w.check,
	}
}

// begin starts an action once its draws are made (an action skipped before begin changes
// nothing).
func (w *world) begin(name string) {
	w.step++
	w.action = name
}

// pickSession draws a live session; it skips the action when there is none.
func (w *world) pickSession(t *rapid.T) *mSession {
	ids := w.m.liveIDs()
	if len(ids) == 0 {
		t.Skip("no live session")
	}
	return w.m.sessions[rapid.SampledFrom(ids).Draw(t, "session")]
}

// childRef names one child of a live session.
type childRef struct {
	s *mSession
	c *mChild
}

// pickChild draws a child that satisfies ok; it skips the action when there is none.
func (w *world) pickChild(t *rapid.T, ok func(*mChild) bool) childRef {
	var refs []childRef
	for _, id := range w.m.liveIDs() {
		s := w.m.sessions[id]
		for _, c := range s.children {
			if ok(c) {
				refs = append(refs, childRef{s, c})
			}
		}
	}
	if len(refs) == 0 {
		t.Skip("no child to act on")
	}
	i := rapid.IntRange(0, len(refs)-1).Draw(t, "child")
	return refs[i]
}

func (w *world) createSession(t *rapid.T) {
	id := rapid.SampledFrom(sessionIDs).Draw(t, "id")
	short := rapid.Bool().Draw(t, "short_timeout")
	w.begin("create_session")
	msg := &messages.CreateSession{SessionID: id}
	timeout := idleTimeout
	if short {
		msg.IdleTimeoutSeconds = shortTimeout
		timeout = shortTimeout * time.Second
	}
	r := w.ask(t, msg).(*messages.SessionResult)
	var want messages.Code
	switch {
	case w.m.sessions[id] != nil:
		want = messages.CodeAlreadyExists
	case len(w.m.sessions) >= maxSessions:
		want = messages.CodeLimitExceeded
	}
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

func (w *world) createAgent(t *rapid.T) {
	s := w.pickSession(t)
	name := rapid.SampledFrom(childNames).Draw(t, "name")
	mode := rapid.SampledFrom([]string{interactive, perMessage}).Draw(t, "mode")
	w.begin("create_agent")
	spec := catSpec
	if mode == perMessage {
		spec = slowSpec
	}
	r := w.ask(t, &messages.CreateAgent{SessionID: s.id, Name: name, Spec: spec}).(*messages.AgentResult)
	want := refuseChild(s, name)
	wantCode(t, w, "create_agent "+s.id+"/"+name, r.Err, want)
	if want != "" {
		return
	}
	if r.Agent == nil || r.Agent.AgentID != s.id+"/"+name {
		w.fatalf(t, "create_agent answered %+v", r.Agent)
	}
	s.children = append(s.children, &mChild{name: name, kind: kindAgent, mode: mode})
}

func (w *world) openPage(t *rapid.T) {
	s := w.pickSession(t)
	name := rapid.SampledFrom(childNames).Draw(t, "name")
	w.begin("open_page")
	url := "https://site.test/" + name
	r := w.ask(t, &messages.OpenPage{SessionID: s.id, Name: name, URL: url}).(*messages.PageResult)
	want := refuseChild(s, name)
	wantCode(t, w, "open_page "+s.id+"/"+name, r.Err, want)
	if want != "" {
		return
	}
	if r.Page == nil || r.Page.PageID != s.id+"/"+name || r.Page.URL != url {
		w.fatalf(t, "open_page answered %+v", r.Page)
	}
	s.children = append(s.children, &mChild{name: name, kind: kindPage, url: url})
}

// makeBusy gives a per-message agent a message; its fake process lingers until make_idle.
func (w *world) makeBusy(t *rapid.T) {
	ref := w.pickChild(t, func(c *mChild) bool { return c.mode == perMessage })
	w.begin("make_busy")
	id := ref.s.childID(ref.c)
	r := w.ask(t, &messages.SendToAgent{AgentID: id, Message: "job"}).(*messages.SendToAgentResult)
	wantCode(t, w, "send_to_agent "+id, r.Err, "")
	want := 0
	if ref.c.busy {
		want = 1 + ref.c.queued
		ref.c.queued++
	}
	if r.Queued != want {
		w.fatalf(t, "send_to_agent %s: queued %d, want %d", id, r.Queued, want)
	}
	ref.c.busy = true
}

// makeIdle finishes the running message of a busy agent; a queued one starts next.
func (w *world) makeIdle(t *rapid.T) {
	ref := w.pickChild(t, func(c *mChild) bool { return c.busy })
	w.begin("make_idle")
	pid := w.childInfo(t, ref.s.id, ref.c.name).PID
	if pid == 0 {
		w.fatalf(t, "busy agent %s shows no process", ref.s.childID(ref.c))
	}
	w.process(t, pid).Finish(0)
	ref.c.stuck = false
	if ref.c.queued > 0 {
		ref.c.queued--
	} else {
		ref.c.busy = false
	}
	var last messages.ChildInfo
	w.poll(t, "the end of the run of "+ref.s.childID(ref.c), func() bool {
		last = w.childInfo(t, ref.s.id, ref.c.name)
		return last.PID != pid && (last.PID != 0) == ref.c.busy
	}, func() string { return jsonString(last) })
}

func (w *world) updateState(t *rapid.T) {
	id := rapid.SampledFrom(sessionIDs).Draw(t, "id")
	setKeys := rapid.SliceOfNDistinct(rapid.SampledFrom(stateKeys), 0, 2, rapid.ID[string]).Draw(t, "set")
	set := map[string]json.RawMessage{}
	for _, k := range setKeys {
		set[k] = json.RawMessage(rapid.SampledFrom(stateValues).Draw(t, "value"))
	}
	unset := rapid.SliceOfNDistinct(rapid.SampledFrom(stateKeys), 0, 2, rapid.ID[string]).Draw(t, "unset")
	w.begin("update_state")
	r := w.ask(t, &messages.UpdateSessionState{SessionID: id, Set: set, Unset: unset}).(*messages.UpdateSessionStateResult)
	s := w.m.sessions[id]
	if s == nil {
		wantCode(t, w, "update_state "+id, r.Err, w.m.unknown(id))
		return
	}
	next := make(map[string]json.RawMessage, len(s.state))
	for k, v := range s.state {
		next[k] = v
	}
	var want messages.Code
	for _, k := range unset {
		delete(next, k)
		if _, both := set[k]; both {
			want = messages.CodeInvalidArgument
		}
	}
	for k, v := range set {
		next[k] = v
	}
	if want == "" && stateSize(next) > maxStateBytes {
		want = messages.CodeTooLarge
	}
	wantCode(t, w, "update_state "+id, r.Err, want)
	if want != "" {
		return
	}
	s.state = next
	if got, want := stateString(r.State), stateString(next); got != want {
		w.fatalf(t, "update_state %s answered state %s, want %s", id, got, want)
	}
}

func (w *world) deleteSession(t *rapid.T) {
	id := rapid.SampledFrom(sessionIDs).Draw(t, "id")
	force := rapid.Bool().Draw(t, "force")
	dryRun := rapid.Bool().Draw(t, "dry_run")
	preserve := rapid.Bool().Draw(t, "preserve_work")
	w.begin("delete_session")
	r := w.ask(t, &messages.DeleteSession{SessionID: id, Force: force, DryRun: dryRun, PreserveWork: preserve}).(*messages.DeleteSessionResult)
	s := w.m.sessions[id]
	if s == nil {
		wantCode(t, w, "delete_session "+id, r.Err, w.m.unknown(id))
		return
	}
	if dryRun {
		wantCode(t, w, "delete_session dry run "+id, r.Err, "")
		var plan []string
		for i := len(s.children) - 1; i >= 0; i-- {
			plan = append(plan, s.childID(s.children[i]))
		}
		if !slices.Equal(r.Plan, plan) {
			w.fatalf(t, "dry run plan %v, want newest first %v", r.Plan, plan)
		}
		return
	}
	out := w.m.delete(s, force, "deleted")
	wantCode(t, w, "delete_session "+id, r.Err, out.code)
	w.checkStops(t, id, r, out)
	if out.snap != nil {
		if r.SnapshotID == "" {
			w.fatalf(t, "delete_session %s gave no snapshot id", id)
		}
		out.snap.id = r.SnapshotID
	}
}

// checkStops compares a delete's answer with the model's stop order and failures.
func (w *world) checkStops(t *rapid.T, id string, r *messages.DeleteSessionResult, out deleteOutcome) {
	t.Helper()
	if out.code == messages.CodeBusy {
		return
	}
	if !slices.Equal(r.Stopped, out.stopped) {
		w.fatalf(t, "delete_session %s stopped %v, want newest first %v", id, r.Stopped, out.stopped)
	}
	var failed []string
	for _, f := range r.Failures {
		failed = append(failed, f.ID)
	}
	if !slices.Equal(failed, out.failures) {
		w.fatalf(t, "delete_session %s failures %v, want %v", id, failed, out.failures)
	}
}

// injectStopFailure makes the process of a child ignore every stop from now on.
func (w *world) injectStopFailure(t *rapid.T) {
	ref := w.pickChild(t, func(c *mChild) bool { return c.hasProcess() && !c.stuck })
	w.begin("inject_stop_failure")
	pid := w.childInfo(t, ref.s.id, ref.c.name).PID
	if pid == 0 {
		w.fatalf(t, "agent %s shows no process", ref.s.childID(ref.c))
	}
	w.process(t, pid).SetStop(process.StopNever)
	ref.c.stuck, ref.c.stuckPID = true, pid
}

func (w *world) restoreSession(t *rapid.T) {
	if len(w.m.snapshots) == 0 {
		t.Skip("no snapshot")
	}
	snap := w.m.snapshots[rapid.IntRange(0, len(w.m.snapshots)-1).Draw(t, "snapshot")]
	other := rapid.SampledFrom(append([]string{""}, sessionIDs...)).Draw(t, "as")
	w.begin("restore_session")
	r := w.ask(t, &messages.RestoreSession{SnapshotID: snap.id, SessionID: other}).(*messages.SessionResult)
	target := other
	if target == "" {
		target = snap.sessionID
	}
	var want messages.Code
	switch {
	case snap.pruned:
		want = messages.CodeNotFound
	case w.m.sessions[target] != nil:
		want = messages.CodeAlreadyExists
	case len(w.m.sessions) >= maxSessions:
		want = messages.CodeLimitExceeded
	}
	wantCode(t, w, "restore_session "+snap.id+" as "+target, r.Err, want)
	if want != "" {
		return
	}
	if r.Session == nil || r.Session.SessionID != target {
		w.fatalf(t, "restore_session answered %+v", r.Session)
	}
	w.m.sessions[target] = copySession(snap.session, target)
	delete(w.m.tombstones, target)
	w.m.counters.restored++
	w.m.event(target, "session.restored", "", "ok")
}

// expire advances the clock and sweeps: the sessions idle past their timeout are deleted with
// reason "expired", unless a child is busy (then they stay) or fails to stop (rolled back).
func (w *world) expire(t *rapid.T) {
	d := rapid.SampledFrom(advances).Draw(t, "advance")
	w.begin("expire")
	w.clock.advance(d)
	w.m.now = w.m.now.Add(d)
	// Every session was last touched by the previous check, at the previous now.
	var expiring []string
	for _, id := range w.m.liveIDs() {
		if w.m.sessions[id].timeout <= d {
			expiring = append(expiring, id)
		}
	}
	r := w.ask(t, &messages.SweepIdle{}).(*messages.SweepIdleResult)
	if !slices.Equal(r.Expiring, expiring) {
		w.fatalf(t, "sweep after %s expires %v, want %v", d, r.Expiring, expiring)
	}
	gone := map[string]*mSnapshot{}
	for _, id := range expiring {
		if out := w.m.delete(w.m.sessions[id], false, "expired"); out.snap != nil {
			gone[id] = out.snap
		}
	}
	w.m.prune()
	var seen []messages.SessionSummary
	w.poll(t, "the end of the expiries", func() bool {
		seen = w.list(t)
		return !slices.ContainsFunc(seen, func(s messages.SessionSummary) bool { return s.Status != messages.StatusActive })
	}, func() string { return jsonString(seen) })
	for _, id := range slices.Sorted(maps.Keys(gone)) {
		w.learnSnapshot(t, id, gone[id])
	}
}

// learnSnapshot finds the id of the snapshot an expiry of session id kept: the one completed
// snapshot of id the model does not know yet.
func (w *world) learnSnapshot(t *rapid.T, id string, snap *mSnapshot) {
	r := w.ask(t, &messages.ListSnapshots{SessionID: id}).(*messages.ListSnapshotsResult)
	known := map[string]bool{}
	for _, s := range w.m.snapshots {
		known[s.id] = true
	}
	var fresh []string
	for _, s := range r.Snapshots {
		if s.Completed && !known[s.SnapshotID] {
			fresh = append(fresh, s.SnapshotID)
		}
	}
	if len(fresh) != 1 {
		w.fatalf(t, "the expiry of %s left new snapshots %v, want exactly one", id, fresh)
	}
	snap.id = fresh[0]
}

// restart shuts the tree down and starts it again on the same store and drivers.
func (w *world) restart(t *rapid.T) {
	w.begin("restart")
	if err := w.shutdown(); err != nil {
		w.fatalf(t, "Shutdown: %v", err)
	}
	w.start(t)
	w.m.restart()
}
