package cluster

import (
	"context"
	"fmt"
	"hash/fnv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/troupe-dev/troupe/internal/ids"
)

// Claim places a new (or orphaned) session: it picks the least-loaded live node and makes it the
// owner, under that node's lease, only if the session has no owner yet. Of two claims of one id
// at once exactly one wins; the other gets an AlreadyOwnedError naming the owner. It returns
// the owning node. An owner is never moved: a node joining later changes nothing.
func (m *Member) Claim(ctx context.Context, sid string) (string, error) {
	if !ids.Valid(sid) {
		return "", fmt.Errorf("%w %q: use %s", ErrInvalidID, sid, ids.Rule)
	}
	if err := m.live(); err != nil {
		return "", err
	}
	skip := map[string]bool{}
	for {
		nodes, load := m.view.candidates()
		target, ok := pick(nodes, load, sid, skip)
		if !ok {
			return "", fmt.Errorf("%w: claim session %q: every node seen is gone (%d known)", ErrNoLiveNode, sid, len(nodes))
		}
		placed, err := m.claimOn(ctx, sid, target)
		if err != nil {
			return "", err
		}
		if placed {
			return target.Node, nil
		}
		// The target's lease is gone (or was renewed as a new member) since the view saw it.
		skip[target.Node] = true
	}
}

// ClaimFor makes node the owner of sid, under node's lease, only if sid has no owner yet: a
// placement decided by the caller rather than by load (a clone lives where its source does,
// with its workspace and browser state). Like Claim, it answers an AlreadyOwnedError naming
// the owner when another claim won; ErrNoLiveNode when node is not a live member.
func (m *Member) ClaimFor(ctx context.Context, sid, node string) error {
	if !ids.Valid(sid) {
		return fmt.Errorf("%w %q: use %s", ErrInvalidID, sid, ids.Rule)
	}
	if err := m.live(); err != nil {
		return err
	}
	m.view.mu.Lock()
	target, ok := m.view.nodes[node]
	m.view.mu.Unlock()
	if ok {
		placed, err := m.claimOn(ctx, sid, target)
		if err != nil || placed {
			return err
		}
	}
	return fmt.Errorf("%w: claim session %q for node %q: it is not a live member", ErrNoLiveNode, sid, node)
}

// claimOn makes target the owner of sid if sid has no owner and target still holds the lease
// the view saw. It reports false (and no error) when target's lease is gone, and an
// AlreadyOwnedError when sid has an owner.
func (m *Member) claimOn(ctx context.Context, sid string, target NodeInfo) (bool, error) {
	var resp *clientv3.TxnResponse
	err := m.call(ctx, fmt.Sprintf("claim session %q for node %q", sid, target.Node), true, func(ctx context.Context) (err error) {
		resp, err = m.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(ownerKey(sid)), "=", 0),
				clientv3.Compare(clientv3.LeaseValue(nodeKey(target.Node)), "=", target.LeaseID)).
			Then(clientv3.OpPut(ownerKey(sid), target.Node, clientv3.WithLease(clientv3.LeaseID(target.LeaseID)))).
			Else(clientv3.OpGet(ownerKey(sid))).Commit()
		return err
	})
	if err != nil {
		return false, err
	}
	if resp.Succeeded {
		m.view.claimed(sid, target.Node, resp.Header.Revision)
		return true, nil
	}
	if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) == 1 {
		return false, &AlreadyOwnedError{SessionID: sid, Owner: string(kvs[0].Value)}
	}
	return false, nil
}

// pick returns the least-loaded node not skipped; among equals, the one that ranks highest for
// this session (rendezvous hashing), so that ties spread over nodes yet any member picks alike.
func pick(nodes []NodeInfo, load map[string]int, sid string, skip map[string]bool) (NodeInfo, bool) {
	var best NodeInfo
	var bestLoad int
	var bestRank uint64
	found := false
	for _, n := range nodes {
		if skip[n.Node] {
			continue
		}
		l, r := load[n.Node], rank(sid, n.Node)
		if !found || l < bestLoad || (l == bestLoad && r > bestRank) {
			best, bestLoad, bestRank, found = n, l, r, true
		}
	}
	return best, found
}

func rank(sid, node string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(sid))
	h.Write([]byte{0})
	h.Write([]byte(node))
	// FNV's high bits barely move between names that differ in their last byte; murmur3's
	// finalizer mixes them, so that ties are broken evenly.
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
