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
		won, err := m.claimOn(ctx, sid, target)
		if err != nil || won {
			return target.Node, err
		}
		// The target's lease is gone (or was renewed as a new member) since the view saw it.
		skip[target.Node] = true
	}
}

// ClaimHere makes this node the owner of a new session, under its own lease, only if the
// session has no owner yet (the placement of a node that serves the session itself).
func (m *Member) ClaimHere(ctx context.Context, sid string) error {
	if !ids.Valid(sid) {
		return fmt.Errorf("%w %q: use %s", ErrInvalidID, sid, ids.Rule)
	}
	if err := m.live(); err != nil {
		return err
	}
	won, err := m.claimOn(ctx, sid, NodeInfo{Node: m.cfg.Node, LeaseID: int64(m.lease)})
	if err == nil && !won {
		err = fmt.Errorf("%w: claim session %q: this node's lease changed", ErrFenced, sid)
	}
	return err
}

// claimOn claims sid for target under target's lease if nobody owns it: won is false when the
// target's lease is not the one given (an AlreadyOwnedError when someone owns it).
func (m *Member) claimOn(ctx context.Context, sid string, target NodeInfo) (won bool, _ error) {
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
