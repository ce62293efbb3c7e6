package proptest

import (
	"context"
	"maps"
	"slices"
	"strings"

	"pgregory.net/rapid"

	"github.com/troupe-dev/troupe/audit"
)

// markerAction is the event the test appends after each action: every event between two
// markers belongs to the action in between. Append returns once the marker (and so every event
// queued before it) is durable, which makes the log complete for reading.
const markerAction = "proptest.step"

// marker appends a step marker and returns its seq.
func (w *world) marker(t *rapid.T, action string) uint64 {
	ev, err := w.log.Append(context.Background(), audit.Event{Action: markerAction, Outcome: "ok",
		Details: map[string]any{"step": w.step, "action": action}})
	if err != nil {
		w.fatalf(t, "audit Append: %v", err)
	}
	prev := w.lastSeq
	w.lastSeq = ev.Seq
	return prev
}

// checkAudit compares the events the last action recorded with the model's, session by
// session (expiries of several sessions run side by side), then verifies the chain. A delete's
// child.stop events are compared first, for a clear message about the stop order.
func (w *world) checkAudit(t *rapid.T) {
	after := w.marker(t, w.action)
	events, err := audit.Query(w.log.Dir(), audit.Filter{})
	if err != nil {
		w.fatalf(t, "audit Query: %v", err)
	}
	got := map[string][]string{}
	stops := map[string][]string{}
	for _, e := range events {
		if e.Seq <= after || e.Seq >= w.lastSeq {
			continue
		}
		got[e.Session] = append(got[e.Session], e.Action+" "+e.Target+" "+e.Outcome)
		if e.Action == audit.ActionChildStop {
			stops[e.Session] = append(stops[e.Session], e.Target)
		}
	}
	want := w.m.expect
	w.m.expect = map[string][]string{}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		var order []string
		for _, ev := range want[id] {
			if f := strings.Fields(ev); f[0] == audit.ActionChildStop {
				order = append(order, f[1])
			}
		}
		if !slices.Equal(stops[id], order) {
			w.fatalf(t, "session %s: children stopped in the order %v, want newest first %v", id, stops[id], order)
		}
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		w.fatalf(t, "audit events\n got: %v\nwant: %v", got, want)
	}
	w.verify(t)
}

func (w *world) verify(t *rapid.T) {
	rep, err := audit.Verify(w.log.Dir())
	if err != nil || !rep.OK {
		w.fatalf(t, "audit Verify: %v %s", err, rep)
	}
}

// checkFinalAudit runs once the log is closed: the chain verifies, and the events of the
// whole run are what the model expected, action by action.
func (w *world) checkFinalAudit(t *rapid.T) {
	w.action = "end of run"
	w.verify(t)
	events, err := audit.Query(w.log.Dir(), audit.Filter{})
	if err != nil {
		w.fatalf(t, "audit Query: %v", err)
	}
	got := map[string]int{}
	for _, e := range events {
		switch e.Action {
		case markerAction, audit.ActionOpen, audit.ActionClose:
		default:
			got[e.Action]++
		}
	}
	if !maps.Equal(got, w.m.totals) {
		w.fatalf(t, "audit events of the run by action %v, want %v", got, w.m.totals)
	}
	if n := len(events); n == 0 || events[n-1].Action != audit.ActionClose {
		w.fatalf(t, "the closed log does not end with %s", audit.ActionClose)
	}
}
