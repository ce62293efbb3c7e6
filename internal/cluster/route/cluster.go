package route

import (
	"context"
	"errors"

	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/store"
)

// Cluster is what the router needs to know of the cluster: who this node is, who owns a
// session, where a new one goes, and where each node's gateway listens. Member adapts a
// cluster.Member to it; tests may fake it.
type Cluster interface {
	// Self is this node's name.
	Self() string
	// Owner returns the node that owns session sid now, asking etcd; "" and no error when no
	// node does (the session does not exist, or was lost with its node and is not claimed yet).
	Owner(ctx context.Context, sid string) (string, error)
	// CachedOwner returns the owner of sid as last seen, asking no one ("" for none known).
	CachedOwner(sid string) string
	// Claim places a new session on the least-loaded live node and returns that node; a
	// *cluster.AlreadyOwnedError when it has an owner already.
	Claim(ctx context.Context, sid string) (string, error)
	// ClaimFor places a new session on the node named; a *cluster.AlreadyOwnedError when it
	// has an owner already.
	ClaimFor(ctx context.Context, sid, node string) error
	// Release gives up this node's ownership of sid (after a create that failed).
	Release(ctx context.Context, sid string) error
	// Nodes returns the live nodes, as last seen.
	Nodes() []Node
	// SnapshotSession returns the id of the session a snapshot was taken of; "" and no error
	// when there is no such snapshot.
	SnapshotSession(ctx context.Context, snapshotID string) (string, error)
}

// Node is a live node and the address of its gateway (its cluster.advertise).
type Node struct {
	Name    string
	Address string
}

// SnapshotReader reads a snapshot: the cluster's store (cluster.EtcdStore).
type SnapshotReader interface {
	Snapshot(id string) (store.Snapshot, error)
}

// Member returns m, with the snapshots of st, as the router's Cluster.
func Member(m *cluster.Member, st SnapshotReader) Cluster { return member{m, st} }

type member struct {
	m  *cluster.Member
	st SnapshotReader
}

func (c member) Self() string { return c.m.Node() }

func (c member) Owner(ctx context.Context, sid string) (string, error) {
	node, err := c.m.Owner(ctx, sid)
	if errors.Is(err, cluster.ErrNoOwner) {
		return "", nil
	}
	return node, err
}

func (c member) CachedOwner(sid string) string { return c.m.CachedOwner(sid) }

func (c member) Claim(ctx context.Context, sid string) (string, error) { return c.m.Claim(ctx, sid) }

func (c member) ClaimFor(ctx context.Context, sid, node string) error {
	return c.m.ClaimFor(ctx, sid, node)
}

func (c member) Release(ctx context.Context, sid string) error { return c.m.Release(ctx, sid) }

func (c member) Nodes() []Node {
	infos := c.m.CachedNodes()
	out := make([]Node, len(infos))
	for i, n := range infos {
		out[i] = Node{Name: n.Node, Address: n.Address}
	}
	return out
}

func (c member) SnapshotSession(_ context.Context, id string) (string, error) {
	snap, err := c.st.Snapshot(id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return snap.SessionID, err
}
