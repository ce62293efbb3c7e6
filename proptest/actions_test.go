package proptest

import (
	"encoding/json"
	"maps"
	"slices"

	"pgregory.net/rapid"
)

// actions are the state machine's actions; "" is the invariant check, run after each. Each
// action draws its arguments (from slices, never from map order, so that shrinking works)
// and runs the op of the same name (ops_test.go), which the regression scripts run too.
func (w *world) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"create_session":      w.drawCreateSession,
		"create_agent":        w.drawCreateAgent,
		"open_page":           w.drawOpenPage,
		"make_busy":           w.drawMakeBusy,
		"make_idle":           w.drawMakeIdle,
		"send_keys":           w.drawTypeKeys,
		"read_screen":         w.drawReadScreen,
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
	w.createAgent(t, sid, name, mode)
}

func (w *world) drawTypeKeys(t *rapid.T) {
	sid, name, ok := w.pickChild(t, func(c *mChild) bool { return c.kind == kindAgent })
	if !ok {
		return
	}
	text := rapid.SampledFrom([]string{"ls", "echo hi", "héllo 中文"}).Draw(t, "text")
	keys := rapid.SliceOfN(rapid.SampledFrom(append([]string{"Entr"}, keyNames...)), 0, 2).Draw(t, "keys")
	w.typeKeys(t, sid, name, text, append(keys, "Enter"))
}

func (w *world) drawReadScreen(t *rapid.T) {
	sid, name, ok := w.pickChild(t, func(c *mChild) bool { return c.kind == kindAgent })
	if !ok {
		return
	}
	w.readScreen(t, sid, name)
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
