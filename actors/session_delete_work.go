package actors

import (
	"context"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/workspace"
	"github.com/troupe-dev/troupe/messages"
)

// The slow parts of a delete — git or tar over the workspace (minutes for a big tree), the
// dry-run's `git status` or walk, removing an archived workspace — run off the session's mailbox
// (STYLE habit 15): the session keeps handling its children's messages meanwhile, and decides
// what comes next when the work reports back. The order of DESIGN §4 is kept: the deleting
// status and the snapshot are durable before the work is preserved, the work is preserved before
// the first child stops, and the workspace is removed only once the delete is on disk.

// workPreserved reports the end of step 5 to the session.
type workPreserved struct {
	snapshotID string
	kept       workspace.Preserved
	err        error
}

// workspaceRemoved reports the removal of an archived workspace to the session.
type workspaceRemoved struct {
	snapshotID string
	err        error
}

// preserveWork starts step 5 for the delete d; onWorkPreserved continues with step 6.
func (s *sessionActor) preserveWork(ctx actor.Context, d *deletion) {
	switch {
	case !d.msg.PreserveWork:
		s.workPreservedAs(ctx, d, &messages.Preserved{Kind: workspace.KindNone, Note: "preserve_work was false"})
		return
	case s.rec.Workspace == "":
		s.workPreservedAs(ctx, d, &messages.Preserved{Kind: workspace.KindNone, Note: "the session has no workspace"})
		return
	}
	root, self, opts := ctx.ActorSystem().Root, ctx.Self(), s.opts
	dir, sessionID, snapshotID := s.rec.Workspace, s.rec.ID, d.snap.ID
	opts.goBackground(func() {
		pctx, cancel := context.WithTimeout(opts.stopping, 5*time.Minute)
		defer cancel()
		p, err := opts.preserveWork(pctx, opts.DataDir, dir, sessionID, snapshotID)
		root.Send(self, &workPreserved{snapshotID: snapshotID, kept: p, err: err})
	})
}

func (s *sessionActor) onWorkPreserved(ctx actor.Context, msg *workPreserved) {
	d := s.deleting
	if d == nil || d.snap.ID != msg.snapshotID || d.kept != nil {
		return
	}
	out := toPreserved(msg.kept)
	if msg.err != nil {
		s.log.Error().Err(msg.err).Msg("preserve work")
		out.Kind, out.Note = workspace.KindNone, "could not preserve the work, so the workspace is left in place: "+msg.err.Error()
	}
	s.event("session.preserve", "", outcomeOf(msg.err), map[string]any{"kind": out.Kind, "ref": out.Ref, "commit": out.Commit, "archive": out.Archive})
	s.workPreservedAs(ctx, d, out)
}

// workPreservedAs records the outcome of step 5 and starts step 6.
func (s *sessionActor) workPreservedAs(ctx actor.Context, d *deletion, kept *messages.Preserved) {
	d.kept = kept
	d.progress("work preserved: " + d.kept.Kind)
	s.stopNext(ctx)
}

// removeArchivedWorkspace removes troupe's own workspace once it is archived and the delete is
// on disk; onWorkspaceRemoved then answers.
func (s *sessionActor) removeArchivedWorkspace(ctx actor.Context, d *deletion) {
	root, self, opts := ctx.ActorSystem().Root, ctx.Self(), s.opts
	dir, snapshotID := s.rec.Workspace, d.snap.ID
	opts.goBackground(func() {
		root.Send(self, &workspaceRemoved{snapshotID: snapshotID, err: opts.removeWorkspace(opts.DataDir, dir)})
	})
}

func (s *sessionActor) onWorkspaceRemoved(ctx actor.Context, msg *workspaceRemoved) {
	d := s.deleting
	if d == nil || d.snap.ID != msg.snapshotID || d.result == nil {
		return
	}
	if msg.err != nil {
		s.log.Error().Err(msg.err).Msg("remove the archived workspace")
		d.kept.Note = "archived, but the workspace could not be removed: " + msg.err.Error()
	}
	s.deleted(ctx)
}

// answerPlan completes a dry run's answer res with what would be preserved and sends it to the
// caller; `git status` or a walk of the workspace runs off the mailbox and answers directly.
func (s *sessionActor) answerPlan(ctx actor.Context, preserve bool, res *messages.DeleteSessionResult) {
	if !preserve || s.rec.Workspace == "" {
		res.Preserved = &messages.Preserved{Kind: workspace.KindNone}
		ctx.Respond(res)
		return
	}
	sender, root, opts, dir := ctx.Sender(), ctx.ActorSystem().Root, s.opts, s.rec.Workspace
	if sender == nil {
		return
	}
	opts.goBackground(func() {
		pctx, cancel := context.WithTimeout(opts.stopping, time.Minute)
		defer cancel()
		p, err := opts.planWork(pctx, opts.DataDir, dir)
		res.Preserved = toPreserved(p)
		if err != nil {
			res.Preserved.Note = "cannot tell: " + err.Error()
		}
		root.Send(sender, res)
	})
}

func toPreserved(p workspace.Preserved) *messages.Preserved {
	out := &messages.Preserved{Kind: p.Kind, Ref: p.Ref, Commit: p.Commit, Archive: p.Archive, Files: p.Files}
	if out.Kind == "" {
		out.Kind = workspace.KindNone
	}
	if len(p.Warnings) > 0 {
		out.Note = strings.Join(p.Warnings, "; ")
	}
	return out
}
