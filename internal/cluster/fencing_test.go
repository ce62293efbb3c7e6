package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/store/storetest"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// ownSome claims n sessions for node m (through m: each claim is placed by load, so it claims
// until m owns n) and writes their records.
func ownSome(t *testing.T, m *testNode, n int, prefix string) []string {
	t.Helper()
	var mine []string
	for i := 0; len(mine) < n; i++ {
		sid := fmt.Sprintf("%s-%03d", prefix, i)
		if mustClaim(t, m, sid) != m.Node() {
			continue
		}
		if err := m.store.PutSession(storetest.Record(sid)); err != nil {
			t.Fatal(err)
		}
		mine = append(mine, sid)
	}
	return mine
}

// waitFenced fails unless n's OnFenced runs within its TTL + 1 s of since (the last renewal
// was sent before since, and the deadline is that renewal + TTL).
func waitFenced(t *testing.T, n *testNode, since time.Time) {
	t.Helper()
	select {
	case at := <-n.fenced:
		if late := at.Sub(since); late > n.TTL()+time.Second {
			t.Fatalf("OnFenced ran %v after renewals stopped; want within TTL (%v) + 1 s", late, n.TTL())
		}
	case <-time.After(n.TTL() + 5*time.Second):
		t.Fatal("OnFenced did not run")
	}
}

// A node whose renewals stop (as when its process is frozen) fences itself on its own timer
// within TTL + 1 s, and writes nothing more; etcd lets its lease go, its owner keys with it,
// its records stay; the survivors see them as orphans and claim them, spread between them.
func TestANodeThatStopsRenewingIsFencedAndItsSessionsReclaimed(t *testing.T) {
	c := newTestCluster(t, 1)
	n1, n2, n3 := c.join(t, "n1"), c.join(t, "n2"), c.join(t, "n3")
	for _, sid := range sessionIDs("s", 90) {
		node := mustClaim(t, n1, sid)
		w := map[string]*testNode{"n1": n1, "n2": n2, "n3": n3}[node]
		if err := w.store.PutSession(storetest.Record(sid)); err != nil {
			t.Fatal(err)
		}
	}
	lost, err := n1.Owned(context.Background(), "n3")
	if err != nil || len(lost) < 20 {
		t.Fatalf("n3 owns %d sessions (%v); want about 30", len(lost), err)
	}
	r1, r2 := startReclaimer(t, n1), startReclaimer(t, n2)

	paused := time.Now()
	n3.paused.Store(true)
	waitFenced(t, n3, paused)
	if err := n3.store.PutSession(storetest.Record(lost[0])); !errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "join again") {
		t.Fatalf("a write after fencing: err = %v, want ErrFenced saying to join again", err)
	}
	if err := n3.Put(context.Background(), lost[0], sessionKey(lost[0]), "{}"); !errors.Is(err, ErrFenced) {
		t.Fatalf("a fenced Put: err = %v, want ErrFenced", err)
	}

	testutil.Eventually(t, 20*time.Second, "n3's sessions owned by survivors", func() bool {
		per := counts(t, n1)
		return per["n3"] == 0 && per["n1"]+per["n2"] == 90
	}, func() string { o, _ := n1.Orphans(context.Background()); return strings.Join(o, ",") })
	r1.halt()
	r2.halt()
	per := counts(t, n1)
	t.Logf("after n3's loss: %v; re-claims through n1 %v, through n2 %v", per, r1.claimed, r2.claimed)
	within20(t, "sessions per survivor", per, "n1", "n2")
	got := map[string]int{}
	for _, r := range []*reclaimer{r1, r2} {
		for n, k := range r.claimed {
			got[n] += k
		}
	}
	if got["n1"] == 0 || got["n2"] == 0 {
		t.Fatalf("re-claims went %v; want them spread over both survivors", got)
	}
	// The records outlived their owner: each is there, whole, for its new owner.
	recs, err := n1.store.AllSessions(context.Background())
	if err != nil || len(recs) != 90 {
		t.Fatalf("AllSessions = %d records, %v; want 90", len(recs), err)
	}
	// n3 joins again under a new lease; the old member still writes nothing.
	var again *testNode
	testutil.Eventually(t, 10*time.Second, "n3 joins again", func() bool {
		again, err = c.tryJoin(t, "n3")
		return err == nil
	})
	if again.Lease() == n3.Lease() {
		t.Fatal("n3 joined again under its old lease")
	}
	if err := n3.store.PutSession(storetest.Record(lost[0])); !errors.Is(err, ErrFenced) {
		t.Fatalf("the old member writes after n3 joined again: err = %v", err)
	}
}

