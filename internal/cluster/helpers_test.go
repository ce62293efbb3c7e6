package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/internal/cluster/etcdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testCluster is an embedded etcd and a shared blob dir that test nodes join, each with its
// own client, as separate daemons would.
type testCluster struct {
	etcd    *etcdtest.Server
	blobDir string
	lease   int
}

func newTestCluster(t *testing.T, leaseSeconds int) *testCluster {
	t.Helper()
	return &testCluster{etcd: etcdtest.Start(t), blobDir: t.TempDir(), lease: leaseSeconds}
}

func (c *testCluster) config(node string) Config {
	return Config{Node: node, Advertise: "127.0.0.1:7946", Etcd: c.etcd.Endpoints(), LeaseSeconds: c.lease, BlobDir: c.blobDir}
}

// testNode is a joined member, what its OnFenced saw, and its store.
type testNode struct {
	*Member
	store  *EtcdStore
	fenced chan time.Time // receives when OnFenced ran
}

// join makes node a member with its own client; it is closed when the test ends.
func (c *testCluster) join(t *testing.T, node string) *testNode {
	t.Helper()
	n, err := c.tryJoin(t, node)
	if err != nil {
		t.Fatalf("join %s: %v", node, err)
	}
	return n
}

func (c *testCluster) tryJoin(t *testing.T, node string) (*testNode, error) {
	t.Helper()
	return c.joinWith(t, node, 2*time.Second)
}

func (c *testCluster) joinWith(t *testing.T, node string, requestTimeout time.Duration) (*testNode, error) {
	t.Helper()
	n := &testNode{fenced: make(chan time.Time, 1)}
	m, err := Join(context.Background(), c.config(node), Options{Client: c.etcd.Client(t), RequestTimeout: requestTimeout,
		OnFenced: func(error) { n.fenced <- time.Now() }})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = m.Close() })
	n.Member, n.store = m, NewEtcdStore(m)
	return n, nil
}

func mustClaim(t *testing.T, via *testNode, sid string) string {
	t.Helper()
	node, err := via.Claim(context.Background(), sid)
	if err != nil {
		t.Fatalf("claim %s via %s: %v", sid, via.Node(), err)
	}
	return node
}

// counts returns how many sessions each node owns now.
func counts(t *testing.T, m *testNode) map[string]int {
	t.Helper()
	owners, err := m.Owners(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, n := range owners {
		out[n]++
	}
	return out
}

// within20 fails unless every named node's count is within 20% of every other's.
func within20(t *testing.T, what string, c map[string]int, nodes ...string) {
	t.Helper()
	lo, hi := -1, 0
	for _, n := range nodes {
		if lo < 0 || c[n] < lo {
			lo = c[n]
		}
		hi = max(hi, c[n])
	}
	if float64(hi) > 1.2*float64(lo) {
		t.Fatalf("%s: counts %v: the largest (%d) is more than 20%% above the smallest (%d)", what, c, hi, lo)
	}
}

// reclaimer claims, through m, every orphan m sees, until stopped; claimed counts what each
// node got through it.
type reclaimer struct {
	stop    context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	claimed map[string]int
}

func startReclaimer(t *testing.T, m *testNode) *reclaimer {
	ctx, stop := context.WithCancel(context.Background())
	r := &reclaimer{stop: stop, done: make(chan struct{}), claimed: map[string]int{}}
	go func() {
		defer close(r.done)
		for sid := range m.WatchOrphans(ctx) {
			node, err := m.Claim(ctx, sid)
			switch {
			case err == nil:
				r.mu.Lock()
				r.claimed[node]++
				r.mu.Unlock()
			case errors.Is(err, ErrAlreadyOwned), ctx.Err() != nil:
			default:
				t.Errorf("re-claim %s via %s: %v", sid, m.Node(), err)
			}
		}
	}()
	t.Cleanup(r.halt)
	return r
}

func (r *reclaimer) halt() {
	r.stop()
	<-r.done
}

func sessionIDs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}
