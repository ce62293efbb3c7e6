package store

import (
	"encoding/json"
	"sort"
	"sync"
	"time"
)

// Memory is an in-memory Store for unit and property tests. Records are copied through JSON, as
// the bbolt store does, so that callers cannot share maps with it. FailWrites makes every write
// fail, to test what happens when the disk does.
type Memory struct {
	mu         sync.Mutex
	sessions   map[string][]byte
	snapshots  map[string][]byte
	tombstones map[string][]byte
	failWrites error
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{sessions: map[string][]byte{}, snapshots: map[string][]byte{}, tombstones: map[string][]byte{}}
}

// FailWrites makes every later write return err (nil restores normal writes).
func (m *Memory) FailWrites(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failWrites = err
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

func (m *Memory) write(fn func()) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWrites != nil {
		return m.failWrites
	}
	fn()
	return nil
}

// PutSession implements Store.
func (m *Memory) PutSession(rec SessionRecord) error {
	return m.write(func() {
		delete(m.tombstones, rec.ID)
		m.sessions[rec.ID] = mustJSON(rec)
	})
}

// PutSessions implements Store.
func (m *Memory) PutSessions(recs []SessionRecord) error {
	return m.write(func() {
		for _, rec := range recs {
			m.sessions[rec.ID] = mustJSON(rec)
		}
	})
}

// LoadSessions implements Store.
func (m *Memory) LoadSessions() ([]SessionRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.sessions))
	for id := range m.sessions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]SessionRecord, 0, len(ids))
	for _, id := range ids {
		var rec SessionRecord
		if err := json.Unmarshal(m.sessions[id], &rec); err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// TouchSessions implements Store.
func (m *Memory) TouchSessions(times map[string]time.Time) error {
	return m.write(func() {
		for id, at := range times {
			data, ok := m.sessions[id]
			if !ok {
				continue
			}
			var rec SessionRecord
			_ = json.Unmarshal(data, &rec)
			if at.After(rec.LastActivity) {
				rec.LastActivity = at
				m.sessions[id] = mustJSON(rec)
			}
		}
	})
}

// BeginDelete implements Store.
func (m *Memory) BeginDelete(rec SessionRecord, snap Snapshot) error {
	return m.write(func() {
		m.snapshots[snap.ID] = mustJSON(snap)
		m.sessions[rec.ID] = mustJSON(rec)
	})
}

// PutSnapshot implements Store.
func (m *Memory) PutSnapshot(snap Snapshot) error {
	return m.write(func() { m.snapshots[snap.ID] = mustJSON(snap) })
}

// FinishDelete implements Store.
func (m *Memory) FinishDelete(sessionID string, snap Snapshot, tomb Tombstone) error {
	return m.write(func() {
		delete(m.sessions, sessionID)
		if snap.ID != "" {
			m.snapshots[snap.ID] = mustJSON(snap)
		}
		m.tombstones[sessionID] = mustJSON(tomb)
	})
}

// Snapshot implements Store.
func (m *Memory) Snapshot(id string) (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var snap Snapshot
	data, ok := m.snapshots[id]
	if !ok {
		return snap, ErrNotFound
	}
	err := json.Unmarshal(data, &snap)
	return snap, err
}

// Snapshots implements Store.
func (m *Memory) Snapshots(sessionID string) ([]Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Snapshot
	for _, data := range m.snapshots {
		var snap Snapshot
		if err := json.Unmarshal(data, &snap); err != nil {
			return nil, err
		}
		if sessionID == "" || snap.SessionID == sessionID {
			out = append(out, snap)
		}
	}
	SortSnapshots(out)
	return out, nil
}

// DeleteSnapshot implements Store.
func (m *Memory) DeleteSnapshot(id string) error {
	return m.write(func() { delete(m.snapshots, id) })
}

// PruneSnapshots implements Store.
func (m *Memory) PruneSnapshots(before time.Time) (int, error) {
	n := 0
	err := m.write(func() {
		for id, data := range m.snapshots {
			var snap Snapshot
			if json.Unmarshal(data, &snap) == nil && snap.CreatedAt.Before(before) {
				delete(m.snapshots, id)
				n++
			}
		}
	})
	return n, err
}

// Tombstone implements Store.
func (m *Memory) Tombstone(sessionID string) (Tombstone, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var t Tombstone
	data, ok := m.tombstones[sessionID]
	if !ok {
		return t, ErrNotFound
	}
	err := json.Unmarshal(data, &t)
	return t, err
}

// Close implements Store.
func (m *Memory) Close() error { return nil }

var (
	_ Store = (*Memory)(nil)
	_ Store = (*Bolt)(nil)
)
