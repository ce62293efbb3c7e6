package actors

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

func TestCreateGetAndGeneratedIDs(t *testing.T) {
	h := newHarness(t, nil)
	info := h.mustCreate("alpha")
	if info.SessionID != "alpha" || info.Status != messages.StatusActive {
		t.Fatalf("got %+v, want active alpha", info)
	}
	gen := h.create(&messages.CreateSession{Name: "no id"})
	if gen.Err != nil || !ValidID(gen.Session.SessionID) || !strings.HasPrefix(gen.Session.SessionID, "s-") {
		t.Fatalf("generated session = %+v, %v; want a valid s- id", gen.Session, gen.Err)
	}
	got := h.get("alpha")
	if got.Err != nil || got.Session.SessionID != "alpha" {
		t.Fatalf("get alpha = %+v", got)
	}
	if want := info.CreatedAt.Add(time.Hour); !got.Session.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at = %v, want %v", got.Session.ExpiresAt, want)
	}
}

func TestBadIDsAndDuplicates(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("dup")
	wantCode(t, h.create(&messages.CreateSession{SessionID: "dup"}).Err, messages.CodeAlreadyExists)
	for _, bad := range []string{"-lead", "has space", "a/b", strings.Repeat("x", 65), "ünï"} {
		wantCode(t, h.create(&messages.CreateSession{SessionID: bad}).Err, messages.CodeInvalidArgument)
		wantCode(t, h.get(bad).Err, messages.CodeInvalidArgument)
	}
	wantCode(t, h.get("nobody").Err, messages.CodeNotFound)
}

func TestSessionLimit(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxSessions = 2 })
	h.mustCreate("a")
	h.mustCreate("b")
	r := h.create(&messages.CreateSession{SessionID: "c"})
	wantCode(t, r.Err, messages.CodeLimitExceeded)
	if !strings.Contains(r.Err.Message, "2") || !strings.Contains(r.Err.Message, "TROUPE_MAX_SESSIONS") {
		t.Fatalf("limit message %q should state the limit and how to raise it", r.Err.Message)
	}
}

func TestUpdateStateAndLimit(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxStateBytes = 100 })
	h.mustCreate("s")
	r := testutil.AsUpdateSessionState(h.ask(&messages.UpdateSessionState{SessionID: "s", Set: map[string]json.RawMessage{"a": json.RawMessage(`1`), "b": json.RawMessage(`"x"`)}}))
	if r.Err != nil || len(r.State) != 2 {
		t.Fatalf("set: %+v", r)
	}
	r = testutil.AsUpdateSessionState(h.ask(&messages.UpdateSessionState{SessionID: "s", Unset: []string{"a"}}))
	if r.Err != nil || len(r.State) != 1 || string(r.State["b"]) != `"x"` {
		t.Fatalf("unset: %+v", r)
	}
	big := json.RawMessage(`"` + strings.Repeat("y", 200) + `"`)
	r = testutil.AsUpdateSessionState(h.ask(&messages.UpdateSessionState{SessionID: "s", Set: map[string]json.RawMessage{"big": big}}))
	wantCode(t, r.Err, messages.CodeTooLarge)
	if got := h.get("s").Session.State; len(got) != 1 {
		t.Fatalf("state after refused update = %v, want unchanged", got)
	}
	r = testutil.AsUpdateSessionState(h.ask(&messages.UpdateSessionState{SessionID: "s", Set: map[string]json.RawMessage{"b": json.RawMessage(`2`)}, Unset: []string{"b"}}))
	wantCode(t, r.Err, messages.CodeInvalidArgument)
}

func TestStateSurvivesRestart(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("keep")
	h.ask(&messages.UpdateSessionState{SessionID: "keep", Set: map[string]json.RawMessage{"k": json.RawMessage(`{"v":[1,2]}`)}})
	h.restart()
	got := h.get("keep")
	if got.Err != nil || string(got.Session.State["k"]) != `{"v":[1,2]}` {
		t.Fatalf("after restart: %+v", got)
	}
}

func TestDeleteIsDurableAndNamesSnapshot(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("gone")
	dry := testutil.AsDeleteSession(h.ask(&messages.DeleteSession{SessionID: "gone", DryRun: true}))
	if dry.Err != nil || !dry.DryRun || h.get("gone").Err != nil {
		t.Fatalf("dry run changed something: %+v", dry)
	}
	res := testutil.AsDeleteSession(h.ask(&messages.DeleteSession{SessionID: "gone"}))
	if res.Err != nil || res.SnapshotID == "" {
		t.Fatalf("delete: %+v", res)
	}
	r := h.get("gone")
	wantCode(t, r.Err, messages.CodeNotFound)
	if !strings.Contains(r.Err.Message, res.SnapshotID) {
		t.Fatalf("message %q should name snapshot %s", r.Err.Message, res.SnapshotID)
	}
	h.restart()
	wantCode(t, h.get("gone").Err, messages.CodeNotFound)
	// The id can be used again.
	h.mustCreate("gone")
}

