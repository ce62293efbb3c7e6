package actors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// sessionCore is a session's data. It lives outside the actor struct so that a supervisor
// restart, which replaces the struct, keeps it.
type sessionCore struct {
	opts *Options
	log  zerolog.Logger
	rec  store.SessionRecord
	// storageTooBig: the pages' localStorage is past browser.MaxStateBytes (warned once).
	storageTooBig bool
	// start says how the session's children begin: none (a new session), recovered after a
	// server restart, or re-created by restore_session.
	start startMode
	// gone is set once the session has been deleted (or failed to be created); the actor is
	// draining its mailbox and answers every further request that the session is gone.
	gone string

	// children are the live children in creation order (protoactor's child set keeps no order).
	children []*child
	// pendingCreate maps a child being created to the caller waiting for it.
	pendingCreate map[string]*actor.PID
	// stops are the child stops in progress, by child id.
	stops map[string]*pendingStop
	// browser is the session's browser context, for its pages, crawls and cookies.
	browser sessionBrowser
	// deleting is the delete_session in progress, if any.
	deleting *deletion
	// persistPending: a persistNow message is queued.
	persistPending bool
}

// sessionActor is one session (DESIGN §2): state, cookies, status and its ordered children.
// Every change is written through to the store before the reply.
type sessionActor struct{ *sessionCore }

// Receive implements actor.Actor.
func (s *sessionActor) Receive(ctx actor.Context) {
	defer s.recoverPanic(ctx)
	msg := ctx.Message()
	s.releaseBrowser(ctx, msg)
	if s.gone != "" {
		if _, system := msg.(actor.SystemMessage); !system && ctx.Sender() != nil {
			ctx.Respond(messages.Errorf(messages.CodeNotFound, "session %q %s", s.rec.ID, s.gone))
		}
		return
	}
	switch msg := msg.(type) {
	case *actor.Started:
		s.started(ctx)
	case *actor.Stopping:
		// The server is shutting down: the children stop with the session and stay in the
		// record (their Terminated is not a removal), to come back at the next start.
		s.gone = "is stopping with the server; try again once it is back"
	case *actor.Stopped, *actor.Restarting:
	case *actor.Terminated:
		s.onChildTerminated(ctx, msg.Who)
	case *persistNow:
		s.onPersistNow()
	case *childStopped:
		s.onChildStopped(ctx, msg)
	case *messages.CrawlURL:
		s.touch()
		s.crawl(ctx, msg, ctx.Sender(), false)
	case *messages.SetCookies:
		s.touch()
		s.cookies(ctx, msg, "", ctx.Sender(), false)
	case *messages.GetCookies:
		s.touch()
		s.cookies(ctx, nil, msg.URL, ctx.Sender(), false)
	case *needContext:
		s.onNeedContext(ctx, msg)
	case *contextOpened:
		s.onContextOpened(ctx, msg)
	case *crawlDone:
		s.onCrawlDone(ctx, msg)
	case *cookiesDone:
		s.onCookiesDone(ctx, msg)
	case *cookiesChanged:
		s.onCookiesChanged(msg)
	case *messages.ExportBrowserState:
		s.touch()
		s.exportBrowserState(ctx)
	case *messages.ImportBrowserState:
		s.touch()
		s.importBrowserState(ctx, msg)
	case *importDone:
		s.onImportDone(ctx, msg)
	case *messages.CloneSession:
		s.touch()
		s.cloneSource(ctx, msg)
	case *cloneStarted:
		s.cloned(ctx, msg)
	case *messages.CreateSession:
		s.create(ctx, msg)
	case *messages.RestoreSession:
		s.restored(ctx)
	case *messages.GetSession:
		s.touch()
		ctx.Respond(&messages.SessionResult{Session: s.info()})
	case *messages.UpdateSessionState:
		s.touch()
		s.updateState(ctx, msg)
	case *messages.DeleteSession:
		s.delete(ctx, msg)
	case *workPreserved:
		s.onWorkPreserved(ctx, msg)
	case *workspaceRemoved:
		s.onWorkspaceRemoved(ctx, msg)
	default:
		s.receiveForChildren(ctx, msg)
	}
}

// receiveForChildren handles what the child kinds own (their create and delete requests, what
// their actors report), then any other request for one child, which goes to that child.
func (s *sessionActor) receiveForChildren(ctx actor.Context, msg any) {
	for _, k := range kinds {
		if k.receive(s, ctx, msg) {
			return
		}
	}
	if m, ok := msg.(messages.ChildTargeted); ok {
		s.routeToChild(ctx, m)
		return
	}
	s.log.Warn().Str("type", fmt.Sprintf("%T", msg)).Msg("session: unknown message")
	respondUnknown(ctx, fmt.Sprintf("session %q", s.rec.ID))
}

func (s *sessionActor) recoverPanic(ctx actor.Context) {
	if r := recover(); r != nil {
		s.log.Error().Interface("panic", r).Str("type", fmt.Sprintf("%T", ctx.Message())).Msg("session: handler panicked")
		if ctx.Sender() != nil {
			ctx.Respond(messages.Errorf(messages.CodeInternal, "internal error in session %q: %v", s.rec.ID, r))
		}
	}
}

func (s *sessionActor) touch() { s.rec.LastActivity = s.opts.Clock.Now() }

