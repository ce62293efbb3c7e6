package route

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/ids"
	"github.com/troupe-dev/troupe/messages"
)

// Requester sends a message to the actor tree and waits for the reply: actors.System, and
// the Router itself (tools.Requester).
type Requester interface {
	Request(ctx context.Context, msg any, timeout time.Duration) (any, error)
}

// Options tune a Router.
type Options struct {
	// FanoutTimeout bounds how long a cluster-wide read (list_sessions, session_metrics) waits
	// for each node; a node that has not answered by then is named in the answer. Default 5 s.
	FanoutTimeout time.Duration
	Logger        zerolog.Logger
}

// Router is what the MCP tools ask in a cluster, in place of the node's actors (it implements
// tools.Requester): it runs each call where it belongs. A call naming a session (its
// SessionID, an agent or page id "<session>/<name>", or CheckAccess's SessionID) runs on the
// node that owns the session; a create, restore or clone first places the new session (a
// claim in etcd), then runs there; list_sessions and session_metrics ask every live node and
// merge. Everything else runs here: list_snapshots and access to snapshots read the cluster's
// store, which every node shares, and the local-only messages (codec.go) never leave.
type Router struct {
	local   Requester
	cluster Cluster
	gw      *Gateway
	opts    Options
	log     zerolog.Logger
}

// New returns the Router of this node: local is its actors, c the cluster, gw its started
// gateway, which from now on runs other nodes' calls through the Router's local side.
func New(local Requester, c Cluster, gw *Gateway, opts Options) *Router {
	if opts.FanoutTimeout <= 0 {
		opts.FanoutTimeout = 5 * time.Second
	}
	r := &Router{local: local, cluster: c, gw: gw, opts: opts, log: opts.Logger.With().Str("component", "router").Logger()}
	gw.Serve(r.serve)
	return r
}

// Request runs msg where it belongs and returns its answer; a node that cannot be reached is
// answered as a *messages.Error (unavailable) that names it.
func (r *Router) Request(ctx context.Context, msg any, timeout time.Duration) (any, error) {
	switch m := msg.(type) {
	case *messages.CreateSession:
		return r.create(ctx, m, timeout), nil
	case *messages.RestoreSession:
		return r.restore(ctx, m, timeout), nil
	case *messages.ListSessions:
		return r.listSessions(ctx, m, timeout), nil
	case *messages.SessionMetrics:
		return r.metrics(ctx, m, timeout), nil
	}
	if sid := targetSession(msg); sid != "" && ids.Valid(sid) {
		return r.toOwner(ctx, sid, msg, timeout)
	}
	return r.serve(ctx, msg, timeout)
}

// targetSession is the session msg names, or "".
func targetSession(msg any) string {
	switch m := msg.(type) {
	case messages.SessionTargeted:
		return m.TargetSession()
	case messages.ChildTargeted:
		sid, _, _ := strings.Cut(m.TargetChild(), "/")
		return sid
	case *messages.CheckAccess:
		return m.SessionID
	}
	return ""
}

// toOwner runs msg on the node that owns session sid. An owner read from the watched view may
// be stale: when that node says it has no such session, the owner is read again from etcd,
// and the call goes to the new one, once.
func (r *Router) toOwner(ctx context.Context, sid string, msg any, timeout time.Duration) (any, error) {
	owner := r.cluster.CachedOwner(sid)
	cached := owner != ""
	if !cached {
		var err error
		if owner, err = r.cluster.Owner(ctx, sid); err != nil {
			return messages.Errorf(messages.CodeUnavailable, "cannot tell which node owns session %q (%v): nothing was done", sid, err), nil
		}
	}
	if owner == "" || owner == r.cluster.Self() {
		// No owner: this node's actors say why (a tombstone in the shared store, or none).
		return r.serve(ctx, msg, timeout)
	}
	res := r.on(ctx, owner, msg, timeout, fmt.Sprintf("session %q", sid))
	if e, ok := res.(*messages.Error); ok && cached && e.Code == messages.CodeNotFound {
		if now, err := r.cluster.Owner(ctx, sid); err == nil && now != owner && now != "" {
			res = r.on(ctx, now, msg, timeout, fmt.Sprintf("session %q", sid))
		}
	}
	return res, nil
}

// on runs msg on node: here, or through its gateway.
func (r *Router) on(ctx context.Context, node string, msg any, timeout time.Duration, about string) any {
	if node == r.cluster.Self() {
		res, err := r.serve(ctx, msg, timeout)
		if err != nil {
			return messages.Errorf(messages.CodeUnavailable, "%v", err)
		}
		return res
	}
	to, ok := r.node(node)
	if !ok {
		return messages.Errorf(messages.CodeUnavailable, "%s is on node %q, which is not a live member of the cluster (its lease ended): nothing was done; its sessions are being taken over by the other nodes: retry in a few seconds", about, node)
	}
	return r.gw.call(ctx, to, msg, timeout, about)
}

// node returns the live node named name.
func (r *Router) node(name string) (Node, bool) {
	for _, n := range r.cluster.Nodes() {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// serve runs msg on this node's actors: the calls routed here, and those other nodes send
// (the gateway's Handler). It claims a clone's new id for this node (the clone lives where
// its source does), releases the claim of a new session whose creation failed, and stamps
// the sessions it answers with this node's name.
func (r *Router) serve(ctx context.Context, msg any, timeout time.Duration) (any, error) {
	if c, ok := msg.(*messages.CloneSession); ok {
		clone, e := r.claimClone(ctx, c)
		if e != nil {
			return e, nil
		}
		msg = clone
	}
	res, err := r.local.Request(ctx, msg, timeout)
	if err != nil {
		return nil, err
	}
	if sid := placed(msg); sid != "" && ids.Valid(sid) {
		if e, ok := res.(*messages.Error); ok && e.Code != messages.CodeAlreadyExists {
			r.release(sid, e)
		}
	}
	return stamp(res, r.cluster.Self()), nil
}

// placed is the id of the new session msg creates, claimed before it was sent, or "".
func placed(msg any) string {
	switch m := msg.(type) {
	case *messages.CreateSession:
		return m.SessionID
	case *messages.RestoreSession:
		return m.SessionID
	case *messages.CloneSession:
		return m.NewSessionID
	}
	return ""
}

// release gives up the claim of a session that was not created (e says why), so that its id
// is free again. A claim whose release fails stays with this node until its lease ends.
func (r *Router) release(sid string, e *messages.Error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.cluster.Release(ctx, sid); err != nil && !errors.Is(err, cluster.ErrNotOwner) {
		r.log.Warn().Err(err).Str("session", sid).Str("create_error", e.Message).Msg("router: release the claim of a session that was not created")
	}
}

// stamp sets the owning node on the sessions an answer carries. It copies what it changes:
// the answer may share memory with an actor's state.
func stamp(res any, node string) any {
	switch m := res.(type) {
	case *messages.SessionResult:
		if m.Session != nil {
			s := *m.Session
			s.Node = node
			return &messages.SessionResult{Session: &s}
		}
	case *messages.ListSessionsResult:
		out := *m
		out.Sessions = make([]messages.SessionSummary, len(m.Sessions))
		for i, s := range m.Sessions {
			s.Node = node
			out.Sessions[i] = s
		}
		return &out
	}
	return res
}
