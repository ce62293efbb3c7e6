package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// recoverSessions asks the orchestrator to re-create every session found in the store.
type recoverSessions struct{}

// recoverResult answers recoverSessions.
type recoverResult struct {
	recovered, finished int
	err                 error
}

// recover re-creates the live sessions of the store and finishes the deletes a crash interrupted.
func (o *orchestrator) recover(ctx actor.Context) *recoverResult {
	recs, err := o.opts.Store.LoadSessions()
	if err != nil {
		return &recoverResult{err: fmt.Errorf("load sessions: %w", err)}
	}
	res := &recoverResult{}
	for _, rec := range recs {
		if rec.Status == messages.StatusDeleting {
			if err := o.finishInterruptedDelete(rec); err != nil {
				return &recoverResult{err: fmt.Errorf("finish the interrupted delete of %q: %w", rec.ID, err)}
			}
			res.finished++
			continue
		}
		pid, err := o.spawnSession(ctx, rec, true)
		if err != nil {
			return &recoverResult{err: fmt.Errorf("recover session %q: %w", rec.ID, err)}
		}
		timeout := o.opts.IdleTimeout
		if rec.IdleTimeoutSeconds > 0 {
			timeout = time.Duration(rec.IdleTimeoutSeconds) * time.Second
		}
		agents, pages := countChildren(rec.Children)
		o.sessions[rec.ID] = &entry{pid: pid, name: rec.Name, labels: rec.Labels, createdAt: rec.CreatedAt,
			lastActivity: rec.LastActivity, idleTimeout: timeout, status: messages.StatusActive,
			agents: agents, pages: pages}
		res.recovered++
	}
	if o.opts.Events != nil && (res.recovered > 0 || res.finished > 0) {
		o.opts.Events.Record("server.recover", "", "", "ok", map[string]any{"sessions": res.recovered, "deletes_finished": res.finished})
	}
	o.log.Info().Int("sessions", res.recovered).Int("deletes_finished", res.finished).Msg("recovered sessions from the store")
	return res
}

// finishInterruptedDelete completes a delete that a crash cut short: the snapshot was durable
// before anything was stopped, so the session leaves the live set with its snapshot kept.
func (o *orchestrator) finishInterruptedDelete(rec store.SessionRecord) error {
	now := o.opts.Clock.Now()
	snap, err := o.opts.Store.Snapshot(rec.SnapshotID)
	if errors.Is(err, store.ErrNotFound) || rec.SnapshotID == "" {
		// BeginDelete writes both at once, so this only happens to a hand-edited store: keep
		// what the record says rather than lose it.
		rec.Status = messages.StatusActive
		snap = store.Snapshot{ID: newSnapshotID(now), SessionID: rec.ID, Reason: "deleted", CreatedAt: now, Session: rec}
	} else if err != nil {
		return err
	}
	snap.Completed = true
	tomb := store.Tombstone{SessionID: rec.ID, Reason: snap.Reason, At: now, SnapshotID: snap.ID}
	if err := o.opts.Store.FinishDelete(rec.ID, snap, tomb); err != nil {
		return err
	}
	if o.opts.Events != nil {
		o.opts.Events.Record("session.delete.resumed", rec.ID, "", "ok", map[string]any{"snapshot_id": snap.ID, "reason": snap.Reason})
	}
	return nil
}

func countChildren(children []store.ChildSpec) (agents, pages int) {
	for _, c := range children {
		switch c.Kind {
		case "agent":
			agents++
		case "page":
			pages++
		}
	}
	return agents, pages
}
