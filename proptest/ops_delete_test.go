package proptest

import (
	"slices"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// The ops that end things (deletes, stop failures, expiry, restart) and bring them back
// (restore).

// deleteOpts are delete_session's flags.
type deleteOpts struct{ force, dryRun, preserve bool }

func (w *world) deleteSession(t tb, id string, o deleteOpts) {
	w.begin("delete_session")
	r := testutil.AsDeleteSession(w.ask(t, &messages.DeleteSession{SessionID: id, Force: o.force, DryRun: o.dryRun, PreserveWork: o.preserve}))
	s := w.m.sessions[id]
	if s == nil {
		wantCode(t, w, "delete_session "+id, r.Err, w.m.unknown(id))
		return
	}
	if o.dryRun {
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
	out := w.m.delete(s, o.force, "deleted")
	reached("delete_session", out.code)
	if len(out.failures) > 0 && out.code == "" {
		reached("delete_session", "forced past a stop failure")
	}
	wantCode(t, w, "delete_session "+id, r.Err, out.code)
	if out.code == messages.CodeBusy {
		return
	}
	if out.code == messages.CodeRolledBack {
		// The error is the whole answer: it names the child that would not stop and those
		// stopped before it, newest first.
		want := out.failures[0] + " did not stop"
		if len(out.stopped) > 0 {
			want = ": " + strings.Join(out.stopped, ", ") + " stopped first"
		}
		if !strings.Contains(r.Err.Message, want) {
			w.fatalf(t, "delete_session %s rolled back with %q, which does not say %q", id, r.Err.Message, want)
		}
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
	if out.snap != nil {
		if r.SnapshotID == "" {
			w.fatalf(t, "delete_session %s gave no snapshot id", id)
		}
		out.snap.id = r.SnapshotID
	}
}

// deleteChild removes one child: delete_agent (busy only with force) or close_page. A process
// that will not stop keeps its agent, with an internal error.
func (w *world) deleteChild(t tb, sessionID, name string, force bool) {
	w.begin("delete_child")
	s, c := w.modelChild(t, sessionID, name)
	id := s.childID(c)
	var err *messages.Error
	if c.kind == kindPage {
		r := testutil.AsClosePage(w.ask(t, &messages.ClosePage{PageID: id}))
		err = r.Err
		if r.Err == nil && !r.Closed {
			w.fatalf(t, "close_page %s answered %+v", id, r)
		}
	} else {
		r := testutil.AsDeleteAgent(w.ask(t, &messages.DeleteAgent{AgentID: id, Force: force}))
		err = r.Err
		if r.Err == nil && !r.Stopped {
			w.fatalf(t, "delete_agent %s answered %+v", id, r)
		}
	}
	var want messages.Code
	switch {
	case c.busy && !force:
		want = messages.CodeBusy
	case c.stuck && c.hasProcess():
		// The agent stays, running its message; the messages queued behind it still run.
		want = messages.CodeInternal
		w.m.event(s.id, "child.stop", id, "error")
	default:
		w.m.event(s.id, "child.stop", id, "ok")
		s.children = slices.DeleteFunc(s.children, func(x *mChild) bool { return x == c })
	}
	reached("delete_child", want)
	wantCode(t, w, "delete "+id, err, want)
}

// injectStopFailure makes the process of a child ignore every stop from now on.
func (w *world) injectStopFailure(t tb, sessionID, name string) {
	w.begin("inject_stop_failure")
	s, c := w.modelChild(t, sessionID, name)
	pid := w.childInfo(t, sessionID, name).PID
	if pid == 0 {
		w.fatalf(t, "agent %s shows no process", s.childID(c))
	}
	w.process(t, pid).SetStop(process.StopNever)
	c.stuck, c.stuckPID = true, pid
}

// restoreSession restores the i-th snapshot the model saw taken, under id as when set.
func (w *world) restoreSession(t tb, i int, as string) {
	w.begin("restore_session")
	if i >= len(w.m.snapshots) {
		w.fatalf(t, "no snapshot #%d in the model", i)
	}
	snap := w.m.snapshots[i]
	r := testutil.AsSession(w.ask(t, &messages.RestoreSession{SnapshotID: snap.id, SessionID: as}))
	target := as
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
	reached("restore_session", want)
	if want == "" && slices.ContainsFunc(snap.session.children, func(c *mChild) bool { return c.mode == terminal }) {
		reached("restore_session", "with a terminal agent")
	}
	wantCode(t, w, "restore_session "+snap.id+" as "+target, r.Err, want)
	if want != "" {
		return
	}
	if r.Session == nil || r.Session.SessionID != target {
		w.fatalf(t, "restore_session answered %+v", r.Session)
	}
	restored := copySession(snap.session, target)
	for _, c := range restored.children {
		// It shows the screen its record kept; its new process may soon keep another.
		c.last, c.saved = c.saved, ""
	}
	w.m.sessions[target] = restored
	delete(w.m.tombstones, target)
	w.m.counters.restored++
	w.m.event(target, "session.restored", "", "ok")
}

// expire advances the clock by d and sweeps: the sessions idle past their timeout are deleted
// with reason "expired", unless a child is busy (then they stay) or fails to stop (rolled
// back). Snapshots past their retention are pruned.
func (w *world) expire(t tb, d time.Duration) {
	w.begin("expire")
	w.clock.Advance(d)
	w.m.now = w.m.now.Add(d)
	// Every session was last touched by the previous check, at the previous now.
	var expiring []string
	for _, id := range w.m.liveIDs() {
		if w.m.sessions[id].timeout <= d {
			expiring = append(expiring, id)
		}
	}
	r := testutil.AsSweepIdle(w.ask(t, &messages.SweepIdle{}))
	if !slices.Equal(r.Expiring, expiring) {
		w.fatalf(t, "sweep after %s expires %v, want %v", d, r.Expiring, expiring)
	}
	gone := map[string]*mSnapshot{}
	for _, id := range expiring {
		out := w.m.delete(w.m.sessions[id], false, "expired")
		reached("expire", out.code)
		if out.snap != nil {
			gone[id] = out.snap
		}
	}
	w.m.prune()
	var seen []messages.SessionSummary
	w.poll(t, "the end of the expiries", func() bool {
		seen = w.list(t)
		return !slices.ContainsFunc(seen, func(s messages.SessionSummary) bool { return s.Status != messages.StatusActive })
	}, func() string { return jsonString(seen) })
	for _, id := range sortedKeys(gone) {
		w.learnSnapshot(t, id, gone[id])
	}
}

// learnSnapshot finds the id of the snapshot an expiry of session id kept: the one completed
// snapshot of id the model does not know yet.
func (w *world) learnSnapshot(t tb, id string, snap *mSnapshot) {
	r := testutil.AsListSnapshots(w.ask(t, &messages.ListSnapshots{SessionID: id}))
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
func (w *world) restart(t tb) {
	w.begin("restart")
	if err := w.shutdown(); err != nil {
		w.fatalf(t, "Shutdown: %v", err)
	}
	w.start(t)
	if len(w.m.sessions) > 0 {
		reached("restart", "with sessions")
	}
	for _, id := range w.m.liveIDs() {
		if slices.ContainsFunc(w.m.sessions[id].children, func(c *mChild) bool { return c.mode == terminal && !c.exited }) {
			reached("restart", "with a running terminal agent")
			break
		}
	}
	w.m.restart()
}
