package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// delete runs DESIGN §4 for this session. Children, work preservation and rollback plug in here.
func (s *sessionActor) delete(ctx actor.Context, msg *messages.DeleteSession) {
	start := s.opts.Clock.Now()
	res := &messages.DeleteSessionResult{SessionID: s.rec.ID, DryRun: msg.DryRun}
	reason := msg.Reason
	if reason == "" {
		reason = "deleted"
	}
	// Step 1: dry run, the plan: children newest first.
	if msg.DryRun {
		res.Plan = make([]string, 0, len(s.rec.Children))
		for i := len(s.rec.Children) - 1; i >= 0; i-- {
			res.Plan = append(res.Plan, s.rec.Children[i].ID)
		}
		res.Preserved = &messages.Preserved{Kind: "none", Note: "work preservation is not built yet; the workspace is left in place"}
		res.Duration = s.opts.Clock.Now().Sub(start)
		ctx.Respond(res)
		return
	}
	// Steps 3 and 4: status deleting and the snapshot, durable together before any child stops.
	// With no child to stop nothing can happen in between, so the one write of step 8 suffices.
	now := s.opts.Clock.Now()
	snap := store.Snapshot{ID: newSnapshotID(now), SessionID: s.rec.ID, Reason: reason, CreatedAt: now, Session: s.rec}
	snap.Session.Status = messages.StatusActive
	deleting := s.rec
	deleting.Status, deleting.SnapshotID = messages.StatusDeleting, snap.ID
	begun := len(s.rec.Children) > 0
	if begun {
		if err := s.opts.Store.BeginDelete(deleting, snap); err != nil {
			s.log.Error().Err(err).Msg("write snapshot")
			res.Err = messages.Errorf(messages.CodeInternal, "could not write the snapshot of %q, so nothing was deleted: %v", s.rec.ID, err)
			ctx.Respond(res)
			ctx.Send(ctx.Parent(), &deleteAborted{id: s.rec.ID})
			return
		}
	}
	s.rec = deleting
	// Step 8: leave the live set; the snapshot stays.
	snap.Completed = true
	tomb := store.Tombstone{SessionID: s.rec.ID, Reason: reason, At: s.opts.Clock.Now(), SnapshotID: snap.ID}
	if err := s.opts.Store.FinishDelete(s.rec.ID, snap, tomb); err != nil {
		s.log.Error().Err(err).Msg("finish delete")
		if !begun {
			// Nothing was written: the session stays as it was.
			s.rec.Status, s.rec.SnapshotID = messages.StatusActive, ""
			res.Err = messages.Errorf(messages.CodeInternal, "could not delete %q: %v; nothing was changed", s.rec.ID, err)
			ctx.Send(ctx.Parent(), &deleteAborted{id: s.rec.ID})
			ctx.Respond(res)
			return
		}
		// The record says deleting with a durable snapshot: the next start finishes the job.
		res.Err = messages.Errorf(messages.CodeInternal, "could not finish deleting %q (%v); its snapshot %s is saved and the delete completes at the next start", s.rec.ID, err, snap.ID)
		ctx.Respond(res)
		return
	}
	res.SnapshotID = snap.ID
	res.Stopped = []string{}
	res.Preserved = &messages.Preserved{Kind: "none", Note: "work preservation is not built yet; the workspace is left in place"}
	res.Duration = s.opts.Clock.Now().Sub(start)
	ctx.Send(ctx.Parent(), &sessionGone{id: s.rec.ID, reason: reason, snapshotID: snap.ID, at: tomb.At})
	ctx.Respond(res)
	s.windDown(ctx, "was deleted")
}
