package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The audit anchor: the last seq and hash of the audit log that the store saw durable. The
// audit log keeps a head file of its own, but whoever can rewrite the audit directory can
// rewrite that too; the anchor lives in troupe.db, so `troupe audit verify` can refuse a log
// cut, emptied or rewritten below it (issue 11, item 5). It rides on the store's own
// transactions: recording it costs no fsync of its own.

var (
	bucketMeta = []byte("meta")
	keyAnchor  = []byte("audit_anchor")
)

// ErrBusy says that another process (a running troupe) holds the store file.
var ErrBusy = errors.New("the store is in use by a running troupe")

// AuditAnchor is a point the audit log had durably reached.
type AuditAnchor struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// anchorTracker holds the source of the audit head and what was last written.
type anchorTracker struct {
	mu      sync.Mutex
	src     func() (uint64, string)
	written AuditAnchor
}

// TrackAuditHead makes every transaction of the store also record src's audit head when it
// moved; src must be cheap and must not call the store.
func (s *Bolt) TrackAuditHead(src func() (seq uint64, hash string)) {
	s.anchor.mu.Lock()
	s.anchor.src = src
	s.anchor.mu.Unlock()
}

// putAnchor records the audit head in tx when it moved since the last write.
func (s *Bolt) putAnchor(tx *bolt.Tx) error {
	s.anchor.mu.Lock()
	defer s.anchor.mu.Unlock()
	if s.anchor.src == nil {
		return nil
	}
	seq, hash := s.anchor.src()
	a := AuditAnchor{Seq: seq, Hash: hash}
	if a == s.anchor.written || seq == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(a)
	if err := b.Put(keyAnchor, raw); err != nil {
		return err
	}
	s.anchor.written = a
	return nil
}

// recordAnchor writes the audit head once more (at Close, after the last queued write).
func (s *Bolt) recordAnchor() error { return s.db.Update(s.putAnchor) }

// AuditAnchor returns the anchor this store holds, or nil when it holds none.
func (s *Bolt) AuditAnchor() (*AuditAnchor, error) { return readAnchor(s.db) }

func readAnchor(db *bolt.DB) (*AuditAnchor, error) {
	var a *AuditAnchor
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if b == nil {
			return nil
		}
		raw := b.Get(keyAnchor)
		if raw == nil {
			return nil
		}
		a = new(AuditAnchor)
		return json.Unmarshal(raw, a)
	})
	return a, err
}

// ReadAuditAnchor opens the store file at path read-only and returns its audit anchor (nil
// when it holds none). It answers ErrBusy at once when a running troupe holds the file.
func ReadAuditAnchor(path string) (*AuditAnchor, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, ErrBusy
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	defer db.Close()
	return readAnchor(db)
}