// started brings back the children of a recovered session: what a crashed run left of their
// processes is ended first, then each child is re-created.
func (s *sessionActor) started(ctx actor.Context) {
	s.pendingCreate = make(map[string]*actor.PID)
	s.stops = make(map[string]*pendingStop)
	if s.start == startFresh {
		return
	}
	for _, spec := range s.rec.Children {
		if err := s.recreateChild(ctx, spec, s.start); err != nil {
			s.log.Error().Err(err).Str("child", spec.ID).Msg("this child could not be brought back and is dropped")
		}
	}
}

// create finishes a session the orchestrator has registered: its workspace, then the durable
// record, then the answer. On failure the orchestrator forgets it and the actor winds down.
func (s *sessionActor) create(ctx actor.Context, msg *messages.CreateSession) {
	fail := func(err *messages.Error) {
		// The orchestrator forgets the id first, so that the caller may use it again at once.
		ctx.Send(ctx.Parent(), &sessionCreateFailed{id: s.rec.ID})
		ctx.Respond(err)
		s.windDown(ctx, "could not be created")
	}
	for k, v := range s.rec.State {
		s.rec.State[k] = compactJSON(v)
	}
	if size := stateSize(s.rec.State); size > s.opts.MaxStateBytes {
		fail(messages.Errorf(messages.CodeTooLarge, "state is %d bytes, over the limit of %d bytes per session; keep large data in the workspace and put its path in the state", size, s.opts.MaxStateBytes))
		return
	}
	if s.opts.PrepareWorkspace != nil {
		path, owned, err := s.opts.PrepareWorkspace(s.rec.ID, msg.Workspace)
		if err != nil {
			fail(asUserError(err))
			return
		}
		s.rec.Workspace, s.rec.WorkspaceOwned = path, owned
	}
	if err := s.opts.Store.PutSession(s.rec); err != nil {
		s.log.Error().Err(err).Msg("persist new session")
		fail(messages.Errorf(storeCode(err), "could not save session %q: %v", s.rec.ID, err))
		return
	}
	ctx.Respond(&messages.SessionResult{Session: s.info()})
}

// windDown marks the session gone and stops the actor after the messages already queued, which
// are answered that the session is gone instead of being dropped.
func (s *sessionActor) windDown(ctx actor.Context, why string) {
	s.gone = why
	ctx.Poison(ctx.Self())
}

func (s *sessionActor) updateState(ctx actor.Context, msg *messages.UpdateSessionState) {
	reply := func(err *messages.Error) {
		if err != nil {
			ctx.Respond(err)
			return
		}
		ctx.Respond(&messages.UpdateSessionStateResult{SessionID: s.rec.ID, State: s.rec.State})
	}
	for _, k := range msg.Unset {
		if _, both := msg.Set[k]; both {
			reply(messages.Errorf(messages.CodeInvalidArgument, "key %q is both in set and in unset; name each key once", k))
			return
		}
	}
	next := maps.Clone(s.rec.State)
	if next == nil {
		next = make(map[string]json.RawMessage)
	}
	for _, k := range msg.Unset {
		delete(next, k)
	}
	for k, v := range msg.Set {
		next[k] = compactJSON(v)
	}
	if size := stateSize(next); size > s.opts.MaxStateBytes {
		reply(messages.Errorf(messages.CodeTooLarge, "the new state would be %d bytes, over the limit of %d bytes per session; nothing was changed. Keep large data in the workspace and put its path in the state", size, s.opts.MaxStateBytes))
		return
	}
	prev := s.rec.State
	s.rec.State = next
	if err := s.opts.Store.PutSession(s.rec); err != nil {
		s.rec.State = prev
		s.log.Error().Err(err).Msg("persist state")
		reply(messages.Errorf(storeCode(err), "could not save the state of %q: %v; nothing was changed", s.rec.ID, err))
		return
	}
	reply(nil)
}

// compactJSON returns v without insignificant whitespace, so that the size limit measures what
// is stored; a value that is not valid JSON is kept as it is (json.Marshal refuses it later).
func compactJSON(v json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return v
	}
	return b.Bytes()
}

func stateSize(state map[string]json.RawMessage) int {
	if len(state) == 0 {
		return 2
	}
	data, _ := json.Marshal(state)
	return len(data)
}

func (s *sessionCore) timeout() time.Duration { return s.opts.idleTimeoutOf(s.rec.IdleTimeoutSeconds) }

// info renders the session for clients.
func (s *sessionCore) info() *messages.SessionInfo {
	state := s.rec.State
	if state == nil {
		state = map[string]json.RawMessage{}
	}
	labels := s.rec.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	children := make([]messages.ChildInfo, 0, len(s.children))
	for _, c := range s.children {
		children = append(children, c.info())
	}
	return &messages.SessionInfo{
		SessionID: s.rec.ID, Name: s.rec.Name, Owner: messages.OwnerOrLocal(s.rec.Owner), Status: s.rec.Status,
		Workspace: s.rec.Workspace, WorkspaceOwned: s.rec.WorkspaceOwned,
		State: maps.Clone(state), Labels: labels, CreatedAt: s.rec.CreatedAt, LastActivity: s.rec.LastActivity,
		ExpiresAt: s.rec.LastActivity.Add(s.timeout()), IdleTimeoutSeconds: int64(s.timeout() / time.Second),
		Children: children,
	}
}

// asUserError turns an error from a helper into a typed one; helpers return *messages.Error for
// problems the user can fix.
func asUserError(err error) *messages.Error {
	if me, ok := err.(*messages.Error); ok {
		return me
	}
	return messages.Errorf(messages.CodeInvalidArgument, "%v", err)
}
