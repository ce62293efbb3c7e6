package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Status is what `troupe cluster status --json` prints (DESIGN §16).
type Status struct {
	Nodes []NodeStatus `json:"nodes"`
	// Orphans are sessions with a record and no owner: their node was lost and no survivor has
	// claimed them yet.
	Orphans []string `json:"orphans"`
	// Owners maps each owned session to its node.
	Owners map[string]string `json:"owners"`
}

// NodeStatus is one node as etcd knows it. A node listed is alive: its key lives under its lease.
type NodeStatus struct {
	Node     string    `json:"node"`
	Address  string    `json:"address"`
	Alive    bool      `json:"alive"`
	Sessions int       `json:"sessions"`
	LeaseID  int64     `json:"lease_id"`
	Started  time.Time `json:"started"`
}

// ReadStatus reads the cluster's nodes and session owners from etcd, without joining.
func ReadStatus(ctx context.Context, cfg Config) (Status, error) {
	st := Status{Nodes: []NodeStatus{}, Orphans: []string{}, Owners: map[string]string{}}
	cli, err := dial(cfg, DefaultRequestTimeout, "read the cluster's status", false)
	if err != nil {
		return st, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
	defer cancel()
	get := func(p string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
		r, err := cli.Get(ctx, p, append([]clientv3.OpOption{clientv3.WithPrefix()}, opts...)...)
		if err != nil {
			return nil, &UnavailableError{Op: "read the cluster's status", Endpoints: cfg.Etcd, Err: err}
		}
		return r, nil
	}
	nodes, err := get(nodesPrefix)
	if err != nil {
		return st, err
	}
	owners, err := get(ownersPrefix)
	if err != nil {
		return st, err
	}
	records, err := get(sessionsPrefix, clientv3.WithKeysOnly())
	if err != nil {
		return st, err
	}
	count := map[string]int{}
	owned := map[string]bool{}
	for _, kv := range owners.Kvs {
		count[string(kv.Value)]++
		sid := strings.TrimPrefix(string(kv.Key), ownersPrefix)
		owned[sid] = true
		st.Owners[sid] = string(kv.Value)
	}
	for _, kv := range nodes.Kvs {
		var n NodeInfo
		if err := json.Unmarshal(kv.Value, &n); err != nil {
			return st, fmt.Errorf("node key %s: %w", kv.Key, err)
		}
		name := strings.TrimPrefix(string(kv.Key), nodesPrefix)
		st.Nodes = append(st.Nodes, NodeStatus{Node: name, Address: n.Address, Alive: true, Sessions: count[name],
			LeaseID: kv.Lease, Started: n.Started})
		delete(count, name)
	}
	// Owners whose node key is gone: the node's lease is ending (keys go at one revision, so this
	// is only seen between two reads).
	for name, n := range count {
		st.Nodes = append(st.Nodes, NodeStatus{Node: name, Alive: false, Sessions: n})
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].Node < st.Nodes[j].Node })
	for _, kv := range records.Kvs {
		if sid := strings.TrimPrefix(string(kv.Key), sessionsPrefix); !owned[sid] {
			st.Orphans = append(st.Orphans, sid)
		}
	}
	sort.Strings(st.Orphans)
	return st, nil
}

// dial makes an etcd client of cfg's endpoints without joining (a member dials in Join);
// op names what it is for in the error, write whether it would have written.
func dial(cfg Config, timeout time.Duration, op string, write bool) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cfg.Etcd, DialTimeout: timeout, Logger: zap.NewNop()})
	if err != nil {
		return nil, &UnavailableError{Op: op, Endpoints: cfg.Etcd, Write: write, Err: err}
	}
	return cli, nil
}
