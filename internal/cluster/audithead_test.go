package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// fakeHead is an audit log's durable head that a test moves.
type fakeHead struct {
	mu   sync.Mutex
	seq  uint64
	hash string
}

func (f *fakeHead) set(seq uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq, f.hash = seq, fmt.Sprintf("%064x", seq)
}

func (f *fakeHead) get() (uint64, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq, f.hash
}

func readHeads(t *testing.T, c *testCluster) map[string]AuditHead {
	t.Helper()
	heads, err := ReadAuditHeads(context.Background(), c.config("reader"))
	if err != nil {
		t.Fatal(err)
	}
	return heads
}

// publishing joins n1 to a new cluster and publishes its (fake) head from seq on, every 20 ms;
// it returns once seq is published. The publisher is stopped when the test ends.
func publishing(t *testing.T, seq uint64) (*testCluster, *testNode, *fakeHead, *AuditHeadPublisher) {
	t.Helper()
	c := newTestCluster(t, 2)
	n := c.join(t, "n1")
	h := &fakeHead{}
	h.set(seq)
	p := PublishAuditHeads(n.Member, h.get, 20*time.Millisecond)
	t.Cleanup(func() { _ = p.Stop() })
	testutil.Eventually(t, 10*time.Second, fmt.Sprintf("head seq %d published", seq), func() bool { return readHeads(t, c)["n1"].Seq == seq })
	return c, n, h, p
}

// The head is published at once, again when it moves and only then, once more at Stop, and it
// stays after the node has left (it is not under the lease).
func TestPublishAuditHeads(t *testing.T) {
	c, n, h, p := publishing(t, 1)

	cli := c.etcd.Client(t)
	rev := func() int64 {
		r, err := cli.Get(context.Background(), auditHeadKey("n1"))
		if err != nil || len(r.Kvs) != 1 {
			t.Fatalf("get head: %v", err)
		}
		return r.Kvs[0].ModRevision
	}
	before := rev()
	time.Sleep(150 * time.Millisecond) // several ticks with nothing new
	if got := rev(); got != before {
		t.Fatalf("head rewritten without a change: revision %d, then %d", before, got)
	}
	h.set(7)
	testutil.Eventually(t, 10*time.Second, "head seq 7 published", func() bool { return readHeads(t, c)["n1"].Seq == 7 })

	h.set(9) // Stop publishes what the last tick may not have seen
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	var none *AuditHeadPublisher // a daemon that runs alone
	if err := none.Stop(); err != nil {
		t.Fatalf("Stop on nil: %v", err)
	}
	got, ok := p.Published()
	if !ok || got.Seq != 9 || got.Hash != fmt.Sprintf("%064x", 9) || got.Node != "n1" {
		t.Fatalf("Published() = %+v, %v; want n1 at seq 9", got, ok)
	}
	if err := n.Leave(); err != nil {
		t.Fatal(err)
	}
	head := readHeads(t, c)["n1"]
	if head.Seq != 9 || head.Hash != got.Hash || head.Time.IsZero() {
		t.Fatalf("after the node left: head %+v; want seq 9, kept", head)
	}
	again := c.join(t, "n1")
	if mine, err := again.AuditHead(context.Background()); err != nil || mine == nil || *mine != head {
		t.Fatalf("AuditHead() = %+v, %v; want %+v", mine, err, head)
	}
}

// A head rewritten by anyone else is left as it is: the publisher stops and says why.
func TestPublishAuditHeadsStopsWhenRewritten(t *testing.T) {
	c, _, h, p := publishing(t, 3)
	forged := `{"node":"n1","seq":2,"hash":"` + fmt.Sprintf("%064x", 2) + `"}`
	if _, err := c.etcd.Client(t).Put(context.Background(), auditHeadKey("n1"), forged); err != nil {
		t.Fatal(err)
	}
	h.set(4)
	if err := p.Stop(); !errors.Is(err, ErrAuditHeadChanged) {
		t.Fatalf("Stop: %v; want ErrAuditHeadChanged", err)
	}
	if head := readHeads(t, c)["n1"]; head.Seq != 2 {
		t.Fatalf("head %+v; want the rewritten seq 2 left in place", head)
	}
}

// A head a publisher sent without hearing back, found there later, is its own: it goes on.
func TestPublishAuditHeadsAdoptsItsLostWrite(t *testing.T) {
	c := newTestCluster(t, 2)
	n := c.join(t, "n1")
	h := &fakeHead{}
	h.set(5)
	p := &AuditHeadPublisher{m: n.Member, head: h.get, tried: map[string]bool{}}
	if err := p.publish(); err != nil {
		t.Fatal(err)
	}
	// The write of seq 6 "lost its answer": it landed, but the publisher kept the old revision.
	h.set(6)
	p.tried[triedKey(h.get())] = true
	seq, hash := h.get()
	lost := fmt.Sprintf(`{"node":"n1","seq":%d,"hash":%q}`, seq, hash)
	if _, err := c.etcd.Client(t).Put(context.Background(), auditHeadKey("n1"), lost); err != nil {
		t.Fatal(err)
	}
	h.set(8)
	if err := p.publish(); err != nil {
		t.Fatalf("publish after a lost write: %v", err)
	}
	if head := readHeads(t, c)["n1"]; head.Seq != 8 {
		t.Fatalf("head %+v; want seq 8", head)
	}
}
