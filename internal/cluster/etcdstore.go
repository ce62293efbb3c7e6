package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/troupe-dev/troupe/internal/store"
)

// EtcdStore is the store.Store of a node in a cluster (DESIGN §16): session records, snapshots
// and tombstones in etcd, shared by every node. Every write of a session's records goes
// through a fencing transaction: it lands only while this node's current lease owns the
// session (see Member.Put), so a node cut off or frozen past its lease cannot overwrite what
// a survivor restored. Writes that no session owns (deleting and pruning snapshots) need this
// node's membership to be live. Reads need no ownership. Records too big for one etcd request
// keep their heavy fields in the blob dir (see DefaultInlineMax).
//
// Where the bbolt store keeps a node's every session, an EtcdStore's LoadSessions returns the
// sessions this node owns: what it must run. AllSessions lists the cluster's.
type EtcdStore struct {
	m         *Member
	blobs     blobs
	inlineMax int
	closed    atomic.Bool
}

// NewEtcdStore returns the store of member m; its blob dir is m's Config.BlobDir. Closing the
// store does not end the membership.
func NewEtcdStore(m *Member) *EtcdStore {
	return &EtcdStore{m: m, blobs: blobs{dir: m.cfg.BlobDir}, inlineMax: DefaultInlineMax}
}

var _ store.Store = (*EtcdStore)(nil)

// maxTxnRecords bounds the records of one transaction: etcd takes 128 compares (two per
// session here) and 128 operations in one by default.
const maxTxnRecords = 50

// maxTxnBytes bounds the values of one transaction, under etcd's 1.5 MiB request limit.
const maxTxnBytes = 1 << 20

func (s *EtcdStore) open() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// PutSession implements store.Store, fenced by the session's ownership.
func (s *EtcdStore) PutSession(rec store.SessionRecord) error {
	if err := s.open(); err != nil {
		return err
	}
	v, err := s.encodeSession(rec)
	if err != nil {
		return err
	}
	_, err = s.m.fencedTxn(context.Background(), fmt.Sprintf("write session %q", rec.ID), []string{rec.ID}, nil,
		clientv3.OpPut(sessionKey(rec.ID), string(v)), clientv3.OpDelete(tombstoneKey(rec.ID)))
	return err
}

// PutSessions implements store.Store. etcd bounds a transaction's size, so the records go in
// as few transactions as fit (each fenced by the ownership of all its sessions), not one.
func (s *EtcdStore) PutSessions(recs []store.SessionRecord) error {
	if err := s.open(); err != nil {
		return err
	}
	var sids []string
	var ops []clientv3.Op
	size := 0
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		_, err := s.m.fencedTxn(context.Background(), fmt.Sprintf("write %d sessions", len(ops)), sids, nil, ops...)
		sids, ops, size = nil, nil, 0
		return err
	}
	for _, rec := range recs {
		v, err := s.encodeSession(rec)
		if err != nil {
			return err
		}
		// etcd refuses a transaction that writes one key twice: a repeated id starts a new one.
		if len(ops) == maxTxnRecords || size+len(v) > maxTxnBytes || slices.Contains(sids, rec.ID) {
			if err := flush(); err != nil {
				return err
			}
		}
		sids, ops, size = append(sids, rec.ID), append(ops, clientv3.OpPut(sessionKey(rec.ID), string(v))), size+len(v)
	}
	return flush()
}

// LoadSessions implements store.Store: the sessions this node owns under its current lease,
// by id.
func (s *EtcdStore) LoadSessions() ([]store.SessionRecord, error) {
	ctx := context.Background()
	resp, err := s.m.get(ctx, "list this node's sessions", ownersPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	var mine []string
	for _, kv := range resp.Kvs {
		if string(kv.Value) == s.m.cfg.Node && clientv3.LeaseID(kv.Lease) == s.m.lease {
			mine = append(mine, strings.TrimPrefix(string(kv.Key), ownersPrefix))
		}
	}
	out := make([]store.SessionRecord, 0, len(mine))
	for len(mine) > 0 {
		batch := mine[:min(len(mine), maxTxnRecords)]
		mine = mine[len(batch):]
		gets := make([]clientv3.Op, len(batch))
		for i, sid := range batch {
			gets[i] = clientv3.OpGet(sessionKey(sid))
		}
		var tr *clientv3.TxnResponse
		err := s.m.call(ctx, "read this node's sessions", false, func(ctx context.Context) (err error) {
			tr, err = s.m.cli.Txn(ctx).Then(gets...).Commit()
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, r := range tr.Responses {
			for _, kv := range r.GetResponseRange().Kvs { // none: claimed, not yet written
				rec, err := s.decodeSession(string(kv.Key), kv.Value)
				if err != nil {
					return nil, err
				}
				out = append(out, rec)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// AllSessions returns every live session of the cluster, whoever owns it, by id.
func (s *EtcdStore) AllSessions(ctx context.Context) ([]store.SessionRecord, error) {
	var out []store.SessionRecord
	err := s.scan(ctx, "list the cluster's sessions", sessionsPrefix, func(key string, v []byte) error {
		rec, err := s.decodeSession(key, v)
		out = append(out, rec)
		return err
	})
	return out, err
}

// scan calls fn for every key under prefix, in key order.
func (s *EtcdStore) scan(ctx context.Context, op, prefix string, fn func(key string, v []byte) error) error {
	resp, err := s.m.get(ctx, op, prefix, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	for _, kv := range resp.Kvs {
		if err := fn(string(kv.Key), kv.Value); err != nil {
			return err
		}
	}
	return nil
}

// TouchSessions implements store.Store: each session's last_activity is raised by a fenced
// write that also checks the record did not change since it was read (retried if it did). A
// session deleted meanwhile is skipped; one this node does not own is an error, the others
// are still written.
func (s *EtcdStore) TouchSessions(times map[string]time.Time) error {
	if err := s.open(); err != nil {
		return err
	}
	// A write path: a fenced member (or etcd gone past the lease) fails at once instead of
	// waiting for the reads below to time out (a fenced node's shutdown flushes activity).
	if err := s.m.live(); err != nil {
		return err
	}
	ids := make([]string, 0, len(times))
	for id := range times {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var errs []error
	for _, id := range ids {
		err := errConflict
		for try := 0; try < 5 && errors.Is(err, errConflict); try++ {
			err = s.touch(id, times[id])
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// touch rewrites the stored value as it is, blobs still named, with the later time.
func (s *EtcdStore) touch(sid string, at time.Time) error {
	ctx := context.Background()
	resp, err := s.m.get(ctx, fmt.Sprintf("read session %q", sid), sessionKey(sid))
	if err != nil || len(resp.Kvs) == 0 {
		return err
	}
	kv := resp.Kvs[0]
	var r storedSession
	if err := json.Unmarshal(kv.Value, &r); err != nil {
		return fmt.Errorf("%s: %w", kv.Key, err)
	}
	if !at.After(r.LastActivity) {
		return nil
	}
	r.LastActivity = at
	v, err := json.Marshal(&r)
	if err != nil {
		return err
	}
	_, err = s.m.fencedTxn(ctx, fmt.Sprintf("touch session %q", sid), []string{sid},
		[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(sessionKey(sid)), "=", kv.ModRevision)},
		clientv3.OpPut(sessionKey(sid), string(v)))
	return err
}

// Close implements store.Store: later writes fail with store.ErrClosed. The membership goes on.
func (s *EtcdStore) Close() error {
	s.closed.Store(true)
	return nil
}
