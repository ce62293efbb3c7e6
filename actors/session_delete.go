package actors

import (
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/workspace"
	"github.com/troupe-dev/troupe/messages"
)

// deletion is a delete_session in progress (DESIGN §4): the session actor stops its children
// one at a time, newest first, each awaited before the next, and keeps handling other messages
// meanwhile (guarded by the deleting status).
type deletion struct {
	report   func(id string, done, total int, message string) // Options.Progress
	msg      *messages.DeleteSession
	reason   string
	replyTo  *actor.PID
	start    time.Time
	snap     store.Snapshot
	begun    bool // the deleting record and the snapshot are durable
	order    []*child
	next     int
	stopped  []string
	failures []messages.StopFailure
	kept     *messages.Preserved
	// result and tombAt are the answer and deletion time once the store has the delete.
	result *messages.DeleteSessionResult
	tombAt time.Time
	grace  time.Duration
	step   int
	steps  int
}

func (d *deletion) progress(message string) {
	d.step++
	if d.msg.ProgressID != "" && d.report != nil {
		d.report(d.msg.ProgressID, d.step, d.steps, message)
	}
}

func (s *sessionActor) busyChildren() []string {
	var busy []string
	for _, c := range s.children {
		if c.info().Busy {
			busy = append(busy, c.spec.ID)
		}
	}
	return busy
}

// delete runs DESIGN §4 steps 1 to 5 and starts step 6; the cascade continues in stopNext.
func (s *sessionActor) delete(ctx actor.Context, msg *messages.DeleteSession) {
	res := &messages.DeleteSessionResult{SessionID: s.rec.ID, DryRun: msg.DryRun}
	fail := func(err *messages.Error) {
		// The orchestrator learns first, so that the caller's next call finds the session active.
		if !msg.DryRun {
			ctx.Send(ctx.Parent(), &deleteAborted{id: s.rec.ID})
		}
		ctx.Respond(err)
	}
	if s.deleting != nil {
		fail(messages.Errorf(messages.CodeDeleting, "session %q is already being deleted", s.rec.ID))
		return
	}
	reason := msg.Reason
	if reason == "" {
		reason = "deleted"
	}
	newestFirst := make([]*child, 0, len(s.children))
	for i := len(s.children) - 1; i >= 0; i-- {
		newestFirst = append(newestFirst, s.children[i])
	}
	// Step 1: the plan.
	if msg.DryRun {
		res.Plan = make([]string, len(newestFirst))
		for i, c := range newestFirst {
			res.Plan[i] = c.spec.ID
		}
		s.answerPlan(ctx, msg.PreserveWork, res)
		return
	}
	// Step 2: critical operations.
	if busy := s.busyChildren(); len(busy) > 0 && !msg.Force {
		fail(messages.Errorf(messages.CodeBusy, "session %q has busy children: %s; wait for them to finish, or pass force=true to delete anyway", s.rec.ID, strings.Join(busy, ", ")))
		return
	}
	// Steps 3 and 4: status deleting and the snapshot, durable together before any child stops.
	now := s.opts.Clock.Now()
	d := &deletion{report: s.opts.Progress, msg: msg, reason: reason, replyTo: ctx.Sender(), start: now, order: newestFirst,
		grace: s.opts.AgentStopGrace, steps: len(newestFirst) + 3}
	if msg.GraceSeconds > 0 {
		d.grace = time.Duration(min(msg.GraceSeconds, MaxGraceSeconds) * float64(time.Second))
	}
	s.persistChildren()
	d.snap = store.Snapshot{ID: newSnapshotID(now), SessionID: s.rec.ID, Reason: reason, CreatedAt: now, Session: s.rec, PreserveWork: msg.PreserveWork}
	d.snap.Session.Status, d.snap.Session.SnapshotID = messages.StatusActive, ""
	deleting := s.rec
	deleting.Status, deleting.SnapshotID = messages.StatusDeleting, d.snap.ID
	// With no child to stop nothing is stopped between here and step 8, whose one write suffices
	// (a crash while the work is preserved leaves the session active, as it was).
	if len(newestFirst) > 0 {
		if err := s.opts.Store.BeginDelete(deleting, d.snap); err != nil {
			s.log.Error().Err(err).Msg("write snapshot")
			fail(messages.Errorf(storeCode(err), "could not write the snapshot of %q, so nothing was deleted: %v", s.rec.ID, err))
			return
		}
		d.begun = true
	}
	s.rec, s.deleting = deleting, d
	s.event("session.snapshot", "", "ok", map[string]any{"snapshot_id": d.snap.ID, "reason": reason, "children": len(newestFirst)})
	d.progress("snapshot " + d.snap.ID + " written")
	// Step 5: preserve work, off the mailbox; step 6 follows in onWorkPreserved.
	s.preserveWork(ctx, d)
}

