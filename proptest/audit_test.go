package proptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/troupe-dev/troupe/audit"
)

// markerAction is the event the test appends after each action: every event between two
// markers belongs to the action in between. Append returns once the marker (and so every event
// queued before it) is durable, which makes the log complete for reading.
const markerAction = "proptest.step"

// marker appends a step marker and returns its seq.
func (w *world) marker(t tb, action string) uint64 {
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
func (w *world) checkAudit(t tb) {
	after := w.marker(t, w.action)
	events, err := w.tail.read()
	if err != nil {
		w.fatalf(t, "read the audit log: %v", err)
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

func (w *world) verify(t tb) {
	rep, err := audit.Verify(w.log.Dir())
	if err != nil || !rep.OK {
		w.fatalf(t, "audit Verify: %v %s", err, rep)
	}
}

// checkFinalAudit runs once the log is closed: the chain verifies, and the events of the
// whole run are what the model expected, action by action.
func (w *world) checkFinalAudit(t tb) {
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

// auditTail reads the events appended to the log since it last read, across segments. It is
// called only once a marker is durable and nothing else is being written, so every line it
// finds is complete.
type auditTail struct {
	dir string
	seg int   // the segment being read, from 1
	off int64 // bytes of it already read
}

func (a *auditTail) read() ([]audit.Event, error) {
	var out []audit.Event
	for {
		f, err := os.Open(filepath.Join(a.dir, audit.SegmentName(a.seg)))
		if err != nil {
			return nil, err
		}
		_, err = f.Seek(a.off, io.SeekStart)
		var data []byte
		if err == nil {
			data, err = io.ReadAll(f)
		}
		f.Close()
		if err != nil {
			return nil, err
		}
		end := bytes.LastIndexByte(data, '\n') + 1
		for _, line := range bytes.Split(data[:end], []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var e audit.Event
			if err := json.Unmarshal(line, &e); err != nil {
				return nil, fmt.Errorf("%s at byte %d: %w", audit.SegmentName(a.seg), a.off, err)
			}
			out = append(out, e)
		}
		a.off += int64(end)
		if _, err := os.Stat(filepath.Join(a.dir, audit.SegmentName(a.seg+1))); err != nil {
			return out, nil
		}
		a.seg, a.off = a.seg+1, 0
	}
}