// A node cut off etcd (its client closed) is fenced the same way.
func TestANodeCutOffEtcdIsFenced(t *testing.T) {
	c := newTestCluster(t, 1)
	a := c.join(t, "n1")
	mine := ownSome(t, a, 1, "s")
	cut := time.Now()
	if err := a.cli.Close(); err != nil {
		t.Fatal(err)
	}
	waitFenced(t, a, cut)
	if err := a.store.PutSession(storetest.Record(mine[0])); !errors.Is(err, ErrFenced) {
		t.Fatalf("a write after fencing: err = %v, want ErrFenced", err)
	}
}

// etcd is the second line: a write whose node has not noticed yet that its lease is gone (here
// revoked behind its back) is refused by the transaction itself, and nothing changes.
func TestEtcdRefusesAWriteUnderALostLease(t *testing.T) {
	c := newTestCluster(t, 30)
	a := c.join(t, "n1")
	sid := ownSome(t, a, 1, "s")[0]
	ctx := context.Background()
	if _, err := c.etcd.Client(t).Revoke(ctx, a.Lease()); err != nil {
		t.Fatal(err)
	}
	rec := storetest.Record(sid)
	rec.Name = "written by a zombie"
	err := a.store.PutSession(rec)
	var notOwner *NotOwnerError
	if !errors.As(err, &notOwner) || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("a write under a revoked lease: err = %v, want a NotOwnerError saying nothing was written", err)
	}
	all, _ := a.store.AllSessions(ctx)
	if len(all) != 1 || all[0].Name == rec.Name {
		t.Fatalf("records after the refused write: %+v; want the original", all)
	}
}

// A node may write only the sessions it owns: another node's write is refused, naming the
// owner, for every kind of session write.
func TestFencedWritesNameTheOwner(t *testing.T) {
	c := newTestCluster(t, 30)
	a, b := c.join(t, "n1"), c.join(t, "n2")
	sid := ownSome(t, a, 1, "s")[0]
	rec := storetest.Record(sid)
	snap := store.Snapshot{ID: "snap-" + sid, SessionID: sid, CreatedAt: time.Now(), Session: rec}
	writes := map[string]func() error{
		"PutSession":    func() error { return b.store.PutSession(rec) },
		"PutSessions":   func() error { return b.store.PutSessions([]store.SessionRecord{rec}) },
		"TouchSessions": func() error { return b.store.TouchSessions(map[string]time.Time{sid: time.Now()}) },
		"BeginDelete":   func() error { return b.store.BeginDelete(rec, snap) },
		"PutSnapshot":   func() error { return b.store.PutSnapshot(snap) },
		"FinishDelete":  func() error { return b.store.FinishDelete(sid, snap, store.Tombstone{SessionID: sid}) },
		"Release":       func() error { return b.Release(context.Background(), sid) },
		"Put":           func() error { return b.Put(context.Background(), sid, sessionKey(sid), "{}") },
		"Delete":        func() error { return b.Delete(context.Background(), sid, sessionKey(sid)) },
	}
	for name, w := range writes {
		err := w()
		if !errors.Is(err, ErrNotOwner) || !strings.Contains(err.Error(), `owned by node "n1"`) {
			t.Errorf("%s from n2: err = %v, want ErrNotOwner naming n1", name, err)
		}
	}
	if err := b.Put(context.Background(), sid, ownerKey(sid), "n2"); err == nil || !strings.Contains(err.Error(), "not a record key") {
		t.Errorf("Put of an owner key: err = %v, want a refusal", err)
	}
	got, err := a.store.LoadSessions()
	if err != nil || len(got) != 1 || got[0].Name != rec.Name {
		t.Fatalf("n1's sessions after n2's refused writes: %+v, %v", got, err)
	}
}
