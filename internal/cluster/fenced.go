package cluster

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Put writes a record of session sid — a key under /troupe/sessions/, /troupe/snapshots/ or
// /troupe/tombstones/ — only if sid's owner is this node under its current lease; otherwise
// nothing is written and a NotOwnerError says who owns it. The record is not attached to any
// lease: it outlives its owner.
func (m *Member) Put(ctx context.Context, sid, key, value string) error {
	if err := recordKey(key); err != nil {
		return err
	}
	_, err := m.fencedTxn(ctx, fmt.Sprintf("write %s", key), []string{sid}, nil, clientv3.OpPut(key, value))
	return err
}

// Delete removes a record of session sid under the same fence as Put.
func (m *Member) Delete(ctx context.Context, sid, key string) error {
	if err := recordKey(key); err != nil {
		return err
	}
	_, err := m.fencedTxn(ctx, fmt.Sprintf("delete %s", key), []string{sid}, nil, clientv3.OpDelete(key))
	return err
}

func recordKey(key string) error {
	for _, p := range []string{sessionsPrefix, snapshotsPrefix, tombsPrefix} {
		if strings.HasPrefix(key, p) && len(key) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("key %q is not a record key: records live under %s, %s or %s", key, sessionsPrefix, snapshotsPrefix, tombsPrefix)
}

// fencedTxn runs ops in one transaction only if every session in sids is owned by this node
// under its current lease, and cmps hold. When the fence fails it returns the NotOwnerError of
// the first session not owned; when only cmps fail, errConflict.
func (m *Member) fencedTxn(ctx context.Context, op string, sids []string, cmps []clientv3.Cmp, ops ...clientv3.Op) (*clientv3.TxnResponse, error) {
	if err := m.live(); err != nil {
		return nil, err
	}
	fence := make([]clientv3.Cmp, 0, 2*len(sids)+len(cmps))
	explain := make([]clientv3.Op, 0, len(sids))
	for _, sid := range sids {
		fence = append(fence,
			clientv3.Compare(clientv3.Value(ownerKey(sid)), "=", m.cfg.Node),
			clientv3.Compare(clientv3.LeaseValue(ownerKey(sid)), "=", m.lease))
		explain = append(explain, clientv3.OpGet(ownerKey(sid)))
	}
	resp, err := m.txn(ctx, op, append(fence, cmps...), ops, explain)
	if err != nil || resp.Succeeded {
		return resp, err
	}
	for i, sid := range sids {
		e := &NotOwnerError{SessionID: sid, Node: m.cfg.Node, Lease: m.lease}
		if kvs := resp.Responses[i].GetResponseRange().Kvs; len(kvs) == 1 {
			e.Owner, e.OwnerLease = string(kvs[0].Value), clientv3.LeaseID(kvs[0].Lease)
		}
		if e.Owner != m.cfg.Node || e.OwnerLease != m.lease {
			return nil, fmt.Errorf("%s: %w", op, e)
		}
	}
	return nil, errConflict
}

// memberTxn runs ops only while this node's key is held by its current lease: writes that no
// one session owns (pruning snapshots, the node's own load).
func (m *Member) memberTxn(ctx context.Context, op string, ops ...clientv3.Op) (*clientv3.TxnResponse, error) {
	if err := m.live(); err != nil {
		return nil, err
	}
	resp, err := m.txn(ctx, op, []clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue(nodeKey(m.cfg.Node)), "=", m.lease)}, ops, nil)
	if err == nil && !resp.Succeeded {
		// The node key goes only with the lease: etcd let it expire, so this node is fenced now.
		err = fmt.Errorf("%s: %w: node %q no longer holds its key under lease %x; nothing was written: join again", op, ErrFenced, m.cfg.Node, int64(m.lease))
		m.fence(err)
		return nil, err
	}
	return resp, err
}

func (m *Member) txn(ctx context.Context, op string, cmps []clientv3.Cmp, then, els []clientv3.Op) (*clientv3.TxnResponse, error) {
	var resp *clientv3.TxnResponse
	err := m.call(ctx, op, true, func(ctx context.Context) (err error) {
		resp, err = m.cli.Txn(ctx).If(cmps...).Then(then...).Else(els...).Commit()
		return err
	})
	return resp, err
}
