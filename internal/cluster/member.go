package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultRequestTimeout bounds each etcd request when Options.RequestTimeout is 0.
const DefaultRequestTimeout = 5 * time.Second

// Options are what a member needs besides its Config.
type Options struct {
	// Client, when set, is used instead of dialling Config.Etcd; the member does not close it.
	Client *clientv3.Client
	// OnFenced is called once, on its own goroutine, when the lease was not renewed for a whole
	// TTL (counted from the moment the last successful renewal was sent), or etcd said it had
	// expired: the daemon stops its children there. From that moment the member writes nothing.
	// It is not called by Close or Leave.
	OnFenced func(cause error)
	// RequestTimeout bounds every etcd request (default DefaultRequestTimeout): with etcd
	// down, a write fails after it rather than hanging.
	RequestTimeout time.Duration
	// Logger receives what the member does on its own (renewals failing, the view re-read).
	Logger zerolog.Logger
}

// Member is this node's membership: its lease, renewed in the background, its node key, and a
// watched view of the live nodes and session owners. Its methods may be called from any
// goroutine.
type Member struct {
	cfg     Config
	opts    Options
	cli     *clientv3.Client
	ownCli  bool
	lease   clientv3.LeaseID
	ttl     time.Duration
	started time.Time
	log     zerolog.Logger
	view    *view

	ctx  context.Context // cancelled when the membership ends; stops the loops
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu       sync.Mutex
	deadline time.Time // the local fencing deadline: last renewal sent + TTL
	ended    error     // why the membership ended (wraps ErrFenced); nil while live
	endedCh  chan struct{}
	extended chan struct{} // the deadline moved later (buffered 1)

	paused atomic.Bool // tests: renewals stopped, as if the process were frozen
}

// NodeInfo is what /troupe/nodes/<node> holds.
type NodeInfo struct {
	Node    string `json:"node"`
	Address string `json:"address"`
	LeaseID int64  `json:"lease_id"`
	// Sessions is the load the node last reported (SetLoad): how many sessions it runs.
	Sessions int       `json:"sessions"`
	Started  time.Time `json:"started"`
}

// Join makes this daemon a member: it grants a lease of cfg.LeaseSeconds, writes the node key
// under it (refused with ErrNodeTaken while another live member has the name), reads the view
// of nodes and owners, and keeps renewing the lease until Close, Leave or fencing.
func Join(ctx context.Context, cfg Config, opts Options) (*Member, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	m := &Member{cfg: cfg, opts: opts, cli: opts.Client, log: opts.Logger,
		endedCh: make(chan struct{}), extended: make(chan struct{}, 1)}
	if m.cli == nil {
		cli, err := dial(cfg, opts.RequestTimeout, "join the cluster", true)
		if err != nil {
			return nil, err
		}
		m.cli, m.ownCli = cli, true
	}
	m.ctx, m.stop = context.WithCancel(context.Background())
	m.view = newView()
	if err := m.join(ctx); err != nil {
		m.stop()
		if m.ownCli {
			_ = m.cli.Close()
		}
		return nil, err
	}
	m.wg.Add(3)
	go m.renewLoop()
	go m.watchdog()
	go m.watchView()
	return m, nil
}

// join grants the lease, claims the node key and reads the first view.
func (m *Member) join(ctx context.Context) error {
	sent := time.Now()
	var grant *clientv3.LeaseGrantResponse
	err := m.call(ctx, "join the cluster: grant a lease", true, func(ctx context.Context) (err error) {
		grant, err = m.cli.Grant(ctx, int64(m.cfg.LeaseSeconds))
		return err
	})
	if err != nil {
		return err
	}
	// etcd may raise a short TTL to its minimum; the granted one is what expires.
	m.lease, m.ttl, m.started = grant.ID, time.Duration(grant.TTL)*time.Second, sent.UTC()
	m.deadline = sent.Add(m.ttl)
	info, _ := json.Marshal(NodeInfo{Node: m.cfg.Node, Address: m.cfg.Advertise, LeaseID: int64(m.lease), Started: m.started})
	var resp *clientv3.TxnResponse
	err = m.call(ctx, "join the cluster: write the node key", true, func(ctx context.Context) (err error) {
		resp, err = m.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(nodeKey(m.cfg.Node)), "=", 0)).
			Then(clientv3.OpPut(nodeKey(m.cfg.Node), string(info), clientv3.WithLease(m.lease))).
			Else(clientv3.OpGet(nodeKey(m.cfg.Node))).Commit()
		return err
	})
	if err == nil && !resp.Succeeded {
		err = m.nodeTaken(resp)
	}
	if err == nil {
		err = m.loadView(ctx)
	}
	if err != nil {
		m.revoke()
	}
	return err
}

