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
	if n, err := o.opts.Store.PruneSnapshots(now.Add(-o.opts.SnapshotRetention)); err != nil {
		o.log.Error().Err(err).Msg("prune snapshots")
	} else if n > 0 {
		o.log.Info().Int("pruned", n).Msg("snapshots past their retention removed")
	}
	return expiring
}

// onExpiryResult handles the answer to an expiry the sweep started. A refusal (a busy child)
// leaves the session active; the next sweep checks it again.
func (o *orchestrator) onExpiryResult(msg *messages.DeleteSessionResult) {
	if msg.Err == nil {
		return
	}
	if e := o.sessions[msg.SessionID]; e != nil {
		e.status = messages.StatusActive
		if msg.Err.Code == messages.CodeRolledBack {
			// A child would not stop: trying again at every sweep would stop and re-create the
			// newer children each time. The session counts as active again for a full timeout.
			e.lastActivity = o.opts.Clock.Now()
		}
	}
	o.log.Info().Str("session", msg.SessionID).Str("reason", msg.Err.Message).Msg("idle session not expired")
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

func (o *orchestrator) metrics() *messages.SessionMetricsResult {
	now := o.opts.Clock.Now()
	r := &messages.SessionMetricsResult{
		TotalSessions: len(o.sessions), MaxSessions: o.opts.MaxSessions, MaxChildren: o.opts.MaxChildren,
		IdleTimeout: o.opts.IdleTimeout, Created: o.counters.created, Deleted: o.counters.deleted,
		Expired: o.counters.expired, Restored: o.counters.restored, Rollbacks: o.counters.rollbacks,
		CountersSince: o.started,
	}
	var sum time.Duration
	first := true
	for _, e := range o.sessions {
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
		r.Agents += e.agents
		r.Pages += e.pages
	}
	if len(o.sessions) > 0 {
		r.AvgAge = sum / time.Duration(len(o.sessions))
	}
	return r
}

// errorReply builds the reply type that matches msg, carrying err.
func errorReply(msg any, err *messages.Error) any {
	switch m := msg.(type) {
	case *messages.CreateSession, *messages.GetSession, *messages.RestoreSession:
		return &messages.SessionResult{Err: err}
	case *messages.ListSessions:
		return &messages.ListSessionsResult{Err: err}
	case *messages.UpdateSessionState:
		return &messages.UpdateSessionStateResult{SessionID: m.SessionID, Err: err}
	case *messages.DeleteSession:
		return &messages.DeleteSessionResult{SessionID: m.SessionID, Err: err}
	case *messages.SessionMetrics:
		return &messages.SessionMetricsResult{Err: err}
	case *messages.CreateAgent:
		return &messages.AgentResult{Err: err}
	case *messages.DeleteAgent:
		return &messages.DeleteAgentResult{AgentID: m.AgentID, Err: err}
	case *messages.SendToAgent:
		return &messages.SendToAgentResult{AgentID: m.AgentID, Err: err}
	case *messages.ReadAgentOutput:
		return &messages.ReadAgentOutputResult{Err: err}
	case *messages.OpenPage:
		return &messages.PageResult{Err: err}
	case *messages.NavigatePage:
		return &messages.NavigatePageResult{PageID: m.PageID, Err: err}
	case *messages.PageContent:
		return &messages.PageContentResult{PageID: m.PageID, Err: err}
	case *messages.CrawlURL:
		return &messages.PageContentResult{Err: err}
	case *messages.PageAction:
		return &messages.PageActionResult{PageID: m.PageID, Action: m.Action, Err: err}
	case *messages.ScreenshotPage:
		return &messages.ScreenshotPageResult{PageID: m.PageID, Err: err}
	case *messages.ClosePage:
		return &messages.ClosePageResult{PageID: m.PageID, Err: err}
	case *messages.SetCookies:
		return &messages.CookiesResult{SessionID: m.SessionID, Err: err}
	case *messages.GetCookies:
		return &messages.CookiesResult{SessionID: m.SessionID, Err: err}
	default:
		return err
	}
}
