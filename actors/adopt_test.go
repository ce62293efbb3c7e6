package actors

import (
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
