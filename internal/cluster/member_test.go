package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/store/storetest"
	"github.com/troupe-dev/troupe/internal/testutil"
)

func TestJoinPublishesTheNodeAndRefusesATakenName(t *testing.T) {
	c := newTestCluster(t, 2)
	a := c.join(t, "n1")
	ctx := context.Background()
	nodes, err := a.Nodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].Node != "n1" || nodes[0].Address != "127.0.0.1:7946" || nodes[0].LeaseID != int64(a.Lease()) {
		t.Fatalf("Nodes = %+v, %v; want n1 at 127.0.0.1:7946 under lease %x", nodes, err, int64(a.Lease()))
	}
	if _, err := c.tryJoin(t, "n1"); !errors.Is(err, ErrNodeTaken) || !strings.Contains(err.Error(), "use another cluster.node") {
		t.Fatalf("a second n1: err = %v, want ErrNodeTaken with advice", err)
	}
	if err := a.SetLoad(ctx, 7); err != nil {
		t.Fatal(err)
	}
	b := c.join(t, "n2")
	testutil.Eventually(t, 10*time.Second, "n2's view shows n1's load", func() bool {
		for _, n := range b.CachedNodes() {
			if n.Node == "n1" && n.Sessions == 7 {
				return true
			}
		}
		return false
	})
	if got := len(a.CachedNodes()); got != 2 {
		t.Fatalf("n1's view has %d nodes, want 2", got)
	}
}

// A member that leaves gives its lease up: its node key and owner keys go at once, its records
// stay, and they are orphans.
func TestLeaveOrphansTheSessionsAtOnce(t *testing.T) {
	c := newTestCluster(t, 30)
	a, b := c.join(t, "n1"), c.join(t, "n2")
	ctx := context.Background()
	for _, sid := range sessionIDs("s", 10) {
		if node := mustClaim(t, a, sid); node == "n1" {
			if err := a.store.PutSession(storetest.Record(sid)); err != nil {
				t.Fatal(err)
			}
		}
	}
	mine, err := a.Owned(ctx, "n1")
	if err != nil || len(mine) == 0 {
		t.Fatalf("n1 owns %v, %v; want some", mine, err)
	}
	if err := a.Leave(); err != nil {
		t.Fatal(err)
	}
	orphans, err := b.Orphans(ctx)
	if err != nil || strings.Join(orphans, ",") != strings.Join(mine, ",") {
		t.Fatalf("orphans after n1 left = %v, %v; want n1's %v", orphans, err, mine)
	}
	// A watch started now sends the orphans there already.
	wctx, stop := context.WithCancel(ctx)
	var seen []string
	for sid := range b.WatchOrphans(wctx) {
		if seen = append(seen, sid); len(seen) == len(mine) {
			stop()
		}
	}
	stop()
	if strings.Join(seen, ",") != strings.Join(mine, ",") {
		t.Fatalf("WatchOrphans sent %v first, want %v", seen, mine)
	}
	if nodes, _ := b.Nodes(ctx); len(nodes) != 1 || nodes[0].Node != "n2" {
		t.Fatalf("nodes after n1 left = %+v, want only n2", nodes)
	}
	if err := a.store.PutSession(storetest.Record(mine[0])); !errors.Is(err, ErrFenced) {
		t.Fatalf("a write after Leave: err = %v, want ErrFenced", err)
	}
	select {
	case <-a.fenced:
		t.Fatal("OnFenced ran on Leave; want it only for a missed renewal")
	default:
	}
}

// Without a client in its options a member dials etcd itself, and closes that client.
func TestJoinDialsEtcdItself(t *testing.T) {
	c := newTestCluster(t, 2)
	m, err := Join(context.Background(), c.config("n1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if owner, err := m.Claim(context.Background(), "s"); err != nil || owner != "n1" {
		t.Fatalf("Claim = %s, %v; want n1", owner, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Claim(context.Background(), "t"); !errors.Is(err, ErrFenced) {
		t.Fatalf("Claim after Close: err = %v, want ErrFenced", err)
	}
}

// Joining an etcd nobody answers at fails within the request timeout, saying so.
func TestJoinWithEtcdDownSaysSo(t *testing.T) {
	c := newTestCluster(t, 2)
	cfg := c.config("n1")
	c.etcd.Stop()
	_, err := Join(context.Background(), cfg, Options{RequestTimeout: 500 * time.Millisecond})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), cfg.Etcd[0]) {
		t.Fatalf("Join with etcd down: err = %v, want ErrUnavailable naming %s", err, cfg.Etcd[0])
	}
}
