package cluster

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/troupe-dev/troupe/internal/store"
)

// DefaultInlineMax is the largest record kept whole in its etcd value. etcd refuses a request
// over 1.5 MiB (its default --max-request-bytes) and a transaction may carry a session record
// and its snapshot together, so a record over this size moves its heavy fields — localStorage,
// state, cookies, in that order, each only while still needed — to the blob dir, content-
// addressed, and its value names them under "$blobs". A login's browser state (up to 8 MiB)
// then costs etcd a few hundred bytes, and a touch of last_activity rewrites no blob.
const DefaultInlineMax = 256 << 10

// storedSession is a session record as etcd holds it.
type storedSession struct {
	store.SessionRecord
	Blobs map[string]string `json:"$blobs,omitempty"`
}

// storedSnapshot is a snapshot as etcd holds it; its session may name blobs too.
type storedSnapshot struct {
	store.Snapshot
	Session storedSession `json:"session"` // shadows Snapshot.Session in JSON
}

// heavyFields are the fields that may move to blobs, biggest first (by what they can hold);
// each is a map or a slice.
var heavyFields = []struct {
	name string
	ptr  func(r *store.SessionRecord) any
}{
	{"local_storage", func(r *store.SessionRecord) any { return &r.LocalStorage }},
	{"state", func(r *store.SessionRecord) any { return &r.State }},
	{"cookies", func(r *store.SessionRecord) any { return &r.Cookies }},
}

// shrink moves r's heavy fields to blobs, one at a time, until marshal (which encodes what
// holds r) fits in max bytes, and returns that encoding.
func (s *EtcdStore) shrink(r *storedSession, marshal func() ([]byte, error)) ([]byte, error) {
	data, err := marshal()
	for _, f := range heavyFields {
		if err != nil || len(data) <= s.inlineMax {
			return data, err
		}
		p := reflect.ValueOf(f.ptr(&r.SessionRecord)).Elem()
		if p.Len() == 0 {
			continue
		}
		raw, err := json.Marshal(p.Interface())
		if err != nil {
			return nil, err
		}
		ref, err := s.blobs.put(raw)
		if err != nil {
			return nil, fmt.Errorf("session %q: keep its %s (%d bytes) in the blob dir: %w", r.ID, f.name, len(raw), err)
		}
		if r.Blobs == nil {
			r.Blobs = map[string]string{}
		}
		r.Blobs[f.name] = ref
		p.SetZero()
		data, err = marshal()
	}
	if err == nil && len(data) > s.inlineMax {
		err = fmt.Errorf("session %q: its record is %d bytes even without its browser state, state and cookies; at most %d fit in etcd", r.ID, len(data), s.inlineMax)
	}
	return data, err
}

// restore reads back the fields r keeps in blobs.
func (s *EtcdStore) restore(r *storedSession) error {
	for _, f := range heavyFields {
		ref, ok := r.Blobs[f.name]
		if !ok {
			continue
		}
		raw, err := s.blobs.get(ref)
		if err != nil {
			return fmt.Errorf("session %q, %s: %w", r.ID, f.name, err)
		}
		if err := json.Unmarshal(raw, f.ptr(&r.SessionRecord)); err != nil {
			return fmt.Errorf("session %q, %s in %s: %w", r.ID, f.name, ref, err)
		}
	}
	r.Blobs = nil
	return nil
}

func (s *EtcdStore) encodeSession(rec store.SessionRecord) ([]byte, error) {
	r := storedSession{SessionRecord: rec}
	return s.shrink(&r, func() ([]byte, error) { return json.Marshal(&r) })
}

func (s *EtcdStore) decodeSession(key string, data []byte) (store.SessionRecord, error) {
	var r storedSession
	if err := json.Unmarshal(data, &r); err != nil {
		return store.SessionRecord{}, fmt.Errorf("%s: %w", key, err)
	}
	err := s.restore(&r)
	return r.SessionRecord, err
}

func (s *EtcdStore) encodeSnapshot(snap store.Snapshot) ([]byte, error) {
	st := storedSnapshot{Snapshot: snap, Session: storedSession{SessionRecord: snap.Session}}
	st.Snapshot.Session = store.SessionRecord{}
	return s.shrink(&st.Session, func() ([]byte, error) { return json.Marshal(&st) })
}

func (s *EtcdStore) decodeSnapshot(key string, data []byte) (store.Snapshot, error) {
	var st storedSnapshot
	if err := json.Unmarshal(data, &st); err != nil {
		return store.Snapshot{}, fmt.Errorf("%s: %w", key, err)
	}
	if err := s.restore(&st.Session); err != nil {
		return store.Snapshot{}, fmt.Errorf("snapshot %q: %w", st.ID, err)
	}
	snap := st.Snapshot
	snap.Session = st.Session.SessionRecord
	return snap, nil
}

// blobRefs adds the blobs a stored session or snapshot value names to keep.
func blobRefs(key string, data []byte, keep map[string]bool) error {
	var v struct {
		Blobs   map[string]string `json:"$blobs"`
		Session struct {
			Blobs map[string]string `json:"$blobs"`
		} `json:"session"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	for _, ref := range v.Blobs {
		keep[ref] = true
	}
	for _, ref := range v.Session.Blobs {
		keep[ref] = true
	}
	return nil
}
