package actors

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// entry is the orchestrator's view of one live session: enough to route, list, sweep and count
// without asking the session.
type entry struct {
	pid          *actor.PID
	name         string
	owner        string // the principal it belongs to (never empty: OwnerOrLocal)
	labels       map[string]string
	createdAt    time.Time
	lastActivity time.Time
	idleTimeout  time.Duration
	status       messages.Status
	// children counts the session's live children by kind.
	children map[messages.ChildKind]int
	// running counts, by kind, the children not ended (an exited or failed agent is not running).
	running map[messages.ChildKind]int
	// stuck explains a delete that could not finish (the store refused its last write).
	stuck string
}

// orchestrator is the registry of sessions (DESIGN §2): limits, routing by id, the idle sweep,
// metrics, recovery at start and orderly shutdown.
type orchestrator struct {
	opts     *Options
	log      zerolog.Logger
	sessions map[string]*entry
	// dirty holds sessions whose activity is newer than what the store has.
	dirty    map[string]time.Time
	counters counters
	started  time.Time
	// incarnations counts the actors spawned per session id.
	incarnations map[string]int
	// stopping is set once shutdown began: sessions terminating then are expected.
	stopping bool
	// pruning: snapshots past their retention are being removed, off the mailbox; pruneNext is
	// the cutoff of a sweep that came meanwhile (zero: none), and sweepWaiters the SweepIdle
	// callers answered once no prune is left, so that a sweep's answer means its prune is done.
	pruning      bool
	pruneNext    time.Time
	sweepWaiters []sweepWaiter
}

// sweepWaiter is a SweepIdle caller waiting for the prune its sweep started.
type sweepWaiter struct {
	pid *actor.PID
	res *messages.SweepIdleResult
}

type counters struct{ created, deleted, expired, restored, rollbacks int64 }

// Internal messages between the orchestrator and its sessions.
type (
	sessionCreateFailed struct {
		id      string
		restore bool
	}
	sessionGone struct {
		id, reason, snapshotID string
		at                     time.Time
	}
	deleteAborted struct {
		id         string
		rolledBack bool
	}
	childrenChanged struct {
		id      string
		counts  map[messages.ChildKind]int
		running map[messages.ChildKind]int
	}
	sessionActivity struct {
		id string
		at time.Time
	}
	sessionTerminated struct{ who *actor.PID }
	deleteStuck       struct{ id, why string }
	prepareShutdown   struct{}
	ping              struct{}
)

func newOrchestrator(opts *Options) *orchestrator {
	return &orchestrator{
		opts:         opts,
		log:          opts.Logger.With().Str("actor", "orchestrator").Logger(),
		sessions:     make(map[string]*entry),
		dirty:        make(map[string]time.Time),
		incarnations: make(map[string]int),
	}
}

// Receive implements actor.Actor.
func (o *orchestrator) Receive(ctx actor.Context) {
	defer o.recoverPanic(ctx)
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		o.started = o.opts.Clock.Now()
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *actor.Terminated:
		// Terminated is a system message and overtakes the user messages a session sent just
		// before stopping (sessionGone, sessionCreateFailed): look at it after them.
		ctx.Send(ctx.Self(), &sessionTerminated{who: msg.Who})
	case *deleteStuck:
		if e := o.sessions[msg.id]; e != nil {
			e.stuck = msg.why
		}
	case *restoreUnpacked:
		o.onRestoreUnpacked(ctx, msg)
	case *deleteResumed:
		o.onDeleteResumed(msg)
	case *sessionTerminated:
		o.onTerminated(msg.who)
	case *recoverSessions:
		ctx.Respond(o.recover(ctx))
	case *messages.AdoptSessions:
		ctx.Respond(o.adopt(ctx))
	case *ping:
		ctx.Respond(&ping{})
	case *messages.CreateSession:
		o.create(ctx, msg)
	case *messages.CheckAccess:
		o.checkAccess(ctx, msg)
	case *messages.ListSessions:
		ctx.Respond(o.list(msg))
	case *messages.SessionMetrics:
		ctx.Respond(o.metrics(msg))
	case *messages.DeleteSession:
		o.routeDelete(ctx, msg)
	case *messages.SweepIdle:
		expiring := o.sweep(ctx)
		if ctx.Sender() != nil {
			// Answered once the prune it started is done (off the mailbox).
			o.sweepWaiters = append(o.sweepWaiters, sweepWaiter{ctx.Sender(), &messages.SweepIdleResult{Expiring: expiring}})
		}
	case *messages.DeleteSessionResult:
		// An expiry the sweep started finished; sessionGone did the bookkeeping.
	case *messages.Error:
		// An expiry the sweep started was refused (a busy child) or rolled back; deleteAborted
		// made the session active again.
		o.log.Info().Str("reason", msg.Message).Msg("idle session not expired")
	case *sessionCreateFailed:
		o.forget(msg.id)
		if msg.restore {
			o.counters.restored--
		} else {
			o.counters.created--
		}
	case *sessionGone:
		o.onGone(msg)
	case *deleteAborted:
		if e := o.sessions[msg.id]; e != nil {
			e.status = messages.StatusActive
		}
		if msg.rolledBack {
			o.counters.rollbacks++
			if e := o.sessions[msg.id]; e != nil {
				// A child would not stop: an expiry trying again at every sweep would stop and
				// re-create the newer children each time. The session counts as active again
				// for a full timeout.
				e.lastActivity = o.opts.Clock.Now()
			}
		}
	case *sessionActivity:
		if e := o.sessions[msg.id]; e != nil && msg.at.After(e.lastActivity) {
			e.lastActivity = msg.at
			o.dirty[msg.id] = msg.at
		}
	case *messages.RestoreSession:
		o.restore(ctx, msg)
	case *cloneFrom:
		o.clone(ctx, msg)
	case *cloneCopied:
		o.onCloneCopied(ctx, msg)
	case *messages.ListSnapshots:
		o.answerListSnapshots(ctx, msg)
	case *snapshotsPruned:
		o.onSnapshotsPruned(ctx)
	case *messages.CrawlURL:
		if msg.SessionID == "" {
			o.crawlThrowaway(ctx, msg)
		} else {
			o.route(ctx, msg.SessionID, msg)
		}
	// Every other request names its session, or a child "<session>/<name>": one case each,
	// so that a new request type needs no routing of its own.
	case messages.SessionTargeted:
		o.route(ctx, msg.TargetSession(), msg)
	case messages.ChildTargeted:
		o.routeChild(ctx, msg.TargetChild(), msg)
	case *childrenChanged:
		if e := o.sessions[msg.id]; e != nil {
			e.children, e.running = msg.counts, msg.running
		}
	case *prepareShutdown:
		o.stopping = true
		o.flushActivity()
		ctx.Respond(&prepareShutdown{})
	default:
		o.log.Warn().Str("type", fmt.Sprintf("%T", msg)).Msg("orchestrator: unknown message")
		respondUnknown(ctx, "the orchestrator")
	}
}

