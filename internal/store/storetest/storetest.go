// Package storetest is the contract every store.Store keeps, written once and run against each
// implementation: the in-memory and bbolt stores (package store's tests) and the etcd store
// (package cluster's). Only tests import it.
package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// Harness is one fresh, empty store under test.
type Harness struct {
	Store store.Store
	// Own, when set, is called before a session id is written for the first time, or again
	// after its delete finished: a clustered store writes only the sessions its node owns.
	Own func(t *testing.T, sessionID string)
}

func (h Harness) own(t *testing.T, ids ...string) {
	t.Helper()
	if h.Own != nil {
		for _, id := range ids {
			h.Own(t, id)
		}
	}
}

// Run runs the contract; open returns a fresh, empty store for each case (and closes it when
// the test ends).
func Run(t *testing.T, open func(t *testing.T) Harness) {
	cases := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"SessionRoundTrip", sessionRoundTrip},
		{"PutSessionsWritesAll", putSessionsWritesAll},
		{"ConcurrentWritesAllLand", concurrentWritesAllLand},
		{"TouchRaisesOnlyLaterTimes", touchRaisesOnlyLaterTimes},
		{"BeginDeleteWritesBoth", beginDeleteWritesBoth},
		{"FinishDeleteWritesSnapshotAndTombstone", finishDeleteWritesSnapshotAndTombstone},
		{"SnapshotsOldestFirstBySession", snapshotsOldestFirstBySession},
		{"PruneSnapshotsKeepsRecentOnes", pruneSnapshotsKeepsRecentOnes},
		{"BigBrowserStateRoundTrips", bigBrowserStateRoundTrips},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

// Record returns a session record with a little of everything.
func Record(id string) store.SessionRecord {
	return store.SessionRecord{ID: id, Owner: "local", Name: "N " + id, Workspace: "/w/" + id, CreatedAt: t0, LastActivity: t0,
		Status:       messages.StatusActive,
		State:        map[string]json.RawMessage{"k": json.RawMessage(`{"n":1}`)},
		Labels:       map[string]string{"team": "a"},
		Cookies:      []messages.Cookie{{Name: "sid", Value: "v-" + id, Domain: "example.com", Path: "/"}},
		LocalStorage: map[string]map[string]string{"https://example.com": {"token": "t-" + id}},
		Children:     []store.ChildSpec{{ID: id + "/agent-1", Kind: "agent", Name: "agent-1", CreatedAt: t0, Spec: json.RawMessage(`{"command":["sh"]}`)}},
		NextChild:    2}
}

// same fails the test when got and want differ in JSON (what every store keeps).
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		if len(g) > 400 || len(w) > 400 {
			t.Fatalf("%s: got %d bytes of JSON, want %d (they differ)", what, len(g), len(w))
		}
		t.Fatalf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, s store.Store) []store.SessionRecord {
	t.Helper()
	recs, err := s.LoadSessions()
	must(t, err)
	return recs
}

func sessionRoundTrip(t *testing.T, h Harness) {
	h.own(t, "alpha")
	rec := Record("alpha")
	must(t, h.Store.PutSession(rec))
	same(t, "LoadSessions after a put", load(t, h.Store), []store.SessionRecord{rec})
	rec.Name, rec.State = "renamed", nil
	must(t, h.Store.PutSession(rec))
	same(t, "LoadSessions after a replacing put", load(t, h.Store), []store.SessionRecord{rec})
}

func putSessionsWritesAll(t *testing.T, h Harness) {
	var recs []store.SessionRecord
	for i := range 120 { // more than one etcd transaction holds
		id := fmt.Sprintf("s%03d", i)
		h.own(t, id)
		recs = append(recs, Record(id))
	}
	must(t, h.Store.PutSessions(recs))
	same(t, "LoadSessions after PutSessions", load(t, h.Store), recs)
}

