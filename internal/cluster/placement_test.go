package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// 300 sessions claimed through three nodes at once: each owned exactly once, by the node the
// claim named, and the three counts within 20% of each other.
func TestClaim300SessionsSpreadOverThreeNodes(t *testing.T) {
	c := newTestCluster(t, 5)
	nodes := []*testNode{c.join(t, "n1"), c.join(t, "n2"), c.join(t, "n3")}
	for _, n := range nodes {
		testutil.Eventually(t, 10*time.Second, n.Node()+" sees 3 nodes", func() bool { return len(n.CachedNodes()) == 3 })
	}
	all := sessionIDs("s", 300)
	placed := make([]string, len(all))
	var wg sync.WaitGroup
	for w, via := range nodes {
		wg.Go(func() {
			for i := w; i < len(all); i += len(nodes) {
				node, err := via.Claim(context.Background(), all[i])
				if err != nil {
					t.Errorf("claim %s via %s: %v", all[i], via.Node(), err)
				}
				placed[i] = node
			}
		})
	}
	wg.Wait()
	owners, err := nodes[0].Owners(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(owners) != 300 {
		t.Fatalf("%d sessions owned, want 300", len(owners))
	}
	for i, sid := range all {
		if owners[sid] != placed[i] {
			t.Fatalf("session %s: owner %q, but its claim answered %q", sid, owners[sid], placed[i])
		}
	}
	per := counts(t, nodes[0])
	t.Logf("sessions per node: %v", per)
	within20(t, "sessions per node", per, "n1", "n2", "n3")
}

// Two nodes claiming one id at the same moment, 50 times: exactly one wins each time, and the
// other is told who did.
func TestConcurrentClaimsOfOneIDExactlyOneWins(t *testing.T) {
	c := newTestCluster(t, 5)
	a, b := c.join(t, "n1"), c.join(t, "n2")
	for _, sid := range sessionIDs("race", 50) {
		start := make(chan struct{})
		var wg sync.WaitGroup
		res := make([]struct {
			node string
			err  error
		}, 2)
		for i, via := range []*testNode{a, b} {
			wg.Go(func() {
				<-start
				res[i].node, res[i].err = via.Claim(context.Background(), sid)
			})
		}
		close(start)
		wg.Wait()
		won, lost := res[0], res[1]
		if won.err != nil {
			won, lost = lost, won
		}
		if won.err != nil || lost.err == nil {
			t.Fatalf("%s: results %v / %v; want exactly one success", sid, res[0], res[1])
		}
		var owned *AlreadyOwnedError
		if !errors.As(lost.err, &owned) || owned.Owner != won.node || !strings.Contains(lost.err.Error(), won.node) {
			t.Fatalf("%s: the loser got %v; want an AlreadyOwnedError naming %s", sid, lost.err, won.node)
		}
	}
}

// A fourth node joining moves no owner key (same owner, same revision) and takes the next
// claims, being the least loaded.
func TestAFourthNodeJoiningMovesNoSession(t *testing.T) {
	c := newTestCluster(t, 1)
	nodes := []*testNode{c.join(t, "n1"), c.join(t, "n2"), c.join(t, "n3")}
	for i, sid := range sessionIDs("s", 60) {
		mustClaim(t, nodes[i%3], sid)
	}
	before := ownerRevisions(t, nodes[0])
	d := c.join(t, "n4")
	testutil.Eventually(t, 10*time.Second, "n1 sees n4", func() bool { return len(nodes[0].CachedNodes()) == 4 })
	time.Sleep(d.TTL()) // a few renewals of everyone's lease
	after := ownerRevisions(t, nodes[0])
	if len(after) != len(before) {
		t.Fatalf("%d owner keys after n4 joined, want %d", len(after), len(before))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("owner key %s changed from %v to %v when n4 joined", k, v, after[k])
		}
	}
	for _, sid := range sessionIDs("t", 10) {
		if node := mustClaim(t, nodes[0], sid); node != "n4" {
			t.Fatalf("claim %s went to %s; want n4, the least loaded", sid, node)
		}
	}
}

type ownerRev struct {
	node string
	rev  int64
}

func ownerRevisions(t *testing.T, m *testNode) map[string]ownerRev {
	t.Helper()
	resp, err := m.cli.Get(context.Background(), ownersPrefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ownerRev{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = ownerRev{string(kv.Value), kv.ModRevision}
	}
	return out
}

func TestClaimRefusesAnInvalidID(t *testing.T) {
	c := newTestCluster(t, 5)
	a := c.join(t, "n1")
	if _, err := a.Claim(context.Background(), "a/b"); !errors.Is(err, ErrInvalidID) {
		t.Fatalf("claim a/b: err = %v, want ErrInvalidID", err)
	}
}

// Ties are broken by the session, so equal loads still spread, and every member picks alike.
func TestPickSpreadsTiesAndIsDeterministic(t *testing.T) {
	nodes := []NodeInfo{{Node: "n1"}, {Node: "n2"}, {Node: "n3"}}
	got := map[string]int{}
	for _, sid := range sessionIDs("s", 3000) {
		n, _ := pick(nodes, nil, sid, nil)
		again, _ := pick([]NodeInfo{nodes[2], nodes[0], nodes[1]}, nil, sid, nil)
		if n.Node != again.Node {
			t.Fatalf("%s: %s, then %s in another order", sid, n.Node, again.Node)
		}
		got[n.Node]++
	}
	within20(t, "ties broken", got, "n1", "n2", "n3")
	if n, _ := pick(nodes, map[string]int{"n1": 3, "n2": 1, "n3": 2}, "x", nil); n.Node != "n2" {
		t.Fatalf("pick = %s, want n2, the least loaded", n.Node)
	}
	if _, ok := pick(nodes, nil, "x", map[string]bool{"n1": true, "n2": true, "n3": true}); ok {
		t.Fatal("pick with every node skipped found one")
	}
}

// ClaimFor places a session on the node named, only if it has no owner, and refuses a node
// that is not a live member.
func TestClaimForPlacesOnTheNodeNamed(t *testing.T) {
	c := newTestCluster(t, 5)
	a, b := c.join(t, "n1"), c.join(t, "n2")
	testutil.Eventually(t, 10*time.Second, "n1 sees n2", func() bool { return len(a.CachedNodes()) == 2 })
	ctx := context.Background()
	if err := a.ClaimFor(ctx, "s1", "n2"); err != nil {
		t.Fatalf("claim s1 for n2 via n1: %v", err)
	}
	if owner, err := b.Owner(ctx, "s1"); err != nil || owner != "n2" {
		t.Fatalf("owner of s1 = %q, %v; want n2", owner, err)
	}
	var owned *AlreadyOwnedError
	if err := b.ClaimFor(ctx, "s1", "n1"); !errors.As(err, &owned) || owned.Owner != "n2" {
		t.Fatalf("second claim of s1: %v; want an AlreadyOwnedError naming n2", err)
	}
	if err := a.ClaimFor(ctx, "s2", "n9"); !errors.Is(err, ErrNoLiveNode) {
		t.Fatalf("claim for a node that is not a member: %v; want ErrNoLiveNode", err)
	}
	if err := a.ClaimFor(ctx, "a/b", "n1"); !errors.Is(err, ErrInvalidID) {
		t.Fatalf("claim a/b: %v; want ErrInvalidID", err)
	}
}
