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
	spec     store.ChildSpec
	pid      *actor.PID
	agent    *messages.AgentInfo
	page     *messages.PageInfo
	stopping bool
}

// agentChildSpec is what the store keeps of an agent: its spec and its running process, so that
// a server restarted after a crash can end what the crashed run left.
type agentChildSpec struct {
	Agent   messages.AgentSpec `json:"agent"`
	Process *process.Record    `json:"process,omitempty"`
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
func (s *sessionActor) nextChildName(kind string) string {
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

// spawnChild spawns a child actor under the session, named after the child (with a suffix if
// the previous actor of that name is still stopping).
func (s *sessionActor) spawnChild(ctx actor.Context, props *actor.Props, name string) (*actor.PID, error) {
	pid, err := ctx.SpawnNamed(props, name)
	for i := 1; errors.Is(err, actor.ErrNameExists); i++ {
		pid, err = ctx.SpawnNamed(props, fmt.Sprintf("%s~%d", name, i))
	}
	return pid, err
}

func (s *sessionActor) createAgent(ctx actor.Context, msg *messages.CreateAgent) {
	reply := func(err *messages.Error) { ctx.Respond(&messages.AgentResult{Err: err}) }
	if s.opts.Processes == nil {
		reply(messages.Errorf(messages.CodeUnavailable, "agents are not available in this server"))
		return
	}
	name := msg.Name
	if name == "" {
		name = s.nextChildName("agent")
	}
	if err := s.refuseNewChild(name); err != nil {
		reply(err)
		return
	}
	raw, _ := json.Marshal(agentChildSpec{Agent: msg.Spec})
	now := s.opts.Clock.Now()
	c := &child{spec: store.ChildSpec{ID: s.rec.ID + "/" + name, Kind: "agent", Name: name, CreatedAt: now, Spec: raw}}
	if err := s.startAgentChild(ctx, c, msg.Spec, startFresh); err != nil {
		reply(messages.Errorf(messages.CodeInternal, "start agent %s: %v", c.spec.ID, err))
		return
	}
	s.pendingCreate[c.spec.ID] = ctx.Sender()
}

// startAgentChild spawns the agent actor of c and asks it to start.
func (s *sessionActor) startAgentChild(ctx actor.Context, c *child, spec messages.AgentSpec, mode startMode) error {
	cfg := agentConfig{opts: s.opts, sessionID: s.rec.ID, name: c.spec.Name, workspace: s.rec.Workspace,
		spec: spec, createdAt: c.spec.CreatedAt, mode: mode}
	if mode != startFresh {
		// What a previous run left of this agent's process is ended first, by the agent.
		if as, err := decodeAgentSpec(c.spec); err == nil {
			cfg.stale = as.Process
		}
	}
	pid, err := s.spawnChild(ctx, actor.PropsFromProducer(func() actor.Actor { return newAgentActor(cfg) }), c.spec.Name)
	if err != nil {
		return err
	}
	c.pid = pid
	c.agent = &messages.AgentInfo{AgentID: c.spec.ID, Name: c.spec.Name, Status: messages.AgentStarting, CreatedAt: c.spec.CreatedAt}
	s.children = append(s.children, c)
	ctx.Request(pid, &startAgent{})
	return nil
}

// onAgentStarted completes a create (persisting the child before answering) or a recovery.
func (s *sessionActor) onAgentStarted(ctx actor.Context, msg *agentStarted) {
	// Replies carry no sender in protoactor: the child is found by name.
	c := s.childByName(msg.name)
	if c == nil {
		return
	}
	sender, creating := s.pendingCreate[c.spec.ID]
	delete(s.pendingCreate, c.spec.ID)
	if msg.err != nil {
		if creating {
			s.removeChild(c)
			ctx.Stop(c.pid)
			ctx.Send(sender, &messages.AgentResult{Err: msg.err})
		} else {
			s.log.Error().Str("agent", c.spec.ID).Str("error", msg.err.Message).Msg("recover agent")
			c.agent.Status, c.agent.Error = messages.AgentFailed, msg.err.Message
		}
		return
	}
	c.agent = msg.info
	changed := c.setRecord(msg.record)
	if !creating {
		if changed {
			s.persistSoon(ctx)
		}
		return
	}
	if err := s.persist(); err != nil {
		s.removeChild(c)
		ctx.Stop(c.pid)
		ctx.Send(sender, &messages.AgentResult{Err: messages.Errorf(messages.CodeInternal, "could not save agent %s: %v; it was not created", c.spec.ID, err)})
		return
	}
	s.reportChildren(ctx)
	ctx.Send(sender, &messages.AgentResult{Agent: msg.info})
}

// onAgentChanged keeps the agent's latest state, persists a new process record and counts
// output as session activity.
func (s *sessionActor) onAgentChanged(ctx actor.Context, msg *agentChanged) {
	c := s.childByName(msg.name)
	if c == nil || c.spec.Kind != "agent" {
		return
	}
	info := msg.info
	c.agent = &info
	if msg.activity {
		s.touch()
		ctx.Send(ctx.Parent(), &sessionActivity{id: s.rec.ID, at: s.rec.LastActivity})
	}
	if c.setRecord(msg.record) {
		s.persistSoon(ctx)
	}
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

// setRecord stores the agent's running process in its spec; it reports whether that changed.
func (c *child) setRecord(rec *process.Record) bool {
	var spec agentChildSpec
	_ = json.Unmarshal(c.spec.Spec, &spec)
	if rec == nil || (spec.Process != nil && *spec.Process == *rec) {
		return false
	}
	spec.Process = rec
	c.spec.Spec, _ = json.Marshal(spec)
	return true
}

// routeToChild forwards a message for "<session>/<name>" to the child.
func (s *sessionActor) routeToChild(ctx actor.Context, childID string, msg any) {
	_, name, _ := splitChildID(childID)
	c := s.childByName(name)
	if c == nil {
		ctx.Respond(agentErrorReply(msg, messages.Errorf(messages.CodeNotFound, "session %q has no child %q; get_session lists its children", s.rec.ID, name)))
		return
	}
	if c.stopping {
		ctx.Respond(agentErrorReply(msg, messages.Errorf(messages.CodeDeleting, "%s is being stopped", childID)))
		return
	}
	s.touch()
	ctx.Forward(c.pid)
}

func (s *sessionActor) deleteAgent(ctx actor.Context, msg *messages.DeleteAgent) {
	_, name, _ := splitChildID(msg.AgentID)
	c := s.childByName(name)
	sender := ctx.Sender()
	reply := func(r *messages.DeleteAgentResult) { ctx.Send(sender, r) }
	switch {
	case c == nil || c.spec.Kind != "agent":
		reply(&messages.DeleteAgentResult{AgentID: msg.AgentID, Err: messages.Errorf(messages.CodeNotFound, "session %q has no agent %q; get_session lists its children", s.rec.ID, name)})
		return
	case c.stopping:
		reply(&messages.DeleteAgentResult{AgentID: msg.AgentID, Err: messages.Errorf(messages.CodeDeleting, "agent %s is already being stopped", msg.AgentID)})
		return
	case c.agent != nil && c.agent.Busy && !msg.Force:
		reply(&messages.DeleteAgentResult{AgentID: msg.AgentID, Err: messages.Errorf(messages.CodeBusy, "agent %s is busy handling a message; wait for it (read_agent_output) or pass force=true to stop it anyway", msg.AgentID)})
		return
	}
	grace := msg.Grace
	if grace <= 0 {
		grace = s.opts.AgentStopGrace
	}
	s.stopChild(ctx, c, grace, msg.Force, func(ctx actor.Context, err error, exit *process.ExitStatus) {
		if errors.Is(err, errBusyChild) {
			reply(&messages.DeleteAgentResult{AgentID: msg.AgentID, Err: messages.Errorf(messages.CodeBusy, "agent %s is busy handling a message; wait for it (read_agent_output) or pass force=true to stop it anyway", msg.AgentID)})
			return
		}
		if err != nil {
			reply(&messages.DeleteAgentResult{AgentID: msg.AgentID, Err: messages.Errorf(messages.CodeInternal, "agent %s did not stop: %v", msg.AgentID, err)})
			return
		}
		if perr := s.persist(); perr != nil {
			s.log.Error().Err(perr).Msg("persist after delete_agent")
		}
		s.reportChildren(ctx)
		r := &messages.DeleteAgentResult{AgentID: msg.AgentID, Stopped: true}
		if exit != nil {
			code := exit.Code
			r.ExitCode, r.Signal = &code, exit.Signal
		}
		reply(r)
	})
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

// reportChildren tells the orchestrator the session's child counts.
func (s *sessionActor) reportChildren(ctx actor.Context) {
	agents, pages := 0, 0
	for _, c := range s.children {
		switch c.spec.Kind {
		case "agent":
			agents++
		case "page":
			pages++
		}
	}
	ctx.Send(ctx.Parent(), &childrenChanged{id: s.rec.ID, agents: agents, pages: pages})
}

// info renders a child for get_session.
func (c *child) info() messages.ChildInfo {
	ci := messages.ChildInfo{ID: c.spec.ID, Kind: c.spec.Kind, Name: c.spec.Name, Status: "unknown"}
	if a := c.agent; a != nil {
		ci.Status, ci.Busy, ci.PID, ci.ExitCode, ci.Signal, ci.Restarts, ci.Error = a.Status, a.Busy, a.PID, a.ExitCode, a.Signal, a.Restarts, a.Error
	}
	if p := c.page; p != nil {
		ci.Status, ci.Busy, ci.URL, ci.Title, ci.Error = p.Status, p.Busy, p.URL, p.Title, p.Error
	}
	if c.stopping {
		ci.Status = messages.AgentStopping
	}
	return ci
}
