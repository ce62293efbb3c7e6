package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Nodes returns the live members as etcd has them now, by name.
func (m *Member) Nodes(ctx context.Context) ([]NodeInfo, error) {
	resp, err := m.get(ctx, "list the cluster's nodes", nodesPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	out := make([]NodeInfo, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var n NodeInfo
		if err := json.Unmarshal(kv.Value, &n); err != nil {
			return nil, fmt.Errorf("node key %s: %w", kv.Key, err)
		}
		n.Node, n.LeaseID = strings.TrimPrefix(string(kv.Key), nodesPrefix), kv.Lease
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// CachedNodes returns the live members as this member's watched view last saw them. It asks
// nothing of etcd, so it answers while etcd is unreachable, possibly stale.
func (m *Member) CachedNodes() []NodeInfo {
	nodes, _ := m.view.candidates()
	return nodes
}

// SetLoad publishes how many sessions this node runs, in its node key (for `troupe cluster
// status`; placement counts owner keys, which a burst of claims moves at once).
func (m *Member) SetLoad(ctx context.Context, sessions int) error {
	info, _ := json.Marshal(NodeInfo{Node: m.cfg.Node, Address: m.cfg.Advertise, LeaseID: int64(m.lease), Sessions: sessions, Started: m.started})
	_, err := m.memberTxn(ctx, "publish this node's load", clientv3.OpPut(nodeKey(m.cfg.Node), string(info), clientv3.WithLease(m.lease)))
	return err
}