func concurrentWritesAllLand(t *testing.T, h Harness) {
	var want []store.SessionRecord
	for i := range 64 {
		id := fmt.Sprintf("c%02d", i)
		h.own(t, id)
		want = append(want, Record(id))
	}
	var wg sync.WaitGroup
	for _, rec := range want {
		wg.Go(func() {
			if err := h.Store.PutSession(rec); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	same(t, "LoadSessions after 64 concurrent puts", load(t, h.Store), want)
}

func touchRaisesOnlyLaterTimes(t *testing.T, h Harness) {
	h.own(t, "a")
	rec := Record("a")
	must(t, h.Store.PutSession(rec))
	must(t, h.Store.TouchSessions(map[string]time.Time{"a": t0.Add(-time.Hour), "unknown": t0}))
	same(t, "after an earlier time", load(t, h.Store), []store.SessionRecord{rec})
	rec.LastActivity = t0.Add(time.Hour)
	must(t, h.Store.TouchSessions(map[string]time.Time{"a": rec.LastActivity}))
	same(t, "after a later time", load(t, h.Store), []store.SessionRecord{rec})
}

func beginDeleteWritesBoth(t *testing.T, h Harness) {
	h.own(t, "b")
	rec := Record("b")
	must(t, h.Store.PutSession(rec))
	snap := store.Snapshot{ID: "snap-b", SessionID: "b", Reason: "deleted", CreatedAt: t0, Session: rec, PreserveWork: true}
	rec.Status, rec.SnapshotID = messages.StatusDeleting, snap.ID
	must(t, h.Store.BeginDelete(rec, snap))
	same(t, "the record", load(t, h.Store), []store.SessionRecord{rec})
	got, err := h.Store.Snapshot(snap.ID)
	must(t, err)
	same(t, "the snapshot", got, snap)
}

func finishDeleteWritesSnapshotAndTombstone(t *testing.T, h Harness) {
	h.own(t, "beta")
	rec := Record("beta")
	must(t, h.Store.PutSession(rec))
	if _, err := h.Store.Tombstone("beta"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Tombstone of a live session: err = %v, want ErrNotFound", err)
	}
	snap := store.Snapshot{ID: "snap-1", SessionID: "beta", Reason: "expired", CreatedAt: t0, Session: rec, Completed: true}
	tomb := store.Tombstone{SessionID: "beta", Reason: "expired", At: t0, SnapshotID: "snap-1", Owner: "local"}
	must(t, h.Store.FinishDelete("beta", snap, tomb))
	if live := load(t, h.Store); len(live) != 0 {
		t.Fatalf("live sessions after FinishDelete = %d, want 0", len(live))
	}
	gotTomb, err := h.Store.Tombstone("beta")
	must(t, err)
	same(t, "the tombstone", gotTomb, tomb)
	gotSnap, err := h.Store.Snapshot("snap-1")
	must(t, err)
	same(t, "the snapshot", gotSnap, snap)
	// Re-creating the id clears the tombstone.
	h.own(t, "beta")
	must(t, h.Store.PutSession(rec))
	if _, err := h.Store.Tombstone("beta"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Tombstone after re-create: err = %v, want ErrNotFound", err)
	}
}

func snapshotsOldestFirstBySession(t *testing.T, h Harness) {
	h.own(t, "x", "y")
	for _, s := range []store.Snapshot{
		{ID: "s1", SessionID: "x", CreatedAt: t0.Add(2 * time.Minute)},
		{ID: "s2", SessionID: "y", CreatedAt: t0.Add(time.Minute)},
		{ID: "s3", SessionID: "x", CreatedAt: t0},
	} {
		must(t, h.Store.PutSnapshot(s))
	}
	ids := func(sid string) string {
		snaps, err := h.Store.Snapshots(sid)
		must(t, err)
		var out []string
		for _, s := range snaps {
			out = append(out, s.ID)
		}
		return strings.Join(out, ",")
	}
	if got := ids(""); got != "s3,s2,s1" {
		t.Fatalf("Snapshots(\"\") = %s, want s3,s2,s1", got)
	}
	if got := ids("x"); got != "s3,s1" {
		t.Fatalf("Snapshots(x) = %s, want s3,s1", got)
	}
	if _, err := h.Store.Snapshot("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Snapshot(nope): err = %v, want ErrNotFound", err)
	}
	must(t, h.Store.DeleteSnapshot("s2"))
	if got := ids(""); got != "s3,s1" {
		t.Fatalf("Snapshots after deleting s2 = %s, want s3,s1", got)
	}
}

func pruneSnapshotsKeepsRecentOnes(t *testing.T, h Harness) {
	h.own(t, "x")
	now := time.Now()
	for i, age := range []time.Duration{10 * 24 * time.Hour, 8 * 24 * time.Hour, time.Hour} {
		must(t, h.Store.PutSnapshot(store.Snapshot{ID: fmt.Sprint("s", i), SessionID: "x", CreatedAt: now.Add(-age)}))
	}
	n, err := h.Store.PruneSnapshots(now.Add(-7 * 24 * time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PruneSnapshots = %d, %v; want 2", n, err)
	}
	left, err := h.Store.Snapshots("")
	must(t, err)
	if len(left) != 1 || left[0].ID != "s2" {
		t.Fatalf("left = %+v, want only s2", left)
	}
}

// BigLocalStorage returns localStorage of about n bytes over a few origins (a login's browser
// state can reach 8 MiB, more than etcd takes in one request).
func BigLocalStorage(n int) map[string]map[string]string {
	out := map[string]map[string]string{}
	chunk := strings.Repeat("x", 64<<10)
	for i := 0; i*len(chunk) < n; i++ {
		origin := fmt.Sprintf("https://app%d.example.com", i%4)
		if out[origin] == nil {
			out[origin] = map[string]string{}
		}
		out[origin][fmt.Sprintf("key-%04d", i)] = fmt.Sprintf("%04d", i) + chunk
	}
	return out
}

func bigBrowserStateRoundTrips(t *testing.T, h Harness) {
	h.own(t, "big")
	rec := Record("big")
	rec.LocalStorage = BigLocalStorage(8 << 20)
	must(t, h.Store.PutSession(rec))
	same(t, "a record with 8 MiB of localStorage", load(t, h.Store), []store.SessionRecord{rec})
	rec.LastActivity = t0.Add(time.Minute)
	must(t, h.Store.TouchSessions(map[string]time.Time{"big": rec.LastActivity}))
	same(t, "the same, touched", load(t, h.Store), []store.SessionRecord{rec})
	snap := store.Snapshot{ID: "snap-big", SessionID: "big", Reason: "deleted", CreatedAt: t0, Session: rec, Completed: true}
	must(t, h.Store.FinishDelete("big", snap, store.Tombstone{SessionID: "big", Reason: "deleted", At: t0, SnapshotID: snap.ID}))
	got, err := h.Store.Snapshot(snap.ID)
	must(t, err)
	same(t, "its snapshot", got, snap)
}
