package proptest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// check is the invariant check, run after every action: the tree (its answers, the store, the
// fake processes and pages, the audit log) equals the model.
func (w *world) check(t tb) {
	infos := w.settle(t)
	w.checkSessions(t, infos)
	w.checkMetrics(t)
	w.checkProcesses(t, infos)
	w.checkAgents(t, infos)
	w.checkStore(t)
	w.checkSnapshots(t)
	w.checkAudit(t)
}

// transitional says whether a child is still starting, opening or stopping.
func transitional(c messages.ChildInfo) bool {
	switch c.Status {
	case messages.AgentStarting, messages.PageOpening, messages.AgentStopping:
		return true
	}
	return c.Kind == kindPage && c.Busy
}

// settle waits until no session is being deleted and no child is in transition, and returns
// what get_session shows of every listed session.
func (w *world) settle(t tb) map[string]*messages.SessionInfo {
	var infos map[string]*messages.SessionInfo
	w.poll(t, "a settled tree", func() bool {
		infos = map[string]*messages.SessionInfo{}
		for _, sum := range w.list(t) {
			if sum.Status != messages.StatusActive {
				return false
			}
			r := w.get(t, sum.SessionID)
			if r.Err != nil {
				w.fatalf(t, "get_session %s (listed): %v", sum.SessionID, r.Err)
			}
			if slices.ContainsFunc(r.Session.Children, transitional) {
				return false
			}
			infos[sum.SessionID] = r.Session
		}
		return true
	}, func() string { return jsonString(infos) })
	return infos
}

func (w *world) checkSessions(t tb, infos map[string]*messages.SessionInfo) {
	ids := w.m.liveIDs()
	if got := slices.Sorted(maps.Keys(infos)); !slices.Equal(got, ids) {
		w.fatalf(t, "live sessions %v, want %v", got, ids)
	}
	for _, id := range sessionIDs {
		if w.m.sessions[id] == nil {
			wantCode(t, w, "get_session "+id, w.get(t, id).Err, w.m.unknown(id))
		}
	}
	if len(infos) > maxSessions {
		w.fatalf(t, "%d sessions, over the limit of %d", len(infos), maxSessions)
	}
	for _, sum := range w.list(t) {
		s := w.m.sessions[sum.SessionID]
		agents, pages := count(s)
		if sum.Agents != agents || sum.Pages != pages {
			w.fatalf(t, "list_sessions: %s has %d agents and %d pages, want %d and %d", s.id, sum.Agents, sum.Pages, agents, pages)
		}
	}
	for _, id := range ids {
		s, info := w.m.sessions[id], infos[id]
		if info.Status != messages.StatusActive {
			w.fatalf(t, "session %s is %s, want active", id, info.Status)
		}
		if got, want := stateString(info.State), stateString(s.state); got != want {
			w.fatalf(t, "session %s state %s, want %s", id, got, want)
		}
		if len(info.Children) > maxChildren {
			w.fatalf(t, "session %s has %d children, over the limit of %d", id, len(info.Children), maxChildren)
		}
		if got, want := describeChildren(info.Children), describeModel(s); got != want {
			w.fatalf(t, "session %s children\n got: %s\nwant: %s", id, got, want)
		}
	}
}

func count(s *mSession) (agents, pages int) {
	for _, c := range s.children {
		if c.kind == kindAgent {
			agents++
		} else {
			pages++
		}
	}
	return agents, pages
}

// describeChildren renders children as the comparison sees them: id, kind, status, busy,
// whether a process runs, the page's URL.
func describeChildren(kids []messages.ChildInfo) string {
	out := make([]string, len(kids))
	for i, c := range kids {
		out[i] = fmt.Sprintf("%s %s %s state=%s busy=%t process=%t %s", c.ID, c.Kind, c.Status, stateClass(c), c.Busy, c.PID != 0, c.URL)
	}
	return fmt.Sprint(out)
}

