package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/store/storetest"
)

// With etcd down, writes fail closed within the request timeout, saying etcd is unreachable
// and nothing was written; the member's cached view (owners, nodes) still answers; and once a
// TTL passes without a renewal the node fences itself.
func TestEtcdDownWritesFailClosed(t *testing.T) {
	c := newTestCluster(t, 5)
	a, err := c.joinWith(t, "n1", 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	b := c.join(t, "n2")
	sid := ownSome(t, a, 1, "s")[0]
	stopped := time.Now()
	c.etcd.Stop()

	for name, write := range map[string]func() error{
		"PutSession": func() error { return a.store.PutSession(storetest.Record(sid)) },
		"Claim":      func() error { _, err := a.Claim(context.Background(), "new"); return err },
		"SetLoad":    func() error { return a.SetLoad(context.Background(), 1) },
	} {
		start := time.Now()
		err := write()
		took := time.Since(start)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "etcd is unreachable") || !strings.Contains(err.Error(), "nothing was written") {
			t.Fatalf("%s with etcd down: err = %v; want ErrUnavailable saying nothing was written", name, err)
		}
		if bound := a.opts.RequestTimeout + 2*time.Second; took > bound {
			t.Fatalf("%s with etcd down took %v; want it bounded by the request timeout (%v)", name, took, a.opts.RequestTimeout)
		}
	}
	if _, err := a.store.Tombstone(sid); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a read with etcd down: err = %v, want ErrUnavailable", err)
	}
	if got := b.CachedOwner(sid); got != "n1" {
		t.Fatalf("n2's cached owner of %s = %q, want n1", sid, got)
	}
	if got := len(a.CachedNodes()); got != 2 {
		t.Fatalf("n1's cached view has %d nodes, want 2", got)
	}
	waitFenced(t, a, stopped)
	if err := a.store.PutSession(storetest.Record(sid)); !errors.Is(err, ErrFenced) {
		t.Fatalf("a write once fenced: err = %v, want ErrFenced", err)
	}
}
