package proptest

import (
	"encoding/json"
	"maps"
	"slices"

	"pgregory.net/rapid"

	"github.com/troupe-dev/troupe/messages"
)

// actions are the state machine's actions; "" is the invariant check, run after each. Each
// action draws its arguments (from slices, never from map order, so that shrinking works)
// and runs the op of the same name (ops_test.go, ops_terminal_test.go; read_agent runs
// read_agent_screen or read_agent_output, send_keys now and then end_process), which the
// regression scripts run too.
func (w *world) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"create_session":      w.drawCreateSession,
		"create_agent":        w.drawCreateAgent,
		"open_page":           w.drawOpenPage,
		"make_busy":           w.drawMakeBusy,
		"make_idle":           w.drawMakeIdle,
		"send_keys":           w.drawKeys,
		"send_to_agent":       w.drawSendMessage,
		"read_agent":          w.drawRead,
		"update_state":        w.drawUpdateState,
		"delete_session":      w.drawDeleteSession,
		"delete_child":        w.drawDeleteChild,
		"inject_stop_failure": w.drawInjectStopFailure,
		"restore_session":     w.drawRestoreSession,
		"expire":              w.drawExpire,
		"restart":             func(t *rapid.T) { w.restart(t) },
		"":                    func(t *rapid.T) { w.check(t) },
	}
}

// pickSession draws a live session; ok is false when there is none. The action then does
// nothing rather than skip: a skipped action makes rapid draw another in its place, which
// keeps the shrinker from removing the action that enabled it.
func (w *world) pickSession(t *rapid.T) (id string, ok bool) {
	ids := w.m.liveIDs()
	if len(ids) == 0 {
		return "", false
	}
	return rapid.SampledFrom(ids).Draw(t, "session"), true
}

// pickChild draws a child that satisfies ok; found is false when there is none (the action
// then does nothing, as with pickSession).
func (w *world) pickChild(t *rapid.T, ok func(*mChild) bool) (sessionID, name string, found bool) {
	var refs [][2]string
	for _, id := range w.m.liveIDs() {
		for _, c := range w.m.sessions[id].children {
			if ok(c) {
				refs = append(refs, [2]string{id, c.name})
			}
		}
	}
	if len(refs) == 0 {
		return "", "", false
	}
	ref := refs[rapid.IntRange(0, len(refs)-1).Draw(t, "child")]
	return ref[0], ref[1], true
}

// pickAnyID draws a session id, most often a live one: ops on other ids only check the error.
func (w *world) pickAnyID(t *rapid.T) string {
	if ids := w.m.liveIDs(); len(ids) > 0 && rapid.IntRange(0, 3).Draw(t, "live") > 0 {
		return rapid.SampledFrom(ids).Draw(t, "id")
	}
	return rapid.SampledFrom(sessionIDs).Draw(t, "id")
}

func (w *world) drawCreateSession(t *rapid.T) {
	id := rapid.SampledFrom(sessionIDs).Draw(t, "id")
	short := rapid.Bool().Draw(t, "short_timeout")
	w.createSession(t, id, short)
}

func (w *world) drawCreateAgent(t *rapid.T) {
	sid, ok := w.pickSession(t)
	if !ok {
		return
	}
	name := rapid.SampledFrom(childNames).Draw(t, "name")
	mode := rapid.SampledFrom([]string{interactive, perMessage, terminal}).Draw(t, "mode")
	rows, cols := 0, 0
	if mode == terminal {
		// From the smallest terminal allowed, but two columns wider: the longest text and two
		// keys fit a row, so that what was typed never wraps off a two-row screen (typeKeys).
		rows = rapid.IntRange(messages.MinTerminalRows, 8).Draw(t, "rows")
		cols = rapid.IntRange(messages.MinTerminalCols+2, 40).Draw(t, "cols")
	}
	w.createAgent(t, sid, name, mode, rows, cols)
}

// The children the agent actions pick: any agent, a running terminal agent, one with a process
// of its own that takes input (not per-message).
func isAgent(c *mChild) bool      { return c.kind == kindAgent }
func liveTerminal(c *mChild) bool { return c.kind == kindAgent && c.mode == terminal && !c.exited }
func takesInput(c *mChild) bool   { return c.kind == kindAgent && c.mode != perMessage }

// pickMostly draws a child that satisfies preferred seven times in eight when there is one,
// else one that satisfies ok: the terminal calls on other agents (and on exited ones) only check a refusal.
func (w *world) pickMostly(t *rapid.T, preferred, ok func(*mChild) bool) (sessionID, name string, found bool) {
	if rapid.IntRange(0, 7).Draw(t, "preferred") > 0 {
		if sid, name, found := w.pickChild(t, preferred); found {
			return sid, name, true
		}
	}
	return w.pickChild(t, ok)
}

// drawKeys presses keys on an agent (send_keys), or ends its input (its process exits). The
// terminal ops share three actions (drawKeys, drawSendMessage, drawRead) so that they do not
// thin out the others: rapid draws actions evenly, and the rarest outcomes of mustReach need
// their share.
func (w *world) drawKeys(t *rapid.T) {
	if rapid.IntRange(0, 4).Draw(t, "end") == 0 {
		w.drawEndProcess(t)
		return
	}
	w.drawTypeKeys(t)
}