func (o *orchestrator) recoverPanic(ctx actor.Context) {
	if r := recover(); r != nil {
		o.log.Error().Interface("panic", r).Str("type", fmt.Sprintf("%T", ctx.Message())).Msg("orchestrator: handler panicked")
		if ctx.Sender() != nil {
			ctx.Respond(messages.Errorf(messages.CodeInternal, "internal error: %v", r))
		}
	}
}

func (o *orchestrator) create(ctx actor.Context, msg *messages.CreateSession) {
	now := o.opts.Clock.Now()
	id := msg.SessionID
	switch {
	case id == "":
		for id = newSessionID(); o.sessions[id] != nil; id = newSessionID() {
		}
	case !ValidID(id):
		ctx.Respond(messages.Errorf(messages.CodeInvalidArgument,
			"invalid session_id %q: use %s, or omit it to get a generated one", id, IDRule))
		return
	case o.sessions[id] != nil:
		ctx.Respond(messages.Errorf(messages.CodeAlreadyExists,
			"session %q already exists; choose another session_id, or omit it to get a generated one", id))
		return
	}
	if msg.IdleTimeoutSeconds < 0 || msg.IdleTimeoutSeconds > MaxIdleTimeoutSeconds {
		ctx.Respond(messages.Errorf(messages.CodeInvalidArgument,
			"idle_timeout_seconds must be between 1 and %d (ten years), got %d", MaxIdleTimeoutSeconds, msg.IdleTimeoutSeconds))
		return
	}
	if len(o.sessions) >= o.opts.MaxSessions {
		ctx.Respond(messages.Errorf(messages.CodeLimitExceeded,
			"the limit of %d concurrent sessions is reached; delete a session you no longer need (delete_session) or raise TROUPE_MAX_SESSIONS", o.opts.MaxSessions))
		return
	}
	rec := store.SessionRecord{
		ID: id, Owner: messages.OwnerOrLocal(msg.Owner), Name: msg.Name, State: msg.State, Labels: msg.Labels, Cookies: msg.Cookies,
		LocalStorage: msg.LocalStorage,
		CreatedAt:    now, LastActivity: now, IdleTimeoutSeconds: msg.IdleTimeoutSeconds,
		Status: messages.StatusActive,
	}
	pid, err := o.spawnSession(ctx, rec, startFresh)
	if err != nil {
		ctx.Respond(messages.Errorf(messages.CodeInternal, "start session %q: %v", id, err))
		return
	}
	o.register(rec, pid, messages.StatusActive)
	o.counters.created++
	ctx.Forward(pid)
}

// register records a live (or reserved, pid nil) session in the registry.
func (o *orchestrator) register(rec store.SessionRecord, pid *actor.PID, status messages.Status) {
	o.sessions[rec.ID] = &entry{pid: pid, name: rec.Name, owner: messages.OwnerOrLocal(rec.Owner), labels: rec.Labels, createdAt: rec.CreatedAt,
		lastActivity: rec.LastActivity, idleTimeout: o.opts.idleTimeoutOf(rec.IdleTimeoutSeconds),
		status: status, children: countKinds(rec.Children), running: countKinds(rec.Children)}
}

