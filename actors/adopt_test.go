package actors

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// TestAdoptBringsUpWhatTheStoreNowGives: sessions that appear in the store after the start (in
// a cluster: claimed after their node was lost) come up as after a crash; those running are
// left alone, so adopting twice changes nothing.
func TestAdoptBringsUpWhatTheStoreNowGives(t *testing.T) {
	h := newHarness(t, nil)
	h.mustCreate("mine")
	now := h.clock.Now()
	lost := store.SessionRecord{ID: "lost", Name: "from a lost node", CreatedAt: now, LastActivity: now, Status: messages.StatusActive,
		Workspace: t.TempDir()}
	if err := h.store.PutSession(lost); err != nil {
		t.Fatal(err)
	}
	if r := h.get("lost"); r.Err == nil {
		t.Fatal("a session in the store only was already running")
	}
	res := h.ask(&messages.AdoptSessions{}).(*messages.AdoptSessionsResult)
	if res.Err != nil || len(res.Adopted) != 1 || res.Adopted[0] != "lost" {
		t.Fatalf("adopt: %+v", res)
	}
	r := h.get("lost")
	if r.Err != nil || r.Session.Name != "from a lost node" || r.Session.Status != messages.StatusActive {
		t.Fatalf("the adopted session: %+v", r)
	}
	again := h.ask(&messages.AdoptSessions{}).(*messages.AdoptSessionsResult)
	if len(again.Adopted) != 0 {
		t.Fatalf("adopting again brought up %v", again.Adopted)
	}
}

// downStore refuses writes as a cluster's store does when etcd is unreachable.
type downStore struct {
	*store.Memory
	down bool
}

func (s *downStore) PutSession(rec store.SessionRecord) error {
	if s.down {
		return fmt.Errorf("write session %q: etcd is unreachable: nothing was written: %w", rec.ID, store.ErrUnavailable)
	}
	return s.Memory.PutSession(rec)
}

// TestAnUnavailableStoreIsAnsweredAsUnavailable: a write the store could not make for a reason
// outside troupe (etcd down, the session fenced off) is a user-visible unavailable error that
// changes nothing, not an internal fault.
func TestAnUnavailableStoreIsAnsweredAsUnavailable(t *testing.T) {
	st := &downStore{Memory: store.NewMemory()}
	h := newHarness(t, func(o *Options) { o.Store = st })
	h.mustCreate("s")
	st.down = true
	res := h.ask(&messages.UpdateSessionState{SessionID: "s", Set: map[string]json.RawMessage{"k": json.RawMessage(`2`)}})
	e, ok := res.(*messages.Error)
	if !ok || e.Code != messages.CodeUnavailable || !strings.Contains(e.Message, "etcd is unreachable") {
		t.Fatalf("got %#v, want an unavailable error", res)
	}
}
