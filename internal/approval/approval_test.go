package approval

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTheSameCallFindsItsApproval(t *testing.T) {
	b := New(0, nil)
	a := b.Open("local\x00delete_session\x00{}", Request{Tool: "delete_session", Principal: "local"})
	if !a.New || !strings.HasPrefix(a.ID(), "apr_") || a.Request().RequestedAt.IsZero() {
		t.Fatalf("first open: %+v %+v", a.New, a.Request())
	}
	again := b.Open("local\x00delete_session\x00{}", Request{Tool: "delete_session"})
	if again.New || again.ID() != a.ID() {
		t.Fatalf("the same call made again opened another approval: %s vs %s", again.ID(), a.ID())
	}
	other := b.Open("bob\x00delete_session\x00{}", Request{Tool: "delete_session"})
	if !other.New || other.ID() == a.ID() {
		t.Fatal("another principal's call shared an approval")
	}
	if _, ok := b.Find(a.ID(), "bob\x00delete_session\x00{}"); ok {
		t.Fatal("Find gave an approval to a call it was not opened for")
	}
	if got := b.Pending(nil); len(got) != 2 || got[0].ID != a.ID() {
		t.Fatalf("pending: %+v", got)
	}
	if got := b.Pending(func(r Request) bool { return r.Principal == "local" }); len(got) != 1 {
		t.Fatalf("pending filtered: %+v", got)
	}
}

func TestDecideWakesTheWaiterOnce(t *testing.T) {
	b := New(0, nil)
	a := b.Open("k", Request{Tool: "delete_agent"})
	var wg sync.WaitGroup
	var got Decision
	var ok bool
	wg.Add(1)
	go func() { defer wg.Done(); got, ok = a.Wait(nil, time.Minute) }()
	if _, err := b.Decide(a.ID(), Decision{Approve: true, Approver: "cli:alice"}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !ok || !got.Approve || got.Approver != "cli:alice" || got.At.IsZero() {
		t.Fatalf("waiter got %+v %v", got, ok)
	}
	if _, err := b.Decide(a.ID(), Decision{Approve: false, Approver: "cli:bob"}); !errors.Is(err, ErrDecided) {
		t.Fatalf("a second decision: %v, want ErrDecided", err)
	}
	if len(b.Pending(nil)) != 0 {
		t.Fatal("a decided approval is still listed as pending")
	}
	a.Close()
	if _, _, ok := b.Get(a.ID()); ok {
		t.Fatal("a closed approval is still there")
	}
	if _, err := b.Decide(a.ID(), Decision{Approve: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deciding a closed approval: %v, want ErrNotFound", err)
	}
	if n := b.Open("k", Request{}); !n.New {
		t.Fatal("after its decision was used, the same call must ask again")
	}
}

func TestWaitEndsWithoutADecision(t *testing.T) {
	b := New(0, nil)
	a := b.Open("k", Request{})
	if _, ok := a.Wait(nil, 10*time.Millisecond); ok {
		t.Fatal("a decision out of nowhere")
	}
	done := make(chan struct{})
	close(done)
	if _, ok := a.Wait(done, time.Minute); ok {
		t.Fatal("a decision out of nowhere")
	}
}

func TestADecisionThatCannotBeRecordedIsNotTaken(t *testing.T) {
	fail := errors.New("disk full")
	var recorded []Decision
	b := New(0, func(_ Request, d Decision) error {
		if d.Approver == "broken" {
			return fail
		}
		recorded = append(recorded, d)
		return nil
	})
	a := b.Open("k", Request{})
	if _, err := b.Decide(a.ID(), Decision{Approve: true, Approver: "broken"}); !errors.Is(err, fail) {
		t.Fatalf("got %v, want the recorder's error", err)
	}
	if _, ok := a.Decision(); ok {
		t.Fatal("an unrecorded decision counted")
	}
	if _, err := b.Decide(a.ID(), Decision{Approve: false, Approver: "cli:alice"}); err != nil {
		t.Fatal(err)
	}
	if d, ok := a.Decision(); !ok || d.Approve || len(recorded) != 1 {
		t.Fatalf("decision %+v %v, recorded %+v", d, ok, recorded)
	}
}

func TestApprovalsExpire(t *testing.T) {
	b := New(time.Minute, nil)
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	b.now = func() time.Time { return now }
	a := b.Open("k", Request{})
	now = now.Add(59 * time.Second)
	if len(b.Pending(nil)) != 1 {
		t.Fatal("expired too soon")
	}
	if _, err := b.Decide(a.ID(), Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(59 * time.Second) // a decision gives the call a full TTL to be made again
	if _, _, ok := b.Get(a.ID()); !ok {
		t.Fatal("a decision expired before its TTL")
	}
	now = now.Add(2 * time.Second)
	if _, _, ok := b.Get(a.ID()); ok {
		t.Fatal("a decided approval outlived its TTL")
	}
	if n := b.Open("k", Request{}); !n.New {
		t.Fatal("an expired approval was reused")
	}
}