func (w *world) drawEndProcess(t *rapid.T) {
	sid, name, ok := w.pickMostly(t, liveTerminal, func(c *mChild) bool { return takesInput(c) && !c.exited })
	if !ok {
		return
	}
	w.endProcess(t, sid, name, rapid.IntRange(0, 2).Draw(t, "code"))
}

// drawRead reads an agent's screen (read_agent_screen) or output (read_agent_output).
func (w *world) drawRead(t *rapid.T) {
	if rapid.Bool().Draw(t, "screen") {
		w.drawReadScreen(t)
	} else {
		w.drawReadOutput(t)
	}
}

func (w *world) drawTypeKeys(t *rapid.T) {
	sid, name, ok := w.pickMostly(t, liveTerminal, isAgent)
	if !ok {
		return
	}
	text := rapid.SampledFrom(append([]string{""}, texts...)).Draw(t, "text")
	keys := rapid.SliceOfN(rapid.SampledFrom(keyNames), 0, 2).Draw(t, "keys")
	if rapid.IntRange(0, 2).Draw(t, "bad_key") == 0 {
		i := rapid.IntRange(0, len(keys)).Draw(t, "bad_key_at")
		keys = slices.Insert(keys, i, badKey)
	}
	wait := rapid.SampledFrom([]string{waitNone, waitNone, waitNone, waitTyped, waitBadPat}).Draw(t, "wait")
	w.typeKeys(t, sid, name, text, keys, wait)
}

func (w *world) drawReadScreen(t *rapid.T) {
	sid, name, ok := w.pickMostly(t, liveTerminal, isAgent)
	if !ok {
		return
	}
	wait := rapid.SampledFrom([]string{waitNone, waitNone, waitTyped, waitOther, waitBadPat}).Draw(t, "wait")
	w.readScreen(t, sid, name, wait)
}

func (w *world) drawSendMessage(t *rapid.T) {
	sid, name, ok := w.pickMostly(t, liveTerminal, takesInput)
	if !ok {
		return
	}
	text := rapid.SampledFrom(texts).Draw(t, "text")
	w.sendMessage(t, sid, name, text, rapid.IntRange(0, 3).Draw(t, "wait") == 0)
}

func (w *world) drawReadOutput(t *rapid.T) {
	sid, name, ok := w.pickChild(t, isAgent)
	if !ok {
		return
	}
	w.readOutput(t, sid, name, rapid.IntRange(0, 3).Draw(t, "wait") == 0)
}

func (w *world) drawOpenPage(t *rapid.T) {
	sid, ok := w.pickSession(t)
	if !ok {
		return
	}
	name := rapid.SampledFrom(childNames).Draw(t, "name")
	w.openPage(t, sid, name)
}

func (w *world) drawMakeBusy(t *rapid.T) {
	sid, name, ok := w.pickChild(t, func(c *mChild) bool { return c.mode == perMessage })
	if !ok {
		return
	}
	w.makeBusy(t, sid, name)
}

func (w *world) drawMakeIdle(t *rapid.T) {
	sid, name, ok := w.pickChild(t, func(c *mChild) bool { return c.busy })
	if !ok {
		return
	}
	w.makeIdle(t, sid, name)
}

func (w *world) drawUpdateState(t *rapid.T) {
	id := w.pickAnyID(t)
	setKeys := rapid.SliceOfNDistinct(rapid.SampledFrom(stateKeys), 0, 2, rapid.ID[string]).Draw(t, "set")
	set := map[string]json.RawMessage{}
	for _, k := range setKeys {
		set[k] = json.RawMessage(rapid.SampledFrom(stateValues).Draw(t, "value"))
	}
	unset := rapid.SliceOfNDistinct(rapid.SampledFrom(stateKeys), 0, 2, rapid.ID[string]).Draw(t, "unset")
	w.updateState(t, id, set, unset)
}

func (w *world) drawDeleteSession(t *rapid.T) {
	id := w.pickAnyID(t)
	opts := deleteOpts{
		force:    rapid.Bool().Draw(t, "force"),
		dryRun:   rapid.Bool().Draw(t, "dry_run"),
		preserve: rapid.Bool().Draw(t, "preserve_work"),
	}
	w.deleteSession(t, id, opts)
}

func (w *world) drawDeleteChild(t *rapid.T) {
	sid, name, ok := w.pickChild(t, func(*mChild) bool { return true })
	if !ok {
		return
	}
	w.deleteChild(t, sid, name, rapid.Bool().Draw(t, "force"))
}

func (w *world) drawInjectStopFailure(t *rapid.T) {
	sid, name, ok := w.pickChild(t, func(c *mChild) bool { return c.hasProcess() && !c.stuck })
	if !ok {
		return
	}
	w.injectStopFailure(t, sid, name)
}

func (w *world) drawRestoreSession(t *rapid.T) {
	if len(w.m.snapshots) == 0 {
		return
	}
	i := rapid.IntRange(0, len(w.m.snapshots)-1).Draw(t, "snapshot")
	as := rapid.SampledFrom(append([]string{""}, sessionIDs...)).Draw(t, "as")
	w.restoreSession(t, i, as)
}

func (w *world) drawExpire(t *rapid.T) {
	w.expire(t, rapid.SampledFrom(advances).Draw(t, "advance"))
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
