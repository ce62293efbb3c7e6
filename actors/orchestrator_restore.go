package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/workspace"
	"github.com/troupe-dev/troupe/messages"
)

// restore brings a deleted or expired session back from its snapshot (DESIGN §4, last
// paragraph): the same id unless it is taken or another is given, its state and cookies, its
// children re-created oldest first.
func (o *orchestrator) restore(ctx actor.Context, msg *messages.RestoreSession) {
	reply := func(err *messages.Error) { ctx.Respond(err) }
	snap, err := o.opts.Store.Snapshot(msg.SnapshotID)
	if errors.Is(err, store.ErrNotFound) {
		reply(o.noSnapshot(msg.SnapshotID))
		return
	}
	if err != nil {
		reply(messages.Errorf(messages.CodeInternal, "read snapshot %q: %v", msg.SnapshotID, err))
		return
	}
	if !snap.Completed {
		reply(messages.Errorf(messages.CodeInvalidArgument, "snapshot %q belongs to a delete that has not completed; the session is still live or being deleted", msg.SnapshotID))
		return
	}
	id := msg.SessionID
	if id == "" {
		id = snap.SessionID
	}
	switch {
	case !ValidID(id):
		reply(messages.Errorf(messages.CodeInvalidArgument, "invalid session_id %q: use %s", id, IDRule))
		return
	case o.sessions[id] != nil:
		reply(messages.Errorf(messages.CodeAlreadyExists, "session %q exists; pass session_id to restore the snapshot under another id", id))
		return
	case len(o.sessions) >= o.opts.MaxSessions:
		reply(messages.Errorf(messages.CodeLimitExceeded, "the limit of %d concurrent sessions is reached; delete a session first or raise TROUPE_MAX_SESSIONS", o.opts.MaxSessions))
		return
	}
	rec, archive := o.restoredRecord(snap, id)
	if archive == "" {
		o.startRestored(ctx, msg, ctx.Sender(), rec)
		return
	}
	// Unpacking a workspace can take long: it runs off the mailbox, with the id reserved.
	o.register(rec, nil, messages.StatusRestoring)
	sender, root, self, dataDir := ctx.Sender(), ctx.ActorSystem().Root, ctx.Self(), o.opts.DataDir
	o.opts.background.Add(1)
	go func() {
		defer o.opts.background.Done()
		dir, err := workspace.Create(dataDir, id)
		if err == nil {
			uctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			_, err = workspace.Extract(uctx, archive, dir)
			cancel()
		}
		rec.Workspace = dir
		root.Send(self, &restoreUnpacked{msg: msg, sender: sender, rec: rec, archive: archive, err: err})
	}()
}

// restoreUnpacked reports the end of a workspace unpacked for a restore.
type restoreUnpacked struct {
	msg     *messages.RestoreSession
	sender  *actor.PID
	rec     store.SessionRecord
	archive string
	err     error
}

func (o *orchestrator) onRestoreUnpacked(ctx actor.Context, m *restoreUnpacked) {
	o.forget(m.rec.ID)
	if m.err != nil {
		ctx.Send(m.sender, messages.Errorf(messages.CodeInternal,
			"unpack the archived workspace %s: %v; nothing was restored", m.archive, m.err))
		return
	}
	o.startRestored(ctx, m.msg, m.sender, m.rec)
}

// startRestored spawns the restored session; it answers sender once its record is written.
func (o *orchestrator) startRestored(ctx actor.Context, msg *messages.RestoreSession, sender *actor.PID, rec store.SessionRecord) {
	pid, err := o.spawnSession(ctx, rec, startReopen)
	if err != nil {
		ctx.Send(sender, messages.Errorf(messages.CodeInternal, "start session %q: %v", rec.ID, err))
		return
	}
	o.register(rec, pid, messages.StatusActive)
	o.counters.restored++
	ctx.RequestWithCustomSender(pid, msg, sender)
}

// restoredRecord builds the live record of a restored session, its children renamed under the
// new id; archive is the workspace archive to unpack first, if the workspace was troupe's own and
// was archived and removed.
func (o *orchestrator) restoredRecord(snap store.Snapshot, id string) (rec store.SessionRecord, archive string) {
	rec = snap.Session
	rec.ID, rec.Status, rec.SnapshotID = id, messages.StatusActive, ""
	rec.LastActivity = o.opts.Clock.Now()
	rec.Children = make([]store.ChildSpec, len(snap.Session.Children))
	for i, c := range snap.Session.Children {
		c.ID = id + "/" + c.Name
		rec.Children[i] = c
	}
	if p := snap.Preserved; p != nil && p.Kind == workspace.KindArchive && rec.WorkspaceOwned {
		archive = p.Archive
	}
	return rec, archive
}

// finishInterruptedDelete completes a delete that a crash cut short: the snapshot was durable
// before anything was stopped, so what the crashed run left of the children's processes is
// ended, the work is preserved if that had not happened, and the session leaves the live set
// with its snapshot kept.
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
	for _, c := range rec.Children {
		if k, ok := kinds[c.Kind].(staleEnder); ok {
			k.endStale(o, c)
		}
	}
	if snap.Preserved == nil && snap.PreserveWork && rec.Workspace != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		p, err := workspace.PreserveWork(ctx, o.opts.DataDir, rec.Workspace, rec.ID, snap.ID)
		cancel()
		snap.Preserved = toPreserved(p)
		if err != nil {
			snap.Preserved.Kind, snap.Preserved.Note = workspace.KindNone, "could not preserve the work; the workspace is left in place: "+err.Error()
		} else if p.Kind == workspace.KindArchive && rec.WorkspaceOwned {
			if err := workspace.RemoveOwned(o.opts.DataDir, rec.Workspace); err != nil {
				snap.Preserved.Note = "archived, but the workspace could not be removed: " + err.Error()
			}
		}
	}
	snap.Completed = true
	tomb := store.Tombstone{SessionID: rec.ID, Reason: snap.Reason, At: now, SnapshotID: snap.ID, Owner: rec.Owner}
	if err := o.opts.Store.FinishDelete(rec.ID, snap, tomb); err != nil {
		return fmt.Errorf("finish delete: %w", err)
	}
	if o.opts.Events != nil {
		o.opts.Events.Record("session.delete.resumed", rec.ID, "", "ok", map[string]any{"snapshot_id": snap.ID, "reason": snap.Reason})
	}
	return nil
}
