package actors

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/workspace"
	"github.com/troupe-dev/troupe/messages"
)

// clone_session (DESIGN §14): the source session hands its record, browser state synced, to the
// orchestrator, which starts the clone as a restore starts a session.

// cloneFrom is the source's record for a clone.
type cloneFrom struct {
	msg    *messages.CloneSession
	rec    store.SessionRecord
	sender *actor.PID
}

// cloneCopied reports the end of a workspace copied for a clone.
type cloneCopied struct {
	from cloneFrom
	err  error
}

// cloneSource is the session's side: its record as it is now.
func (s *sessionActor) cloneSource(ctx actor.Context, msg *messages.CloneSession) {
	if s.syncCookies() {
		if err := s.persist(); err != nil {
			s.log.Error().Err(err).Msg("persist the browser state read for a clone")
		}
	}
	ctx.Send(ctx.Parent(), &cloneFrom{msg: msg, rec: s.rec, sender: ctx.Sender()})
}

func (o *orchestrator) clone(ctx actor.Context, f *cloneFrom) {
	fail := func(e *messages.Error) { ctx.Send(f.sender, e) }
	id := f.msg.NewSessionID
	if id == "" {
		for id = newSessionID(); o.sessions[id] != nil; id = newSessionID() {
		}
	}
	switch {
	case !ValidID(id):
		fail(messages.Errorf(messages.CodeInvalidArgument, "invalid new_session_id %q: use %s, or omit it to get a generated one", id, IDRule))
		return
	case o.sessions[id] != nil:
		fail(messages.Errorf(messages.CodeAlreadyExists, "session %q already exists; choose another new_session_id, or omit it", id))
		return
	case len(o.sessions) >= o.opts.MaxSessions:
		fail(messages.Errorf(messages.CodeLimitExceeded, "the limit of %d concurrent sessions is reached; delete a session first or raise TROUPE_MAX_SESSIONS", o.opts.MaxSessions))
		return
	}
	now := o.opts.Clock.Now()
	src := f.rec
	rec := src
	rec.ID, rec.Owner, rec.Status, rec.SnapshotID = id, messages.OwnerOrLocal(f.msg.Owner), messages.StatusActive, ""
	rec.CreatedAt, rec.LastActivity = now, now
	rec.Children = make([]store.ChildSpec, len(src.Children))
	for i, c := range src.Children {
		c.ID = id + "/" + c.Name
		c.Spec = freshSpec(c)
		rec.Children[i] = c
	}
	f.rec = rec
	if !f.msg.CopyWorkspace || src.Workspace == "" {
		// The same directory, not owned: deleting the clone leaves it to the source.
		f.rec.WorkspaceOwned = false
		o.startClone(ctx, f)
		return
	}
	// Copying a workspace can take long: off the mailbox, with the id reserved.
	o.register(rec, nil, messages.StatusRestoring)
	root, self, dataDir := ctx.ActorSystem().Root, ctx.Self(), o.opts.DataDir
	o.opts.background.Add(1)
	go func() {
		defer o.opts.background.Done()
		dir, err := copyWorkspace(dataDir, src.Workspace, id)
		f.rec.Workspace, f.rec.WorkspaceOwned = dir, true
		root.Send(self, &cloneCopied{from: *f, err: err})
	}()
}

func (o *orchestrator) onCloneCopied(ctx actor.Context, m *cloneCopied) {
	o.forget(m.from.rec.ID)
	if m.err != nil {
		if m.from.rec.Workspace != "" {
			_ = workspace.RemoveOwned(o.opts.DataDir, m.from.rec.Workspace)
		}
		ctx.Send(m.from.sender, messages.Errorf(messages.CodeInternal, "copy the workspace of %s: %v; no clone was made", m.from.msg.SessionID, m.err))
		return
	}
	o.startClone(ctx, &m.from)
}

// startClone spawns the clone; it answers once its record is written.
func (o *orchestrator) startClone(ctx actor.Context, f *cloneFrom) {
	pid, err := o.spawnSession(ctx, f.rec, startReopen)
	if err != nil {
		ctx.Send(f.sender, messages.Errorf(messages.CodeInternal, "start session %q: %v", f.rec.ID, err))
		return
	}
	o.register(f.rec, pid, messages.StatusActive)
	o.counters.created++
	ctx.RequestWithCustomSender(pid, &cloneStarted{from: f.msg.SessionID}, f.sender)
}

// cloneStarted asks a new clone to save its record and answer.
type cloneStarted struct{ from string }

// cloned saves a clone's record and answers with it, as a restored session does.
func (s *sessionActor) cloned(ctx actor.Context, msg *cloneStarted) {
	if err := s.persist(); err != nil {
		s.log.Error().Err(err).Msg("persist cloned session")
		ctx.Send(ctx.Parent(), &sessionCreateFailed{id: s.rec.ID, restore: true})
		ctx.Respond(messages.Errorf(storeCode(err), "could not save the clone %q: %v", s.rec.ID, err))
		s.windDown(ctx, "could not be cloned")
		return
	}
	s.event("session.cloned", "", "ok", map[string]any{"from": msg.from, "children": len(s.children)})
	s.reportChildren(ctx)
	ctx.Respond(&messages.SessionResult{Session: s.info()})
}

// freshSpec is a child's spec without what belongs to the source's running child: an agent's
// process record (the clone would end the source's process as a stale one) and its screen.
func freshSpec(c store.ChildSpec) json.RawMessage {
	if c.Kind != messages.KindAgent {
		return c.Spec
	}
	as, err := decodeAgentSpec(c)
	if err != nil {
		return c.Spec
	}
	as.Process, as.Screen = nil, nil
	raw, _ := json.Marshal(as)
	return raw
}

// copyWorkspace copies a workspace into a new owned one for session id, through an archive (the
// same code that preserves and restores workspaces: symlinks, modes, limits).
func copyWorkspace(dataDir, src, id string) (string, error) {
	dir, err := workspace.Create(dataDir, id)
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dataDir, "clone-*.tar.gz")
	if err != nil {
		return dir, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := workspace.Archive(ctx, src, tmp.Name()); err != nil {
		return dir, err
	}
	_, err = workspace.Extract(ctx, tmp.Name(), filepath.Clean(dir))
	return dir, err
}
