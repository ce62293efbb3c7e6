package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Owner returns the node that owns session sid now, or ErrNoOwner.
func (m *Member) Owner(ctx context.Context, sid string) (string, error) {
	resp, err := m.get(ctx, fmt.Sprintf("read the owner of session %q", sid), ownerKey(sid))
	if err != nil {
		return "", err
	}
	if len(resp.Kvs) == 0 {
		return "", fmt.Errorf("%w: session %q", ErrNoOwner, sid)
	}
	return string(resp.Kvs[0].Value), nil
}

// CachedOwner returns the owner of sid as this member's watched view last saw it ("" for
// none). It asks nothing of etcd, so it answers while etcd is unreachable, possibly stale.
func (m *Member) CachedOwner(sid string) string {
	m.view.mu.Lock()
	defer m.view.mu.Unlock()
	return m.view.owners[sid]
}

// Owners returns every owned session and its node, as etcd has them now.
func (m *Member) Owners(ctx context.Context) (map[string]string, error) {
	resp, err := m.get(ctx, "list the session owners", ownersPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out[strings.TrimPrefix(string(kv.Key), ownersPrefix)] = string(kv.Value)
	}
	return out, nil
}

// Owned returns the sessions node owns now, sorted.
func (m *Member) Owned(ctx context.Context, node string) ([]string, error) {
	owners, err := m.Owners(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for sid, n := range owners {
		if n == node {
			out = append(out, sid)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Release gives up this node's ownership of sid (a fenced delete of its owner key): another
// claim may then place it anywhere. A session whose record stays is then an orphan, which
// survivors claim and restore: release only what was stopped, or never written.
func (m *Member) Release(ctx context.Context, sid string) error {
	_, err := m.fencedTxn(ctx, fmt.Sprintf("release session %q", sid), []string{sid}, nil, clientv3.OpDelete(ownerKey(sid)))
	return err
}