// stopNext stops the next child, newest first, and continues when it has terminated.
func (s *sessionActor) stopNext(ctx actor.Context) {
	d := s.deleting
	if d.next >= len(d.order) {
		s.finishDelete(ctx)
		return
	}
	c := d.order[d.next]
	d.next++
	if s.childByPID(c.pid) == nil {
		// It ended on its own (a crash of its actor) while the work was being preserved.
		d.stopped = append(d.stopped, c.spec.ID)
		d.progress(c.spec.ID + " had already stopped")
		s.stopNext(ctx)
		return
	}
	s.stopChild(ctx, c, d.grace, d.msg.Force, func(ctx actor.Context, err error, _ *process.ExitStatus) {
		// A page operation that was under way when the delete began may have moved the page
		// since the snapshot was written: the snapshot keeps the child as it stopped.
		if spec := specByID(d.snap.Session.Children, c.spec.ID); spec != nil {
			*spec = c.spec
		}
		if err != nil {
			if !d.msg.Force {
				s.rollback(ctx, c, err)
				return
			}
			d.failures = append(d.failures, messages.StopFailure{ID: c.spec.ID, Error: err.Error()})
			d.progress(c.spec.ID + " failed to stop: " + err.Error())
		} else {
			d.stopped = append(d.stopped, c.spec.ID)
			d.progress(c.spec.ID + " stopped")
		}
		s.stopNext(ctx)
	})
}

// finishDelete is step 8: the session leaves the live set; the snapshot stays.
func (s *sessionActor) finishDelete(ctx actor.Context) {
	d := s.deleting
	d.snap.Completed, d.snap.Preserved, d.snap.Stopped, d.snap.Failures = true, d.kept, d.stopped, d.failures
	d.snap.Session.Cookies = s.rec.Cookies // saved by operations that finished during the cascade
	tomb := store.Tombstone{SessionID: s.rec.ID, Reason: d.reason, At: s.opts.Clock.Now(), SnapshotID: d.snap.ID, Owner: s.rec.Owner}
	res := &messages.DeleteSessionResult{SessionID: s.rec.ID, SnapshotID: d.snap.ID, Stopped: d.stopped, Failures: d.failures, Preserved: d.kept}
	if err := s.opts.Store.FinishDelete(s.rec.ID, d.snap, tomb); err != nil {
		s.log.Error().Err(err).Msg("finish delete")
		s.deleting = nil
		if !d.begun {
			s.rec.Status, s.rec.SnapshotID = messages.StatusActive, ""
			ctx.Send(ctx.Parent(), &deleteAborted{id: s.rec.ID})
			ctx.Send(d.replyTo, messages.Errorf(storeCode(err), "could not delete %q: %v; nothing was changed", s.rec.ID, err))
		} else {
			// The record says deleting with a durable snapshot: the next start finishes the job.
			ctx.Send(ctx.Parent(), &deleteStuck{id: s.rec.ID, why: fmt.Sprintf(
				"the delete of session %q could not be finished (%v); its snapshot %s is saved and the delete completes when troupe next starts", s.rec.ID, err, d.snap.ID)})
			ctx.Send(d.replyTo, messages.Errorf(storeCode(err), "could not finish deleting %q (%v); its snapshot %s is saved and the delete completes at the next start", s.rec.ID, err, d.snap.ID))
		}
		return
	}
	d.result, d.tombAt = res, tomb.At
	if d.kept.Kind == workspace.KindArchive && s.rec.WorkspaceOwned {
		// Only now, with every child stopped, no rollback possible and the delete on disk, is
		// the archived workspace removed (off the mailbox; deleted follows).
		s.removeArchivedWorkspace(ctx, d)
		return
	}
	s.deleted(ctx)
}

