package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Orphans returns the sessions that have a record but no owner, sorted: the sessions of lost
// nodes (their owner keys vanished with their leases) for survivors to claim.
func (m *Member) Orphans(ctx context.Context) ([]string, error) {
	var resp *clientv3.TxnResponse
	err := m.call(ctx, "list orphaned sessions", false, func(ctx context.Context) (err error) {
		// One transaction: both ranges are read at one revision.
		resp, err = m.cli.Txn(ctx).Then(
			clientv3.OpGet(ownersPrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly()),
			clientv3.OpGet(sessionsPrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())).Commit()
		return err
	})
	if err != nil {
		return nil, err
	}
	owned := map[string]bool{}
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		owned[strings.TrimPrefix(string(kv.Key), ownersPrefix)] = true
	}
	var out []string
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		if sid := strings.TrimPrefix(string(kv.Key), sessionsPrefix); !owned[sid] {
			out = append(out, sid)
		}
	}
	sort.Strings(out)
	return out, nil
}

// isOrphan reports whether sid has a record and no owner, at one revision.
func (m *Member) isOrphan(ctx context.Context, sid string) (bool, error) {
	var resp *clientv3.TxnResponse
	err := m.call(ctx, fmt.Sprintf("check whether session %q is orphaned", sid), false, func(ctx context.Context) (err error) {
		resp, err = m.cli.Txn(ctx).Then(
			clientv3.OpGet(ownerKey(sid), clientv3.WithCountOnly()),
			clientv3.OpGet(sessionKey(sid), clientv3.WithCountOnly())).Commit()
		return err
	})
	if err != nil {
		return false, err
	}
	return resp.Responses[0].GetResponseRange().Count == 0 && resp.Responses[1].GetResponseRange().Count > 0, nil
}

// WatchOrphans sends the sessions orphaned now, then each session orphaned later (its owner
// key deleted while its record stays), until ctx ends or the membership does; then it closes
// the channel. A session may come more than once: claiming it (Claim) settles it, and a claim
// that loses to another survivor's gets ErrAlreadyOwned.
func (m *Member) WatchOrphans(ctx context.Context) <-chan string {
	out := make(chan string)
	m.mu.Lock()
	if m.ended != nil {
		m.mu.Unlock()
		close(out)
		return out
	}
	m.wg.Add(1) // under m.mu, so never after Close began to wait
	m.mu.Unlock()
	q := &orphanQueue{wake: make(chan struct{}, 1), rescan: true}
	cancel := m.view.subscribe(q.push)
	ctx, stop := context.WithCancel(ctx)
	stopWithMember := context.AfterFunc(m.ctx, stop)
	go func() {
		defer m.wg.Done()
		defer close(out)
		defer cancel()
		defer stop()
		defer stopWithMember()
		for ctx.Err() == nil {
			found, err := q.next(ctx, m)
			for _, sid := range found {
				select {
				case out <- sid:
				case <-ctx.Done():
					return
				}
			}
			if err != nil && ctx.Err() == nil {
				m.log.Warn().Err(err).Msg("cluster: look for orphaned sessions")
				q.push("") // look again after a pause
				sleep(ctx, m.ttl/3)
			}
		}
	}()
	return out
}

// orphanQueue holds what a WatchOrphans goroutine has to check: sessions whose owner key was
// deleted, or a full rescan.
type orphanQueue struct {
	mu     sync.Mutex
	sids   []string
	rescan bool
	wake   chan struct{}
}

// push queues sid ("" for a rescan); it never blocks.
func (q *orphanQueue) push(sid string) {
	q.mu.Lock()
	if sid == "" {
		q.rescan = true
	} else {
		q.sids = append(q.sids, sid)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next waits for work and returns the orphans it finds (possibly none).
func (q *orphanQueue) next(ctx context.Context, m *Member) ([]string, error) {
	for {
		q.mu.Lock()
		rescan, sids := q.rescan, q.sids
		q.rescan, q.sids = false, nil
		q.mu.Unlock()
		if rescan {
			return m.Orphans(ctx)
		}
		if len(sids) > 0 {
			var found []string
			for i, sid := range sids {
				ok, err := m.isOrphan(ctx, sid)
				if err != nil {
					q.requeue(sids[i:])
					return found, err
				}
				if ok {
					found = append(found, sid)
				}
			}
			return found, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-q.wake:
		}
	}
}

func (q *orphanQueue) requeue(sids []string) {
	q.mu.Lock()
	q.sids = append(sids, q.sids...)
	q.mu.Unlock()
}
