package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/troupe-dev/troupe/internal/store"
)

var (
	jsonMarshal   = json.Marshal
	jsonUnmarshal = json.Unmarshal
)

// BeginDelete implements store.Store: the snapshot and the record (status deleting) in one
// fenced transaction.
func (s *EtcdStore) BeginDelete(rec store.SessionRecord, snap store.Snapshot) error {
	if err := s.open(); err != nil {
		return err
	}
	rv, err := s.encodeSession(rec)
	if err != nil {
		return err
	}
	sv, err := s.encodeSnapshot(snap)
	if err != nil {
		return err
	}
	_, err = s.m.fencedTxn(context.Background(), fmt.Sprintf("begin the delete of session %q", rec.ID), []string{rec.ID}, nil,
		clientv3.OpPut(sessionKey(rec.ID), string(rv)), clientv3.OpPut(snapshotKey(snap.ID), string(sv)))
	return err
}

// PutSnapshot implements store.Store, fenced by the ownership of the snapshot's session.
func (s *EtcdStore) PutSnapshot(snap store.Snapshot) error {
	if err := s.open(); err != nil {
		return err
	}
	v, err := s.encodeSnapshot(snap)
	if err != nil {
		return err
	}
	_, err = s.m.fencedTxn(context.Background(), fmt.Sprintf("write snapshot %q", snap.ID), []string{snap.SessionID}, nil,
		clientv3.OpPut(snapshotKey(snap.ID), string(v)))
	return err
}

// FinishDelete implements store.Store: in one fenced transaction the record goes, the final
// snapshot and the tombstone are written, and this node gives the session's ownership up (a
// restore claims it anew, on whichever node placement picks).
func (s *EtcdStore) FinishDelete(sessionID string, snap store.Snapshot, tomb store.Tombstone) error {
	if err := s.open(); err != nil {
		return err
	}
	tv, err := json.Marshal(tomb)
	if err != nil {
		return err
	}
	ops := []clientv3.Op{clientv3.OpDelete(sessionKey(sessionID)), clientv3.OpPut(tombstoneKey(sessionID), string(tv)), clientv3.OpDelete(ownerKey(sessionID))}
	if snap.ID != "" {
		sv, err := s.encodeSnapshot(snap)
		if err != nil {
			return err
		}
		ops = append(ops, clientv3.OpPut(snapshotKey(snap.ID), string(sv)))
	}
	_, err = s.m.fencedTxn(context.Background(), fmt.Sprintf("finish the delete of session %q", sessionID), []string{sessionID}, nil, ops...)
	return err
}

// get returns the value at key, or store.ErrNotFound.
func (s *EtcdStore) get(op, key string) ([]byte, error) {
	resp, err := s.m.get(context.Background(), op, key)
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, store.ErrNotFound
	}
	return resp.Kvs[0].Value, nil
}

// Snapshot implements store.Store.
func (s *EtcdStore) Snapshot(id string) (store.Snapshot, error) {
	v, err := s.get(fmt.Sprintf("read snapshot %q", id), snapshotKey(id))
	if err != nil {
		return store.Snapshot{}, err
	}
	return s.decodeSnapshot(snapshotKey(id), v)
}

// Snapshots implements store.Store: oldest first, ties by id.
func (s *EtcdStore) Snapshots(sessionID string) ([]store.Snapshot, error) {
	var out []store.Snapshot
	err := s.scan(context.Background(), "list snapshots", snapshotsPrefix, func(key string, v []byte) error {
		snap, err := s.decodeSnapshot(key, v)
		if err == nil && (sessionID == "" || snap.SessionID == sessionID) {
			out = append(out, snap)
		}
		return err
	})
	store.SortSnapshots(out)
	return out, err
}

// DeleteSnapshot implements store.Store; it needs a live membership.
func (s *EtcdStore) DeleteSnapshot(id string) error {
	if err := s.open(); err != nil {
		return err
	}
	_, err := s.m.memberTxn(context.Background(), fmt.Sprintf("delete snapshot %q", id), clientv3.OpDelete(snapshotKey(id)))
	return err
}

// PruneSnapshots implements store.Store; it needs a live membership. Several nodes may prune
// at once: each counts only what it deleted.
func (s *EtcdStore) PruneSnapshots(before time.Time) (int, error) {
	if err := s.open(); err != nil {
		return 0, err
	}
	var old []clientv3.Op
	err := s.scan(context.Background(), "list snapshots to prune", snapshotsPrefix, func(key string, v []byte) error {
		var head struct {
			CreatedAt time.Time `json:"created_at"`
		}
		// An unreadable snapshot is kept: pruning must never hide corruption by deleting it.
		if json.Unmarshal(v, &head) == nil && head.CreatedAt.Before(before) {
			old = append(old, clientv3.OpDelete(key))
		}
		return nil
	})
	n := 0
	for err == nil && len(old) > 0 {
		batch := old[:min(len(old), maxTxnRecords)]
		old = old[len(batch):]
		var resp *clientv3.TxnResponse
		resp, err = s.m.memberTxn(context.Background(), fmt.Sprintf("prune %d snapshots", len(batch)), batch...)
		if err == nil {
			for _, r := range resp.Responses {
				n += int(r.GetResponseDeleteRange().Deleted)
			}
		}
	}
	return n, err
}

// Tombstone implements store.Store.
func (s *EtcdStore) Tombstone(sessionID string) (store.Tombstone, error) {
	var t store.Tombstone
	v, err := s.get(fmt.Sprintf("read the tombstone of %q", sessionID), tombstoneKey(sessionID))
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(v, &t); err != nil {
		return t, fmt.Errorf("%s: %w", tombstoneKey(sessionID), err)
	}
	return t, nil
}

// SweepBlobs removes the blobs no session record or snapshot names any more (earlier browser
// states, records since deleted) that were last written more than grace ago; grace must
// exceed the longest write in flight (a request timeout), an hour is plenty. It needs a live
// membership and reads every record, so it is for an occasional sweep, by one node at a time.
func (s *EtcdStore) SweepBlobs(ctx context.Context, grace time.Duration) (int, error) {
	if err := s.m.live(); err != nil {
		return 0, err
	}
	cutoff := time.Now().Add(-grace)
	keep := map[string]bool{}
	for _, p := range []string{sessionsPrefix, snapshotsPrefix} {
		err := s.scan(ctx, "list the blobs records name", p, func(key string, v []byte) error { return blobRefs(key, v, keep) })
		if err != nil {
			return 0, fmt.Errorf("sweep blobs: nothing removed: %w", err)
		}
	}
	return s.blobs.sweep(keep, cutoff)
}
