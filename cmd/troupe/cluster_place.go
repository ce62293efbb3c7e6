package main

import (
	"context"
	"errors"
	"time"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
	"github.com/troupe-dev/troupe/tools"
)

// herePlacement is what a cluster node's tools ask while calls are not routed between nodes
// (DESIGN §16's routing is not built yet): a new session (create, restore, clone) is claimed
// for this node in etcd first, only if nobody owns it, and given up again when it could not be
// made; every other call goes to this node's actors, which answer for the sessions it owns.
type herePlacement struct {
	local  tools.Requester
	member *cluster.Member
	store  store.Store
}

func (h herePlacement) Request(ctx context.Context, msg any, timeout time.Duration) (any, error) {
	sid, e := h.newSession(msg)
	if e != nil {
		return e, nil
	}
	if sid == "" {
		return h.local.Request(ctx, msg, timeout)
	}
	if err := h.member.ClaimHere(ctx, sid); err != nil {
		var owned *cluster.AlreadyOwnedError
		switch {
		case errors.As(err, &owned) && owned.Owner == h.member.Node():
			return h.local.Request(ctx, msg, timeout) // ours already: the actors say what they know
		case errors.As(err, &owned):
			return messages.Errorf(messages.CodeAlreadyExists, "session %q exists on node %q; choose another id", sid, owned.Owner), nil
		case errors.Is(err, cluster.ErrInvalidID):
			return h.local.Request(ctx, msg, timeout) // the actors explain the id rules
		default:
			return messages.Errorf(messages.CodeUnavailable, "the session could not be placed, so nothing was created: %v", err), nil
		}
	}
	res, err := h.local.Request(ctx, msg, timeout)
	if _, failed := res.(*messages.Error); failed || err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = h.member.Release(rctx, sid)
	}
	return res, err
}

// newSession returns the id of the session msg would create ("" for any other message), giving
// a create without one its id now so that it can be claimed.
func (h herePlacement) newSession(msg any) (string, *messages.Error) {
	switch m := msg.(type) {
	case *messages.CreateSession:
		if m.SessionID == "" {
			m.SessionID = actors.NewSessionID()
		}
		return m.SessionID, nil
	case *messages.CloneSession:
		if m.NewSessionID == "" {
			m.NewSessionID = actors.NewSessionID()
		}
		return m.NewSessionID, nil
	case *messages.RestoreSession:
		if m.SessionID != "" {
			return m.SessionID, nil
		}
		snap, err := h.store.Snapshot(m.SnapshotID)
		if err != nil {
			return "", nil // the actors say the snapshot is unknown
		}
		return snap.SessionID, nil
	}
	return "", nil
}
