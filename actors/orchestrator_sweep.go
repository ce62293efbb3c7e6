package actors

import (
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/messages"
)

// sweep expires idle sessions through the normal delete path (reason "expired"), flushes the
// activity recorded since the last sweep and prunes snapshots past their retention.
func (o *orchestrator) sweep(ctx actor.Context) []string {
	now := o.opts.Clock.Now()
	ids := make([]string, 0, len(o.sessions))
	for id := range o.sessions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var expiring []string
	for _, id := range ids {
		e := o.sessions[id]
		if e.status != messages.StatusActive || now.Sub(e.lastActivity) < e.idleTimeout {
			continue
		}
		e.status = messages.StatusDeleting
		expiring = append(expiring, id)
		ctx.Request(e.pid, &messages.DeleteSession{SessionID: id, Reason: "expired", PreserveWork: true})
	}
	o.flushActivity()
	o.pruneSnapshots(ctx, now.Add(-o.opts.SnapshotRetention))
	return expiring
}

// flushActivity writes the activity recorded in memory to the store, in one transaction.
func (o *orchestrator) flushActivity() {
	if len(o.dirty) == 0 {
		return
	}
	if err := o.opts.Store.TouchSessions(o.dirty); err != nil {
		o.log.Error().Err(err).Int("sessions", len(o.dirty)).Msg("flush session activity; it stays in memory and is retried at the next sweep")
		return
	}
	o.dirty = make(map[string]time.Time)
}

func (o *orchestrator) metrics(msg *messages.SessionMetrics) *messages.SessionMetricsResult {
	now := o.opts.Clock.Now()
	r := &messages.SessionMetricsResult{
		TotalSessions: len(o.sessions), MaxSessions: o.opts.MaxSessions, MaxChildren: o.opts.MaxChildren,
		IdleTimeout: o.opts.IdleTimeout, Created: o.counters.created, Deleted: o.counters.deleted,
		Expired: o.counters.expired, Restored: o.counters.restored, Rollbacks: o.counters.rollbacks,
		CountersSince: o.started, Children: make(map[messages.ChildKind]int),
		ChildrenRunning: make(map[messages.ChildKind]int), Sessions: make(map[messages.Status]int),
	}
	var sum time.Duration
	first := true
	counted := 0
	for _, e := range o.sessions {
		if msg.Owner != "" && e.owner != msg.Owner {
			continue
		}
		counted++
		r.Sessions[e.status]++
		switch e.status {
		case messages.StatusActive:
			r.ActiveSessions++
		case messages.StatusDeleting:
			r.DeletingSessions++
		}
		if now.Sub(e.lastActivity) >= time.Minute {
			r.IdleSessions++
		}
		age := now.Sub(e.createdAt)
		sum += age
		if first || age > r.OldestAge {
			r.OldestAge = age
		}
		if first || age < r.NewestAge {
			r.NewestAge = age
		}
		first = false
		for k, n := range e.children {
			r.Children[k] += n
		}
		for k, n := range e.running {
			r.ChildrenRunning[k] += n
			r.RunningChildren += n
		}
	}
	if counted > 0 {
		r.AvgAge = sum / time.Duration(counted)
	}
	if msg.Owner != "" {
		// Another principal's sessions are not counted, nor the server-wide counters shown.
		r.TotalSessions = counted
		r.Created, r.Deleted, r.Expired, r.Restored, r.Rollbacks = 0, 0, 0, 0, 0
	}
	return r
}
