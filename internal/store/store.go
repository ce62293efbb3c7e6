// Package store keeps troupe's durable state in one bbolt file (DESIGN §5): live sessions with
// their state, cookies and child specs, the snapshots kept after a delete, and a tombstone per
// deleted session id so that using it again can say what happened and when.
//
// Writes are group-committed: every write waiting at the moment a transaction starts shares that
// transaction and its fsync, so many concurrent callers cost about one fsync each round while a
// lone caller never waits for a batch timer.
package store

import (
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/troupe-dev/troupe/messages"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrUnavailable marks a write the store could not make for a reason outside troupe's data: a
// cluster's etcd unreachable, or this node no longer owning the session (fenced). The caller
// answers it as unavailable (retry later, or elsewhere), not as an internal fault.
var ErrUnavailable = errors.New("the store is unavailable")

// ChildSpec is what it takes to re-create one child of a session: its identity and the
// kind-specific spec (an agent's command, a page's URL), kept as JSON so that the store does not
// depend on the agent and page packages.
type ChildSpec struct {
	ID        string             `json:"id"`
	Kind      messages.ChildKind `json:"kind"`
	Name      string             `json:"name"`
	CreatedAt time.Time          `json:"created_at"`
	Spec      json.RawMessage    `json:"spec,omitempty"`
}

// SessionRecord is one live session as stored.
type SessionRecord struct {
	ID string `json:"id"`
	// Owner is the principal the session belongs to (DESIGN §12): a token's name, or "local";
	// empty in records written before owners were kept, which belong to local.
	Owner          string                     `json:"owner,omitempty"`
	Name           string                     `json:"name,omitempty"`
	Workspace      string                     `json:"workspace,omitempty"`
	WorkspaceOwned bool                       `json:"workspace_owned,omitempty"`
	State          map[string]json.RawMessage `json:"state,omitempty"`
	Labels         map[string]string          `json:"labels,omitempty"`
	Cookies        []messages.Cookie          `json:"cookies,omitempty"`
	// LocalStorage is the browser context's localStorage per origin: key → value (DESIGN §14).
	LocalStorage       map[string]map[string]string `json:"local_storage,omitempty"`
	CreatedAt          time.Time                    `json:"created_at"`
	LastActivity       time.Time                    `json:"last_activity"`
	IdleTimeoutSeconds int64                        `json:"idle_timeout_seconds,omitempty"`
	Status             messages.Status              `json:"status"`
	// SnapshotID is set while Status is deleting: the snapshot the delete works from.
	SnapshotID string      `json:"snapshot_id,omitempty"`
	Children   []ChildSpec `json:"children,omitempty"`
	// NextChild numbers generated child names (agent-1, page-2).
	NextChild int `json:"next_child,omitempty"`
}

// Snapshot is everything about a session at the moment its deletion began (DESIGN §4 step 4).
type Snapshot struct {
	ID        string                 `json:"snapshot_id"`
	SessionID string                 `json:"session_id"`
	Reason    string                 `json:"reason"`
	CreatedAt time.Time              `json:"created_at"`
	Session   SessionRecord          `json:"session"`
	Preserved *messages.Preserved    `json:"preserved,omitempty"`
	Stopped   []string               `json:"stopped,omitempty"`
	Failures  []messages.StopFailure `json:"failures,omitempty"`
	// Completed is set once the session has left the live set.
	Completed bool `json:"completed"`
	// PreserveWork is the delete's preserve_work, so that a delete resumed after a crash
	// preserves as asked.
	PreserveWork bool `json:"preserve_work,omitempty"`
}

// Tombstone records that a session id was deleted or expired, and when.
type Tombstone struct {
	SessionID  string    `json:"session_id"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
	SnapshotID string    `json:"snapshot_id,omitempty"`
	// Owner is the deleted session's owner, so that its id answers as unknown to anyone else.
	Owner string `json:"owner,omitempty"`
}

// SortSnapshots puts snapshots in the order Snapshots returns them: oldest first, ties by id.
func SortSnapshots(snaps []Snapshot) {
	sort.Slice(snaps, func(i, j int) bool {
		if !snaps[i].CreatedAt.Equal(snaps[j].CreatedAt) {
			return snaps[i].CreatedAt.Before(snaps[j].CreatedAt)
		}
		return snaps[i].ID < snaps[j].ID
	})
}

// Store is troupe's durable state. Every method returns only once its change is on disk.
type Store interface {
	// PutSession writes one session record, replacing any previous one, and clears a tombstone
	// of the same id.
	PutSession(rec SessionRecord) error
	// PutSessions writes several records in one transaction (an import, or a benchmark's seed).
	PutSessions(recs []SessionRecord) error
	// LoadSessions returns every live session.
	LoadSessions() ([]SessionRecord, error)
	// TouchSessions raises the stored last_activity of live sessions to the given times
	// (activity is kept in memory and flushed in batches; a read-only call does not fsync).
	TouchSessions(times map[string]time.Time) error
	// BeginDelete writes the snapshot and the record (now status deleting, naming the snapshot)
	// in one transaction, so that both are durable before any child is stopped.
	BeginDelete(rec SessionRecord, snap Snapshot) error
	// PutSnapshot writes a snapshot.
	PutSnapshot(s Snapshot) error
	// FinishDelete removes a live session, writes its final snapshot and its tombstone, at once.
	FinishDelete(sessionID string, snap Snapshot, tomb Tombstone) error
	// Snapshot returns one snapshot, or ErrNotFound.
	Snapshot(id string) (Snapshot, error)
	// Snapshots returns the snapshots, of one session when sessionID is set, oldest first.
	Snapshots(sessionID string) ([]Snapshot, error)
	// DeleteSnapshot removes one snapshot.
	DeleteSnapshot(id string) error
	// PruneSnapshots removes snapshots created before the cutoff and returns how many.
	PruneSnapshots(before time.Time) (int, error)
	// Tombstone returns the tombstone of a deleted session id, or ErrNotFound.
	Tombstone(sessionID string) (Tombstone, error)
	// Close flushes and closes the store.
	Close() error
}