func (o *orchestrator) spawnSession(ctx actor.Context, rec store.SessionRecord, start startMode) (*actor.PID, error) {
	core := &sessionCore{opts: o.opts, rec: rec, start: start,
		log: o.opts.Logger.With().Str("session", rec.ID).Logger()}
	props := actor.PropsFromProducer(func() actor.Actor { return &sessionActor{core} })
	// Every incarnation of an id gets its own actor name, so that the late Terminated of a
	// deleted session's actor can never be taken for its successor's.
	name := rec.ID
	if n := o.incarnations[rec.ID]; n > 0 {
		name = fmt.Sprintf("%s~%d", rec.ID, n)
	}
	o.incarnations[rec.ID]++
	pid, err := ctx.SpawnNamed(props, name)
	return pid, err
}

// route forwards a message naming a session to it, recording the activity, or answers why not.
func (o *orchestrator) route(ctx actor.Context, id string, msg any) {
	e := o.sessions[id]
	if e == nil {
		o.answerUnknown(ctx, id)
		return
	}
	switch e.status {
	case messages.StatusDeleting:
		if e.stuck != "" {
			ctx.Respond(messages.Errorf(messages.CodeDeleting, "%s", e.stuck))
			return
		}
		ctx.Respond(messages.Errorf(messages.CodeDeleting,
			"session %q is being deleted; wait for the delete to finish, then use restore_session to bring it back if needed", id))
		return
	case messages.StatusRestoring:
		ctx.Respond(messages.Errorf(messages.CodeUnavailable,
			"session %q is being restored (its workspace is being unpacked); try again in a moment", id))
		return
	}
	now := o.opts.Clock.Now()
	e.lastActivity = now
	o.dirty[id] = now
	ctx.Forward(e.pid)
}

// routeChild routes a message naming a child "<session>/<name>" to its session.
func (o *orchestrator) routeChild(ctx actor.Context, childID string, msg any) {
	sessionID, _, ok := splitChildID(childID)
	if !ok {
		ctx.Respond(messages.Errorf(messages.CodeInvalidArgument,
			"invalid id %q: a child's id is <session_id>/<name>, as create_agent, open_page and get_session show it", childID))
		return
	}
	o.route(ctx, sessionID, msg)
}

func (o *orchestrator) routeDelete(ctx actor.Context, msg *messages.DeleteSession) {
	e := o.sessions[msg.SessionID]
	if e != nil && e.status == messages.StatusActive && !msg.DryRun {
		o.route(ctx, msg.SessionID, msg)
		e.status = messages.StatusDeleting // refuse new work while the delete runs
		return
	}
	o.route(ctx, msg.SessionID, msg)
}

func (o *orchestrator) forget(id string) {
	delete(o.sessions, id)
	delete(o.dirty, id)
}

func (o *orchestrator) onGone(msg *sessionGone) {
	o.forget(msg.id)
	if msg.reason == "expired" {
		o.counters.expired++
	} else {
		o.counters.deleted++
	}
	if o.opts.Events != nil {
		action := "session.deleted"
		if msg.reason == "expired" {
			action = "session.expire"
		}
		o.opts.Events.Record(action, msg.id, "", "ok", map[string]any{"reason": msg.reason, "snapshot_id": msg.snapshotID})
	}
}

func (o *orchestrator) onTerminated(who *actor.PID) {
	if o.stopping {
		return
	}
	for id, e := range o.sessions {
		if who.Equal(e.pid) { // e.pid is nil while a resumed delete runs
			o.log.Error().Str("session", id).Msg("session actor stopped unexpectedly; it will be recovered at the next start")
			o.forget(id)
		}
	}
}

func (o *orchestrator) list(msg *messages.ListSessions) *messages.ListSessionsResult {
	key, value, withValue := strings.Cut(msg.Label, "=")
	now := o.opts.Clock.Now()
	out := make([]messages.SessionSummary, 0, len(o.sessions))
	for id, e := range o.sessions {
		if msg.Owner != "" && e.owner != msg.Owner {
			continue
		}
		if msg.Label != "" {
			v, ok := e.labels[key]
			if !ok || (withValue && v != value) {
				continue
			}
		}
		labels := e.labels
		if labels == nil {
			labels = map[string]string{}
		}
		out = append(out, messages.SessionSummary{
			SessionID: id, Name: e.name, Owner: e.owner, Status: e.status, Labels: labels,
			CreatedAt: e.createdAt, LastActivity: e.lastActivity,
			AgeSeconds: now.Sub(e.createdAt).Seconds(), IdleSeconds: now.Sub(e.lastActivity).Seconds(),
			// The columns list_sessions has always had (DESIGN §7), read from the counts by kind.
			Agents: e.children[messages.KindAgent], Pages: e.children[messages.KindPage],
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SessionID < out[j].SessionID })
	return &messages.ListSessionsResult{Sessions: out}
}
