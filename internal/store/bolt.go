package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var (
	bucketSessions   = []byte("sessions")
	bucketSnapshots  = []byte("snapshots")
	bucketTombstones = []byte("tombstones")
)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store is closed")

// Bolt is the Store on a bbolt file.
type Bolt struct {
	db     *bolt.DB
	writes chan *writeOp

	closeOnce sync.Once
	mu        sync.RWMutex // guards closed against sends on writes
	closed    bool
	done      chan struct{}

	anchor anchorTracker

	// commitHook is the function SetCommitHook set, read by the committer.
	commitHook atomic.Pointer[func(time.Duration)]
}

type writeOp struct {
	fn   func(tx *bolt.Tx) error
	done chan error
}

// Open opens (or creates, mode 0600) the bbolt file at path. It fails after a few seconds,
// with advice, when another troupe holds the file.
func Open(path string) (*Bolt, error) {
	// NoFreelistSync: the freelist is rebuilt at open instead of written at every commit (as etcd
	// does); commits write less, and the store is small enough that the scan at open is cheap.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 3 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: another troupe process is using this data directory; stop it or use another --data-dir", path)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSessions, bucketSnapshots, bucketTombstones} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("prepare store %s: %w", path, err)
	}
	s := &Bolt{db: db, writes: make(chan *writeOp, 1024), done: make(chan struct{})}
	go s.committer()
	return s, nil
}

// committer runs every write waiting at the moment in one transaction (one fsync). A write whose
// function fails is answered with its error and the rest are retried without it, so one bad
// write never takes others down with it.
func (s *Bolt) committer() {
	defer close(s.done)
	for op := range s.writes {
		batch := []*writeOp{op}
	drain:
		for len(batch) < 512 {
			select {
			case more, ok := <-s.writes:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

func (s *Bolt) commit(batch []*writeOp) {
	for len(batch) > 0 {
		failed := -1
		var failErr error
		start := time.Now()
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, op := range batch {
				if err := op.fn(tx); err != nil {
					failed, failErr = i, err
					return err
				}
			}
			return s.putAnchor(tx)
		})
		if fn := s.commitHook.Load(); fn != nil && err == nil {
			(*fn)(time.Since(start))
		}
		if failed >= 0 {
			batch[failed].done <- failErr
			batch = append(batch[:failed:failed], batch[failed+1:]...)
			continue
		}
		for _, op := range batch {
			op.done <- err
		}
		return
	}
}

// SetCommitHook makes the store call fn with the duration of every write transaction it commits
// (one per batch of writes, its fsync included; the metrics' troupe_store_commit_seconds). fn
// runs on the committing goroutine, so it must be quick; nil removes the hook. It may be called
// at any time, from any goroutine.
func (s *Bolt) SetCommitHook(fn func(time.Duration)) {
	if fn == nil {
		s.commitHook.Store(nil)
		return
	}
	s.commitHook.Store(&fn)
}

func (s *Bolt) write(fn func(tx *bolt.Tx) error) error {
	op := &writeOp{fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	s.writes <- op
	s.mu.RUnlock()
	return <-op.done
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

// PutSession implements Store.
func (s *Bolt) PutSession(rec SessionRecord) error {
	return s.write(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketTombstones).Delete([]byte(rec.ID)); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketSessions), rec.ID, rec)
	})
}

// PutSessions implements Store.
func (s *Bolt) PutSessions(recs []SessionRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		for _, rec := range recs {
			if err := putJSON(b, rec.ID, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// LoadSessions implements Store.
func (s *Bolt) LoadSessions() ([]SessionRecord, error) {
	var out []SessionRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var rec SessionRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("session %q: %w", k, err)
			}
			out = append(out, rec)
			return nil
		})
	})
	return out, err
}

// TouchSessions implements Store.
func (s *Bolt) TouchSessions(times map[string]time.Time) error {
	if len(times) == 0 {
		return nil
	}
	return s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		for id, at := range times {
			data := b.Get([]byte(id))
			if data == nil {
				continue // deleted meanwhile
			}
			var rec SessionRecord
			if err := json.Unmarshal(data, &rec); err != nil {
				return fmt.Errorf("session %q: %w", id, err)
			}
			if !at.After(rec.LastActivity) {
				continue
			}
			rec.LastActivity = at
			if err := putJSON(b, id, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// BeginDelete implements Store.
func (s *Bolt) BeginDelete(rec SessionRecord, snap Snapshot) error {
	return s.write(func(tx *bolt.Tx) error {
		if err := putJSON(tx.Bucket(bucketSnapshots), snap.ID, snap); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketSessions), rec.ID, rec)
	})
}

// PutSnapshot implements Store.
func (s *Bolt) PutSnapshot(snap Snapshot) error {
	return s.write(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSnapshots), snap.ID, snap)
	})
}

// FinishDelete implements Store.
func (s *Bolt) FinishDelete(sessionID string, snap Snapshot, tomb Tombstone) error {
	return s.write(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketSessions).Delete([]byte(sessionID)); err != nil {
			return err
		}
		if snap.ID != "" {
			if err := putJSON(tx.Bucket(bucketSnapshots), snap.ID, snap); err != nil {
				return err
			}
		}
		return putJSON(tx.Bucket(bucketTombstones), sessionID, tomb)
	})
}

func getJSON(db *bolt.DB, bucket []byte, key string, v any) error {
	return db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucket).Get([]byte(key))
		if data == nil {
			return ErrNotFound
		}
		return json.Unmarshal(data, v)
	})
}

// Snapshot implements Store.
func (s *Bolt) Snapshot(id string) (Snapshot, error) {
	var snap Snapshot
	err := getJSON(s.db, bucketSnapshots, id, &snap)
	return snap, err
}

// Snapshots implements Store.
func (s *Bolt) Snapshots(sessionID string) ([]Snapshot, error) {
	var out []Snapshot
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSnapshots).ForEach(func(k, v []byte) error {
			var snap Snapshot
			if err := json.Unmarshal(v, &snap); err != nil {
				return fmt.Errorf("snapshot %q: %w", k, err)
			}
			if sessionID == "" || snap.SessionID == sessionID {
				out = append(out, snap)
			}
			return nil
		})
	})
	SortSnapshots(out)
	return out, err
}

// DeleteSnapshot implements Store.
func (s *Bolt) DeleteSnapshot(id string) error {
	return s.write(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSnapshots).Delete([]byte(id))
	})
}

// PruneSnapshots implements Store.
func (s *Bolt) PruneSnapshots(before time.Time) (int, error) {
	n := 0
	err := s.write(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(bucketSnapshots)
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var snap Snapshot
			// An unreadable snapshot is kept: pruning must never hide corruption by deleting it.
			if err := json.Unmarshal(v, &snap); err == nil && snap.CreatedAt.Before(before) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}

// Tombstone implements Store.
func (s *Bolt) Tombstone(sessionID string) (Tombstone, error) {
	var t Tombstone
	err := getJSON(s.db, bucketTombstones, sessionID, &t)
	return t, err
}

// Close implements Store: it waits for queued writes, then closes the file.
func (s *Bolt) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.writes)
		s.mu.Unlock()
		<-s.done
		err = errors.Join(s.recordAnchor(), s.db.Close())
	})
	return err
}
