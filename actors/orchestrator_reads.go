package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// Reads that scan or decode stored snapshots and tombstones run off the orchestrator's mailbox
// (STYLE habit 15): every call passes through the orchestrator, so a slow disk under one of them
// would stall all the others. They need nothing of the registry, and the store is safe for
// concurrent use, so they answer the caller themselves.

// answerUnknown answers a request naming id, which is no live session, with why: an invalid
// id, or what the session's tombstone says.
func (o *orchestrator) answerUnknown(ctx actor.Context, id string) {
	if !ValidID(id) {
		ctx.Respond(o.unknown(id))
		return
	}
	sender, root := ctx.Sender(), ctx.ActorSystem().Root
	if sender == nil {
		return
	}
	o.opts.goBackground(func() { root.Send(sender, o.unknown(id)) })
}

// unknown explains an id that names no live session: invalid, expired, deleted or never seen.
// It reads the store and touches no orchestrator state: it may run off the mailbox.
func (o *orchestrator) unknown(id string) *messages.Error {
	if !ValidID(id) {
		return messages.Errorf(messages.CodeInvalidArgument, "invalid session_id %q: use %s", id, IDRule)
	}
	tomb, err := o.opts.Store.Tombstone(id)
	if err == nil {
		restore := ""
		if tomb.SnapshotID != "" {
			restore = fmt.Sprintf("; restore it with restore_session(snapshot_id=%q)", tomb.SnapshotID)
		}
		if tomb.Reason == "expired" {
			return messages.Errorf(messages.CodeExpired, "session %q expired at %s after being idle%s", id, tomb.At.Format(time.RFC3339), restore)
		}
		return messages.Errorf(messages.CodeNotFound, "session %q was deleted at %s%s", id, tomb.At.Format(time.RFC3339), restore)
	}
	if !errors.Is(err, store.ErrNotFound) {
		o.log.Error().Err(err).Str("session", id).Msg("read tombstone")
	}
	return noSession(id)
}

// noSession is the answer for a session id that names no session: the same, word for word, for a
// session that belongs to someone else (DESIGN §12: no existence leak).
func noSession(id string) *messages.Error {
	return messages.Errorf(messages.CodeNotFound, "no session %q; list_sessions shows the sessions there are", id)
}

// noSnapshot is the answer for a snapshot id that names no snapshot, or someone else's.
func (o *orchestrator) noSnapshot(id string) *messages.Error {
	return messages.Errorf(messages.CodeNotFound, "no snapshot %q; list_snapshots shows the snapshots kept (for %s after a delete)", id, o.opts.SnapshotRetention)
}

// checkAccess answers CheckAccess: a live session from the registry at once; a deleted session
// (its tombstone) and a snapshot from the store, off the mailbox.
func (o *orchestrator) checkAccess(ctx actor.Context, msg *messages.CheckAccess) {
	if e := o.sessions[msg.SessionID]; msg.SessionID != "" && e != nil {
		res := &messages.CheckAccessResult{}
		if e.owner != msg.Principal {
			res.Err = noSession(msg.SessionID)
		}
		ctx.Respond(res)
		return
	}
	sender, root := ctx.Sender(), ctx.ActorSystem().Root
	if sender == nil {
		return
	}
	o.opts.goBackground(func() { root.Send(sender, o.checkStoredAccess(msg)) })
}

// checkStoredAccess is checkAccess for what only the store knows. What does not exist, or cannot
// be read, is let through: the call itself then answers as it would for anyone.
func (o *orchestrator) checkStoredAccess(msg *messages.CheckAccess) *messages.CheckAccessResult {
	res := &messages.CheckAccessResult{}
	if msg.SessionID != "" {
		tomb, err := o.opts.Store.Tombstone(msg.SessionID)
		if err == nil && messages.OwnerOrLocal(tomb.Owner) != msg.Principal || err != nil && msg.Strict {
			res.Err = noSession(msg.SessionID)
			return res
		}
	}
	if msg.SnapshotID != "" {
		if snap, err := o.opts.Store.Snapshot(msg.SnapshotID); err == nil && messages.OwnerOrLocal(snap.Session.Owner) != msg.Principal {
			res.Err = o.noSnapshot(msg.SnapshotID)
		}
	}
	return res
}

// answerListSnapshots answers list_snapshots off the mailbox.
func (o *orchestrator) answerListSnapshots(ctx actor.Context, msg *messages.ListSnapshots) {
	sender, root := ctx.Sender(), ctx.ActorSystem().Root
	if sender == nil {
		return
	}
	o.opts.goBackground(func() { root.Send(sender, o.listSnapshots(msg)) })
}

// listSnapshots reads the snapshots of one session (all when SessionID is empty): the answer,
// or an error. It touches no orchestrator state: it runs off the mailbox.
func (o *orchestrator) listSnapshots(msg *messages.ListSnapshots) any {
	snaps, err := o.opts.Store.Snapshots(msg.SessionID)
	if err != nil {
		return messages.Errorf(messages.CodeInternal, "read snapshots: %v", err)
	}
	out := make([]messages.SnapshotInfo, 0, len(snaps))
	for _, s := range snaps {
		owner := messages.OwnerOrLocal(s.Session.Owner)
		if msg.Owner != "" && owner != msg.Owner {
			continue
		}
		kids := make([]string, len(s.Session.Children))
		for i, c := range s.Session.Children {
			kids[i] = c.ID
		}
		out = append(out, messages.SnapshotInfo{SnapshotID: s.ID, SessionID: s.SessionID, Owner: owner, Reason: s.Reason, CreatedAt: s.CreatedAt,
			Completed: s.Completed, Children: kids, Stopped: s.Stopped, Preserved: s.Preserved,
			ExpiresAt: s.CreatedAt.Add(o.opts.SnapshotRetention)})
	}
	return &messages.ListSnapshotsResult{Snapshots: out}
}

// snapshotsPruned reports the end of pruneSnapshots.
type snapshotsPruned struct{}

// pruneSnapshots removes the snapshots taken before `before`, off the mailbox; one prune at a
// time, so that sweeps on a slow disk do not pile up.
func (o *orchestrator) pruneSnapshots(ctx actor.Context, before time.Time) {
	if o.pruning {
		o.pruneNext = before
		return
	}
	o.pruning = true
	root, self, st, log := ctx.ActorSystem().Root, ctx.Self(), o.opts.Store, o.log
	o.opts.goBackground(func() {
		if n, err := st.PruneSnapshots(before); err != nil {
			log.Error().Err(err).Msg("prune snapshots")
		} else if n > 0 {
			log.Info().Int("pruned", n).Msg("snapshots past their retention removed")
		}
		root.Send(self, &snapshotsPruned{})
	})
}

// onSnapshotsPruned starts the prune a sweep asked for meanwhile, or answers the sweeps that
// waited for theirs.
func (o *orchestrator) onSnapshotsPruned(ctx actor.Context) {
	o.pruning = false
	if next := o.pruneNext; !next.IsZero() {
		o.pruneNext = time.Time{}
		o.pruneSnapshots(ctx, next)
		return
	}
	for _, w := range o.sweepWaiters {
		ctx.Send(w.pid, w.res)
	}
	o.sweepWaiters = nil
}