// deleted answers a finished delete and winds the session down.
func (s *sessionActor) deleted(ctx actor.Context) {
	d := s.deleting
	d.progress("session deleted; snapshot " + d.snap.ID + " kept")
	d.result.Duration = s.opts.Clock.Now().Sub(d.start)
	s.deleting = nil
	ctx.Send(ctx.Parent(), &sessionGone{id: s.rec.ID, reason: d.reason, snapshotID: d.snap.ID, at: d.tombAt})
	ctx.Send(d.replyTo, d.result)
	s.windDown(ctx, "was deleted")
}

// rollback is step 7: a child failed to stop without force. The children already stopped are
// re-created oldest first from the snapshot, the status is active again, and the caller learns
// what happened.
func (s *sessionActor) rollback(ctx actor.Context, failed *child, cause error) {
	d := s.deleting
	s.deleting = nil
	recreated := make([]string, 0, len(d.stopped))
	for i := len(d.stopped) - 1; i >= 0; i-- {
		spec := specByID(d.snap.Session.Children, d.stopped[i])
		if spec == nil {
			continue
		}
		if err := s.recreateChild(ctx, *spec, startReopen); err != nil {
			s.log.Error().Err(err).Str("child", spec.ID).Msg("rollback: re-create child")
			continue
		}
		recreated = append(recreated, spec.ID)
	}
	s.rec.Status, s.rec.SnapshotID = messages.StatusActive, ""
	s.rec.State = d.snap.Session.State
	if err := s.persist(); err != nil {
		s.log.Error().Err(err).Msg("rollback: persist")
	}
	if err := s.opts.Store.DeleteSnapshot(d.snap.ID); err != nil {
		s.log.Warn().Err(err).Msg("rollback: drop the snapshot")
	}
	s.reportChildren(ctx)
	s.event("session.rollback", failed.spec.ID, "ok", map[string]any{"snapshot_id": d.snap.ID, "error": cause.Error(), "recreated": recreated})
	ctx.Send(ctx.Parent(), &deleteAborted{id: s.rec.ID, rolledBack: true})
	msg := fmt.Sprintf("%s did not stop (%v), so the delete of %q was rolled back", failed.spec.ID, cause, s.rec.ID)
	if len(recreated) > 0 {
		msg += fmt.Sprintf(": %s stopped first and %s re-created", strings.Join(d.stopped, ", "), plural(len(recreated), "was", "were"))
	}
	msg += "; the session is active with its state. Pass force=true to delete it anyway."
	ctx.Send(d.replyTo, &messages.Error{Code: messages.CodeRolledBack, Message: msg})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func specByID(specs []store.ChildSpec, id string) *store.ChildSpec {
	for i := range specs {
		if specs[i].ID == id {
			return &specs[i]
		}
	}
	return nil
}

// recreateChild starts a child again from its spec: after a server restart, a rollback or a
// restore. Pages re-open at their last URL; agents reopen their log.
func (s *sessionActor) recreateChild(ctx actor.Context, spec store.ChildSpec, mode startMode) error {
	k, err := kindOf(spec.Kind)
	if err != nil {
		return fmt.Errorf("cannot re-create %s: %w", spec.ID, err)
	}
	return k.start(s, ctx, &child{spec: spec}, mode)
}

func outcomeOf(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// event records an internal event of this session in the audit log.
func (s *sessionCore) event(action, target, outcome string, details map[string]any) {
	if s.opts.Events != nil {
		s.opts.Events.Record(action, s.rec.ID, target, outcome, details)
	}
}

// restored finishes a restore_session: the record is written (which clears the tombstone) and
// the caller answered; the children are already being re-created, oldest first.
func (s *sessionActor) restored(ctx actor.Context) {
	if err := s.persist(); err != nil {
		s.log.Error().Err(err).Msg("persist restored session")
		ctx.Send(ctx.Parent(), &sessionCreateFailed{id: s.rec.ID, restore: true})
		ctx.Respond(messages.Errorf(storeCode(err), "could not save the restored session %q: %v", s.rec.ID, err))
		s.windDown(ctx, "could not be restored")
		return
	}
	s.event("session.restored", "", "ok", map[string]any{"children": len(s.children)})
	s.reportChildren(ctx)
	ctx.Respond(&messages.SessionResult{Session: s.info()})
}
