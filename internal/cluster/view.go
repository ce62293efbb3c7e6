package cluster

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// view is a member's watched copy of the live nodes and the session owners. Placement counts
// load in it; it still answers (stale) while etcd is unreachable.
type view struct {
	mu     sync.Mutex
	rev    int64               // the last revision applied
	nodes  map[string]NodeInfo // live members
	owners map[string]string   // session → node
	load   map[string]int      // node → sessions owned

	// released are told of every owner key deleted, and of every re-read (with ""): what the
	// orphan watchers check. They must not block.
	released map[int]func(sid string)
	nextSub  int
}

func newView() *view {
	return &view{nodes: map[string]NodeInfo{}, owners: map[string]string{}, load: map[string]int{}, released: map[int]func(string){}}
}

// loadView reads nodes and owners in one range at one revision.
func (m *Member) loadView(ctx context.Context) error {
	resp, err := m.get(ctx, "read the cluster's nodes and owners", nodesPrefix, clientv3.WithRange(viewEnd))
	if err != nil {
		return err
	}
	m.view.reset(resp.Kvs, resp.Header.Revision)
	return nil
}

// watchView keeps the view current, re-reading it whenever the watch breaks (a compaction, a
// lost leader).
func (m *Member) watchView() {
	defer m.wg.Done()
	for first := true; m.ctx.Err() == nil; first = false {
		if !first {
			if err := m.loadView(m.ctx); err != nil {
				m.log.Warn().Err(err).Msg("cluster: re-read the view")
				sleep(m.ctx, m.ttl/3)
				continue
			}
		}
		m.view.mu.Lock()
		from := m.view.rev + 1
		m.view.mu.Unlock()
		m.watchFrom(from)
	}
}

// watchFrom applies the view's changes from revision from on, until the watch breaks.
func (m *Member) watchFrom(from int64) {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(m.ctx))
	defer cancel() // a broken watch's stream goes with it
	for wr := range m.cli.Watch(ctx, nodesPrefix, clientv3.WithRange(viewEnd), clientv3.WithRev(from)) {
		if err := wr.Err(); err != nil {
			m.log.Warn().Err(err).Msg("cluster: view watch broke; re-reading")
			return
		}
		m.view.apply(wr.Events, wr.Header.Revision)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (v *view) reset(kvs []*mvccpb.KeyValue, rev int64) {
	v.mu.Lock()
	gone := v.owners
	v.nodes, v.owners, v.load = map[string]NodeInfo{}, map[string]string{}, map[string]int{}
	for _, kv := range kvs {
		v.put(kv)
	}
	v.rev = rev
	for sid := range v.owners {
		delete(gone, sid)
	}
	subs := v.subscribers()
	v.mu.Unlock()
	for _, f := range subs {
		for sid := range gone {
			f(sid)
		}
		f("")
	}
}

func (v *view) apply(events []*clientv3.Event, rev int64) {
	v.mu.Lock()
	var gone []string
	for _, ev := range events {
		if ev.Type == clientv3.EventTypePut {
			v.put(ev.Kv)
		} else if sid := v.del(ev.Kv); sid != "" {
			gone = append(gone, sid)
		}
	}
	v.rev = max(v.rev, rev)
	subs := v.subscribers()
	v.mu.Unlock()
	for _, f := range subs {
		for _, sid := range gone {
			f(sid)
		}
	}
}

// put applies one key; v.mu is held.
func (v *view) put(kv *mvccpb.KeyValue) {
	key := string(kv.Key)
	switch {
	case strings.HasPrefix(key, nodesPrefix):
		var n NodeInfo
		if json.Unmarshal(kv.Value, &n) == nil {
			n.LeaseID = kv.Lease // the key's own lease is the truth
			v.nodes[strings.TrimPrefix(key, nodesPrefix)] = n
		}
	case strings.HasPrefix(key, ownersPrefix):
		v.setOwner(strings.TrimPrefix(key, ownersPrefix), string(kv.Value))
	}
}

// del applies one deletion and returns the session id when it was an owner key; v.mu is held.
func (v *view) del(kv *mvccpb.KeyValue) string {
	key := string(kv.Key)
	switch {
	case strings.HasPrefix(key, nodesPrefix):
		delete(v.nodes, strings.TrimPrefix(key, nodesPrefix))
	case strings.HasPrefix(key, ownersPrefix):
		sid := strings.TrimPrefix(key, ownersPrefix)
		if node, ok := v.owners[sid]; ok {
			v.load[node]--
			delete(v.owners, sid)
		}
		return sid
	}
	return ""
}

func (v *view) setOwner(sid, node string) {
	if old, ok := v.owners[sid]; ok {
		if old == node {
			return
		}
		v.load[old]--
	}
	v.owners[sid] = node
	v.load[node]++
}

// claimed records a claim this member made at rev, ahead of the watch, so that the next
// placement already counts it; a watch that has passed rev has applied it already.
func (v *view) claimed(sid, node string, rev int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if rev > v.rev {
		v.setOwner(sid, node)
	}
}

// candidates returns the live nodes with their loads, by name.
func (v *view) candidates() ([]NodeInfo, map[string]int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	nodes := make([]NodeInfo, 0, len(v.nodes))
	for _, n := range v.nodes {
		nodes = append(nodes, n)
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Node < nodes[j].Node })
	load := make(map[string]int, len(v.load))
	for k, n := range v.load {
		load[k] = n
	}
	return nodes, load
}

// subscribe adds f to the released subscribers until cancel is called.
func (v *view) subscribe(f func(sid string)) (cancel func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	id := v.nextSub
	v.nextSub++
	v.released[id] = f
	return func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		delete(v.released, id)
	}
}

// subscribers returns the released subscribers; v.mu is held.
func (v *view) subscribers() []func(string) {
	out := make([]func(string), 0, len(v.released))
	for _, f := range v.released {
		out = append(out, f)
	}
	return out
}
