package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// renewLoop renews the lease three times a TTL. Each successful renewal moves the fencing
// deadline to the moment it was sent plus the TTL etcd answered: etcd extends the lease only
// once the request arrives, so this deadline never falls after etcd's.
func (m *Member) renewLoop() {
	defer m.wg.Done()
	tick := time.NewTicker(max(m.ttl/3, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-tick.C:
		}
		if !m.paused.Load() {
			m.renewOnce()
		}
	}
}

func (m *Member) renewOnce() {
	m.mu.Lock()
	deadline := m.deadline
	m.mu.Unlock()
	sent := time.Now()
	// Waiting past the deadline is pointless: by then the node is fenced whatever the answer.
	ctx, cancel := context.WithDeadline(m.ctx, deadline)
	resp, err := m.cli.KeepAliveOnce(ctx, m.lease)
	cancel()
	switch {
	case err == nil:
		m.extend(sent.Add(time.Duration(resp.TTL) * time.Second))
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		m.fence(fmt.Errorf("%w: etcd says lease %x of node %q has expired; it writes nothing more: join again", ErrFenced, int64(m.lease), m.cfg.Node))
	case m.ctx.Err() == nil:
		m.log.Warn().Err(err).Str("node", m.cfg.Node).Msg("cluster: lease renewal failed; retrying")
	}
}

// extend moves the deadline later, unless it has passed: a deadline once missed fences the
// node for good, even if a late renewal still succeeds.
func (m *Member) extend(deadline time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended != nil || !time.Now().Before(m.deadline) || !deadline.After(m.deadline) {
		return
	}
	m.deadline = deadline
	select {
	case m.extended <- struct{}{}:
	default:
	}
}

// watchdog is the local fencing timer: it fences the node when the deadline passes. It runs on
// this process's own clock, so it fires even when etcd cannot be reached, and at once after
// the process was frozen (SIGSTOP) past the deadline.
func (m *Member) watchdog() {
	defer m.wg.Done()
	t := time.NewTimer(m.untilDeadline())
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-m.extended:
			t.Reset(m.untilDeadline())
		case <-t.C:
			if d := m.untilDeadline(); d > 0 {
				t.Reset(d)
				continue
			}
			m.mu.Lock()
			cause := m.overdue()
			m.mu.Unlock()
			m.fence(cause)
			return
		}
	}
}

func (m *Member) untilDeadline() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return time.Until(m.deadline)
}

// fence ends the membership and calls OnFenced on its own goroutine (which may call Close).
func (m *Member) fence(cause error) {
	if !m.end(cause) {
		return
	}
	m.log.Error().Err(cause).Str("node", m.cfg.Node).Msg("cluster: fenced; stopping this node's sessions")
	if m.opts.OnFenced != nil {
		go m.opts.OnFenced(cause)
	}
}