// stateClass is how the comparison sees an agent's state: running and waiting_for_input of a
// live process are one class (which one depends on timing); a per-message run (busy) is running.
func stateClass(c messages.ChildInfo) string {
	if c.State == messages.StateWaitingForInput || (c.State == messages.StateRunning && !c.Busy) {
		return "live"
	}
	return c.State
}

func describeModel(s *mSession) string {
	out := make([]string, len(s.children))
	for i, c := range s.children {
		out[i] = fmt.Sprintf("%s %s %s state=%s busy=%t process=%t %s", s.childID(c), c.kind, c.status(), c.state(), c.busy, c.hasProcess(), c.url)
	}
	return fmt.Sprint(out)
}

func (w *world) checkMetrics(t tb) {
	r := testutil.AsSessionMetrics(w.ask(t, &messages.SessionMetrics{}))
	c := w.m.counters
	agents, pages := 0, 0
	for _, id := range w.m.liveIDs() {
		a, p := count(w.m.sessions[id])
		agents, pages = agents+a, pages+p
	}
	got := fmt.Sprintf("total=%d active=%d agents=%d pages=%d created=%d deleted=%d expired=%d restored=%d rollbacks=%d",
		r.TotalSessions, r.ActiveSessions, r.Children[messages.KindAgent], r.Children[messages.KindPage], r.Created, r.Deleted, r.Expired, r.Restored, r.Rollbacks)
	want := fmt.Sprintf("total=%d active=%d agents=%d pages=%d created=%d deleted=%d expired=%d restored=%d rollbacks=%d",
		len(w.m.sessions), len(w.m.sessions), agents, pages, c.created, c.deleted, c.expired, c.restored, c.rollbacks)
	if got != want {
		w.fatalf(t, "metrics\n got: %s\nwant: %s", got, want)
	}
}

// checkProcesses: every running fake process is a live child's (or an orphan the model
// allows), each live child's process runs, and the browser has exactly the live pages open.
func (w *world) checkProcesses(t tb, infos map[string]*messages.SessionInfo) {
	owner := map[int]string{}
	for _, id := range w.m.liveIDs() {
		for _, c := range infos[id].Children {
			if c.PID != 0 {
				if prev, dup := owner[c.PID]; dup {
					w.fatalf(t, "process %d belongs to both %s and %s", c.PID, prev, c.ID)
				}
				owner[c.PID] = c.ID
			}
		}
	}
	running := map[int]bool{}
	for _, p := range w.procs.Running() {
		running[p.PID()] = true
		if owner[p.PID()] == "" && !w.m.orphans[p.PID()] {
			w.fatalf(t, "process %d (%s) runs for no live child", p.PID(), p.Spec().Command)
		}
	}
	for pid, id := range owner {
		if !running[pid] {
			w.fatalf(t, "child %s shows process %d, which has ended", id, pid)
		}
	}
	pages := 0
	for _, id := range w.m.liveIDs() {
		_, p := count(w.m.sessions[id])
		pages += p
	}
	if got := w.browser.Pages(); got != pages {
		w.fatalf(t, "the browser has %d pages open, want %d", got, pages)
	}
}