func TestIdleExpiry(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("idle")
	h.mustCreate("busy")
	h.create(&messages.CreateSession{SessionID: "short", IdleTimeoutSeconds: 60})
	h.clock.Advance(30 * time.Minute)
	h.get("busy") // activity
	h.clock.Advance(31 * time.Minute)
	sw := testutil.AsSweepIdle(h.ask(&messages.SweepIdle{}))
	if fmt.Sprint(sw.Expiring) != "[idle short]" {
		t.Fatalf("expiring = %v, want [idle short]", sw.Expiring)
	}
	waitFor(t, func() bool { r := h.get("idle"); return r.Err != nil && r.Err.Code != messages.CodeDeleting })
	r := h.get("idle")
	wantCode(t, r.Err, messages.CodeExpired)
	if !strings.Contains(r.Err.Message, "restore_session") || !strings.Contains(r.Err.Message, "2026-11-21T09:01:00Z") {
		t.Fatalf("expired message %q should say when and how to restore", r.Err.Message)
	}
	if h.get("busy").Err != nil {
		t.Fatal("active session expired")
	}
	// The two expire one after the other: "short" may still be on its way when "idle" is done.
	var m *messages.SessionMetricsResult
	waitFor(t, func() bool {
		m = testutil.AsSessionMetrics(h.ask(&messages.SessionMetrics{})).SessionMetricsResult
		return m.Expired == 2
	})
	if m.TotalSessions != 1 {
		t.Fatalf("metrics = %+v, want 2 expired, 1 left", *m)
	}
}

func TestActivityFlushedAcrossRestart(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("a")
	h.clock.Advance(50 * time.Minute)
	h.get("a")
	h.restart()
	h.clock.Advance(20 * time.Minute)
	h.ask(&messages.SweepIdle{})
	if r := h.get("a"); r.Err != nil {
		t.Fatalf("session expired though it was used 20 minutes ago: %v", r.Err)
	}
}

func TestConcurrentCreates(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxSessions = 100 })
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := h.create(&messages.CreateSession{SessionID: fmt.Sprintf("c%02d", i)}); r.Err != nil {
				errs <- r.Err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	l := testutil.AsListSessions(h.ask(&messages.ListSessions{}))
	if len(l.Sessions) != 40 || l.Sessions[0].SessionID != "c00" || l.Sessions[39].SessionID != "c39" {
		t.Fatalf("list has %d sessions, want 40 sorted", len(l.Sessions))
	}
}

func TestStoreFailureLosesNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("s")
	h.store.FailWrites(fmt.Errorf("disk full"))
	r := h.create(&messages.CreateSession{SessionID: "t"})
	wantCode(t, r.Err, messages.CodeInternal)
	u := testutil.AsUpdateSessionState(h.ask(&messages.UpdateSessionState{SessionID: "s", Set: map[string]json.RawMessage{"a": json.RawMessage(`1`)}}))
	wantCode(t, u.Err, messages.CodeInternal)
	d := testutil.AsDeleteSession(h.ask(&messages.DeleteSession{SessionID: "s"}))
	wantCode(t, d.Err, messages.CodeInternal)
	h.store.FailWrites(nil)
	waitFor(t, func() bool { return h.get("t").Err != nil })
	if g := h.get("s"); g.Err != nil || len(g.Session.State) != 0 {
		t.Fatalf("after failed writes: %+v, want s unchanged", g)
	}
	h.mustCreate("t")
}

func TestLabelsFilter(t *testing.T) {
	h := newHarness(t, nil)
	h.create(&messages.CreateSession{SessionID: "a", Labels: map[string]string{"team": "red"}})
	h.create(&messages.CreateSession{SessionID: "b", Labels: map[string]string{"team": "blue"}})
	h.create(&messages.CreateSession{SessionID: "c"})
	for label, want := range map[string]int{"team": 2, "team=red": 1, "team=green": 0, "": 3} {
		l := testutil.AsListSessions(h.ask(&messages.ListSessions{Label: label}))
		if len(l.Sessions) != want {
			t.Errorf("label %q: %d sessions, want %d", label, len(l.Sessions), want)
		}
	}
}

// waitFor polls cond until it holds or 5 s pass; describe, if given, says what was seen.
func waitFor(t *testing.T, cond func() bool, describe ...func() string) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, "condition", cond, describe...)
}
