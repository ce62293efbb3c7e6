package actors

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// child is one live child of a session, in creation order.
type child struct {
	spec store.ChildSpec
	pid  *actor.PID
	// state is the child as its actor last described it (status, busy, kind-specific fields),
	// for get_session and for the delete's check for busy children.
	state    messages.ChildInfo
	stopping bool
	// lastScreen is what a terminal agent showed when it was saved, for one brought back by a
	// restore or a restart of the server (its new process draws a new screen).
	lastScreen []string
}

// pendingStop is a child stop in progress; done runs once the child actor has terminated (or
// the stop failed, then the child is still there).
type pendingStop struct {
	done func(ctx actor.Context, err error, exit *process.ExitStatus)
	exit *process.ExitStatus
}

// splitChildID splits "<session>/<name>".
func splitChildID(id string) (sessionID, name string, ok bool) {
	sessionID, name, ok = strings.Cut(id, "/")
	return sessionID, name, ok && ValidID(sessionID) && ValidID(name)
}

func (s *sessionActor) childByName(name string) *child {
	for _, c := range s.children {
		if c.spec.Name == name {
			return c
		}
	}
	return nil
}

func (s *sessionActor) childByPID(pid *actor.PID) *child {
	for _, c := range s.children {
		if c.pid.Equal(pid) {
			return c
		}
	}
	return nil
}

// nextChildName generates "agent-1", "page-2", … unused in this session.
func (s *sessionActor) nextChildName(kind messages.ChildKind) string {
	for {
		s.rec.NextChild++
		name := fmt.Sprintf("%s-%d", kind, s.rec.NextChild)
		if s.childByName(name) == nil {
			return name
		}
	}
}

// refuseNewChild says why no child can be added now, or nil.
func (s *sessionActor) refuseNewChild(name string) *messages.Error {
	switch {
	case s.rec.Status == messages.StatusDeleting:
		return messages.Errorf(messages.CodeDeleting, "session %q is being deleted", s.rec.ID)
	case !ValidID(name):
		return messages.Errorf(messages.CodeInvalidArgument, "invalid name %q: use %s", name, IDRule)
	case s.childByName(name) != nil:
		return messages.Errorf(messages.CodeAlreadyExists, "session %q already has a child named %q; choose another name or omit it", s.rec.ID, name)
	case len(s.children) >= s.opts.MaxChildren:
		return messages.Errorf(messages.CodeLimitExceeded, "session %q has %d children, the most a session may have; delete one (delete_agent, close_page) or raise max_children", s.rec.ID, len(s.children))
	}
	return nil
}

// newChild builds a new child of a kind, named name (generated when empty), or says why the
// session can take no such child now. Its kind's start spawns it.
func (s *sessionActor) newChild(kind messages.ChildKind, name string, spec json.RawMessage) (*child, *messages.Error) {
	if name == "" {
		name = s.nextChildName(kind)
	}
	if err := s.refuseNewChild(name); err != nil {
		return nil, err
	}
	return &child{spec: store.ChildSpec{ID: s.rec.ID + "/" + name, Kind: kind, Name: name, CreatedAt: s.opts.Clock.Now(), Spec: spec}}, nil
}

// targetChild finds the child a request names, or says why it cannot have it: no such child,
// a child of another kind (then the error names the tools for it), or one being stopped.
func (s *sessionActor) targetChild(msg messages.ChildTargeted) (*child, *messages.Error) {
	id := msg.TargetChild()
	_, name, _ := splitChildID(id)
	c := s.childByName(name)
	want := msg.TargetKind()
	switch {
	case c == nil:
		return nil, messages.Errorf(messages.CodeNotFound, "session %q has no child %q: no %s of that name; get_session lists its children", s.rec.ID, name, want)
	case c.spec.Kind != want:
		hint := ""
		if k, err := kindOf(c.spec.Kind); err == nil {
			hint = fmt.Sprintf("; use %s tools for it (%s)", c.spec.Kind, k.tools())
		}
		return nil, messages.Errorf(messages.CodeInvalidArgument, "%s is %s, not %s%s", id, article(c.spec.Kind), article(want), hint)
	case c.stopping:
		return nil, messages.Errorf(messages.CodeDeleting, "%s %s is already being stopped", c.spec.Kind, id)
	}
	return c, nil
}

// routeToChild forwards a request for a child to it, when the child is there and of the kind
// the request is for.
func (s *sessionActor) routeToChild(ctx actor.Context, msg messages.ChildTargeted) {
	c, err := s.targetChild(msg)
	if err != nil {
		ctx.Respond(err)
		return
	}
	s.touch()
	ctx.Forward(c.pid)
}

// spawnChild spawns a child actor under the session, named after the child (with a suffix if
// the previous actor of that name is still stopping).
func (s *sessionActor) spawnChild(ctx actor.Context, props *actor.Props, name string) (*actor.PID, error) {
	pid, err := ctx.SpawnNamed(props, name)
	for i := 1; errors.Is(err, actor.ErrNameExists); i++ {
		pid, err = ctx.SpawnNamed(props, fmt.Sprintf("%s~%d", name, i))
	}
	return pid, err
}

// persistNow asks the session to write its record once for the changes queued before it.
type persistNow struct{}

// persistSoon writes the record after the messages already queued (one write for a burst of
// process records, as when a restore starts many agents). Nothing waits on these writes: a
// record missing after a crash only means a process of the crashed run is not ended at start.
func (s *sessionActor) persistSoon(ctx actor.Context) {
	if s.persistPending {
		return
	}
	s.persistPending = true
	ctx.Send(ctx.Self(), &persistNow{})
}

func (s *sessionActor) onPersistNow() {
	s.persistPending = false
	if s.gone != "" || s.deleting != nil {
		return
	}
	if err := s.persist(); err != nil {
		s.log.Error().Err(err).Msg("persist agent process records")
	}
}

func (s *sessionActor) removeChild(c *child) {
	for i, x := range s.children {
		if x == c {
			s.children = append(s.children[:i:i], s.children[i+1:]...)
			return
		}
	}
}

// persist writes the record with the children as they are now.
func (s *sessionActor) persist() error {
	s.persistChildren()
	return s.opts.Store.PutSession(s.rec)
}

// persistChildren copies the children's specs, in creation order, into the record.
func (s *sessionActor) persistChildren() {
	s.rec.Children = make([]store.ChildSpec, len(s.children))
	for i, c := range s.children {
		s.rec.Children[i] = c.spec
	}
}

// reportChildren tells the orchestrator the session's child counts by kind, and how many run.
func (s *sessionActor) reportChildren(ctx actor.Context) {
	counts := make(map[messages.ChildKind]int)
	running := make(map[messages.ChildKind]int)
	for _, c := range s.children {
		counts[c.spec.Kind]++
		if c.running() {
			running[c.spec.Kind]++
		}
	}
	ctx.Send(ctx.Parent(), &childrenChanged{id: s.rec.ID, counts: counts, running: running})
}

// running reports whether the child has not ended: an agent whose process exited or failed is
// kept for its output but runs nothing (a child whose state is not known yet counts as running).
func (c *child) running() bool {
	return c.state.Status != messages.AgentExited && c.state.Status != messages.AgentFailed
}

// info renders a child for get_session.
func (c *child) info() messages.ChildInfo {
	ci := c.state
	ci.ID, ci.Kind, ci.Name = c.spec.ID, c.spec.Kind, c.spec.Name
	if ci.Status == "" {
		ci.Status = "unknown"
	}
	if c.stopping {
		ci.Status = messages.AgentStopping
	}
	return ci
}