func (m *Member) nodeTaken(resp *clientv3.TxnResponse) error {
	var other NodeInfo
	if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) == 1 {
		_ = json.Unmarshal(kvs[0].Value, &other)
	}
	return fmt.Errorf("%w: node %q joined at %s from %q with lease %x; another daemon uses this name, or this one restarted within its lease: use another cluster.node, or wait up to %d s for that lease to expire",
		ErrNodeTaken, m.cfg.Node, other.Started.Format(time.RFC3339), other.Address, other.LeaseID, m.cfg.LeaseSeconds)
}

// revoke gives the lease up at once, best effort: its node and owner keys vanish with it.
func (m *Member) revoke() {
	_ = m.call(context.Background(), "revoke the lease", true, func(ctx context.Context) error {
		_, err := m.cli.Revoke(ctx, m.lease)
		return err
	})
}

// Node is this member's node name.
func (m *Member) Node() string { return m.cfg.Node }

// Lease is this member's current lease.
func (m *Member) Lease() clientv3.LeaseID { return m.lease }

// TTL is the lease's TTL as etcd granted it.
func (m *Member) TTL() time.Duration { return m.ttl }

// Fenced is closed when the membership ends: fenced, closed or left.
func (m *Member) Fenced() <-chan struct{} { return m.endedCh }

// Err says why the membership ended (wrapping ErrFenced), or nil while it is live.
func (m *Member) Err() error { return m.live() }

// Close stops renewing and watching without giving the lease up: etcd lets it expire after
// its TTL, and survivors then claim this node's sessions, as after a crash. It does not call
// OnFenced. Later writes are refused.
func (m *Member) Close() error {
	m.end(fmt.Errorf("%w: node %q closed its membership; join again to write", ErrFenced, m.cfg.Node))
	m.wg.Wait()
	if m.ownCli {
		return m.cli.Close()
	}
	return nil
}

// Leave gives the lease up, so that this node's key and owner keys vanish at once and
// survivors claim its sessions now rather than after a TTL, then closes. Stop the sessions
// before leaving.
func (m *Member) Leave() error {
	if m.live() == nil {
		m.revoke()
	}
	return m.Close()
}

// live is nil while the member may write, else why not.
func (m *Member) live() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended != nil {
		return m.ended
	}
	if !time.Now().Before(m.deadline) {
		return m.overdue()
	}
	return nil
}

// overdue is the fencing cause once the deadline passed; m.mu is held.
func (m *Member) overdue() error {
	return fmt.Errorf("%w: node %q could not renew lease %x within its %v TTL (it was due by %s); it writes nothing more: join again",
		ErrFenced, m.cfg.Node, int64(m.lease), m.ttl, m.deadline.Format(time.RFC3339Nano))
}

// end records why the membership ended, once, and stops the loops. It reports whether this
// call ended it.
func (m *Member) end(why error) bool {
	m.mu.Lock()
	if m.ended != nil {
		m.mu.Unlock()
		return false
	}
	m.ended = why
	close(m.endedCh)
	m.mu.Unlock()
	m.stop()
	return true
}

// Deadline is the local fencing deadline: when it passes without a renewal, the node is fenced.
// A watchdog outside the daemon's process (which a frozen daemon cannot run) reads it.
func (m *Member) Deadline() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.deadline
}