// checkAgents: every agent's state agrees with its status; each process runs on a terminal
// of its agent's size exactly when the agent is a terminal agent (after a restore and a
// restart too); a terminal agent's screen is that size and shows what was typed last while it
// runs and after it exited; only a terminal agent has a last screen, of at most its rows, which
// shows what was typed last before an exit (when restored or restarted).
func (w *world) checkAgents(t tb, infos map[string]*messages.SessionInfo) {
	for _, id := range w.m.liveIDs() {
		s := w.m.sessions[id]
		for _, ci := range infos[id].Children {
			c := s.child(ci.Name)
			if c == nil || c.kind != kindAgent {
				continue
			}
			if why := stateDisagrees(c.mode, ci.Status, ci.State, ci.Busy); why != "" {
				w.fatalf(t, "get_session %s: agent %s status %s state %s: %s", id, ci.ID, ci.Status, ci.State, why)
			}
			if len(ci.LastScreen) > 0 && (c.mode != terminal || len(ci.LastScreen) > c.rows) {
				w.fatalf(t, "get_session %s: agent %s (%s) has a last screen of %d rows: %q", id, ci.ID, c.mode, len(ci.LastScreen), ci.LastScreen)
			}
			if c.last != "" && !onRow(ci.LastScreen, c.last) {
				w.fatalf(t, "get_session %s: agent %s's last screen does not show %q, shown when it exited: %q", id, ci.ID, c.last, ci.LastScreen)
			}
			if ci.PID != 0 {
				p := w.process(t, ci.PID)
				var got, want *process.TermSize
				if p.Spec().Terminal != nil {
					size := p.Size()
					got = &size
				}
				if c.mode == terminal {
					want = &process.TermSize{Rows: c.rows, Cols: c.cols}
				}
				if jsonString(got) != jsonString(want) {
					w.fatalf(t, "agent %s (%s) runs on a terminal of %s, want %s", ci.ID, c.mode, jsonString(got), jsonString(want))
				}
			}
			if c.mode != terminal {
				continue
			}
			res := w.ask(t, &messages.ReadAgentScreen{AgentID: ci.ID})
			r, ok := res.(*messages.ScreenResult)
			if !ok {
				w.fatalf(t, "read_agent_screen %s answered %T %+v", ci.ID, res, res)
			}
			w.checkScreen(t, c, "read_agent_screen "+ci.ID, r)
		}
	}
}

// checkStore: the store holds exactly the live sessions, with their children in creation order.
func (w *world) checkStore(t tb) {
	recs, err := w.store.LoadSessions()
	if err != nil {
		w.fatalf(t, "LoadSessions: %v", err)
	}
	got := map[string]string{}
	for _, r := range recs {
		kids := make([]string, len(r.Children))
		for i, c := range r.Children {
			kids[i] = c.ID
		}
		got[r.ID] = fmt.Sprintf("%s %v %s", r.Status, kids, stateString(r.State))
	}
	want := map[string]string{}
	for _, id := range w.m.liveIDs() {
		s := w.m.sessions[id]
		kids := make([]string, len(s.children))
		for i, c := range s.children {
			kids[i] = s.childID(c)
		}
		want[id] = fmt.Sprintf("%s %v %s", messages.StatusActive, kids, stateString(s.state))
	}
	if !maps.Equal(got, want) {
		w.fatalf(t, "store\n got: %v\nwant: %v", got, want)
	}
}

// checkSnapshots: the snapshots kept are the model's, each with the children the session had
// when its delete began, in creation order.
func (w *world) checkSnapshots(t tb) {
	r := testutil.AsListSnapshots(w.ask(t, &messages.ListSnapshots{}))
	if r.Err != nil {
		w.fatalf(t, "list_snapshots: %v", r.Err)
	}
	got := map[string]string{}
	for _, s := range r.Snapshots {
		got[s.SnapshotID] = fmt.Sprintf("%s completed=%t %v", s.SessionID, s.Completed, s.Children)
	}
	want := map[string]string{}
	for _, s := range w.m.liveSnapshots() {
		kids := make([]string, len(s.session.children))
		for i, c := range s.session.children {
			kids[i] = s.session.childID(c)
		}
		want[s.id] = fmt.Sprintf("%s completed=true %v", s.sessionID, kids)
	}
	if !maps.Equal(got, want) {
		w.fatalf(t, "snapshots\n got: %v\nwant: %v", got, want)
	}
}

func jsonString(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(data)
}

// stateString renders a state for comparison; no state and an empty one are the same.
func stateString(state map[string]json.RawMessage) string {
	if len(state) == 0 {
		return "{}"
	}
	return jsonString(state)
}
