package route

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/ids"
	"github.com/troupe-dev/troupe/messages"
)

// New sessions (DESIGN §16, "Placement"): the node that receives the call claims the id for the
// least-loaded live node, then runs the call there; that node releases the claim when the
// session could not be created (Router.serve). A clone is claimed by the source's node, for
// itself.

// generatedTries is how many generated ids a create tries before giving up: another node
// holding a fresh random id is rare, twice in a row rarer still.
const generatedTries = 3

func (r *Router) create(ctx context.Context, m *messages.CreateSession, timeout time.Duration) any {
	msg := *m
	if msg.SessionID != "" && !ids.Valid(msg.SessionID) {
		return r.here(ctx, &msg, timeout) // the actors' own answer
	}
	generate := msg.SessionID == ""
	for try := 1; ; try++ {
		if generate {
			msg.SessionID = newSessionID()
		}
		node, err := r.cluster.Claim(ctx, msg.SessionID)
		var owned *cluster.AlreadyOwnedError
		switch {
		case errors.As(err, &owned) && generate && try < generatedTries:
			continue
		case errors.As(err, &owned):
			return messages.Errorf(messages.CodeAlreadyExists, "session %q already exists (on node %q); choose another session_id, or omit it to get a generated one", owned.SessionID, owned.Owner)
		case err != nil:
			return messages.Errorf(messages.CodeUnavailable, "cannot place session %q (%v): nothing was created", msg.SessionID, err)
		}
		return r.on(ctx, node, &msg, timeout, fmt.Sprintf("the new session %q", msg.SessionID))
	}
}

// restore places the session a snapshot brings back (its own id unless another is given).
func (r *Router) restore(ctx context.Context, m *messages.RestoreSession, timeout time.Duration) any {
	msg := *m
	if msg.SessionID == "" {
		sid, err := r.cluster.SnapshotSession(ctx, msg.SnapshotID)
		if err != nil {
			return messages.Errorf(messages.CodeUnavailable, "cannot read snapshot %q (%v): nothing was restored", msg.SnapshotID, err)
		}
		msg.SessionID = sid
	}
	if msg.SessionID == "" || !ids.Valid(msg.SessionID) {
		return r.here(ctx, m, timeout) // no such snapshot, or a bad id: the actors' own answer
	}
	node, err := r.cluster.Claim(ctx, msg.SessionID)
	var owned *cluster.AlreadyOwnedError
	switch {
	case errors.As(err, &owned):
		return messages.Errorf(messages.CodeAlreadyExists, "session %q exists (on node %q); pass session_id to restore the snapshot under another id", owned.SessionID, owned.Owner)
	case err != nil:
		return messages.Errorf(messages.CodeUnavailable, "cannot place session %q (%v): nothing was restored", msg.SessionID, err)
	}
	return r.on(ctx, node, &msg, timeout, fmt.Sprintf("the restored session %q", msg.SessionID))
}

// claimClone claims a clone's new id (generated when empty) for this node, where its source
// runs, and returns the message to run.
func (r *Router) claimClone(ctx context.Context, m *messages.CloneSession) (*messages.CloneSession, *messages.Error) {
	msg := *m
	if msg.NewSessionID != "" && !ids.Valid(msg.NewSessionID) {
		return &msg, nil // the actors' own answer
	}
	generate := msg.NewSessionID == ""
	for try := 1; ; try++ {
		if generate {
			msg.NewSessionID = newSessionID()
		}
		err := r.cluster.ClaimFor(ctx, msg.NewSessionID, r.cluster.Self())
		var owned *cluster.AlreadyOwnedError
		switch {
		case err == nil:
			return &msg, nil
		case errors.As(err, &owned) && generate && try < generatedTries:
			continue
		case errors.As(err, &owned):
			return nil, messages.Errorf(messages.CodeAlreadyExists, "session %q already exists (on node %q); choose another new_session_id, or omit it", owned.SessionID, owned.Owner)
		default:
			return nil, messages.Errorf(messages.CodeUnavailable, "cannot place the clone %q (%v): nothing was created", msg.NewSessionID, err)
		}
	}
}

// here runs msg on this node, as an answer.
func (r *Router) here(ctx context.Context, msg any, timeout time.Duration) any {
	res, err := r.serve(ctx, msg, timeout)
	if err != nil {
		return messages.Errorf(messages.CodeUnavailable, "%v", err)
	}
	return res
}

// idAlphabet is the actors' alphabet of generated ids: no l, o, 0, 1, readable aloud.
const idAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// newSessionID returns an id such as "s-k3fw9q", as the actors generate them.
func newSessionID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return "s-" + string(b)
}
