package actors

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// The agent kind: the session's side of its agents (the actor is in agent.go).

func init() { registerKind(messages.KindAgent, agentKind{}) }

type agentKind struct{}

// agentChildSpec is what the store keeps of an agent: its spec and its running process, so that
// a server restarted after a crash can end what the crashed run left.
type agentChildSpec struct {
	Agent   messages.AgentSpec `json:"agent"`
	Process *process.Record    `json:"process,omitempty"`
	// Screen is a terminal agent's screen when it last settled (DESIGN §13: snapshots keep it).
	Screen []string `json:"screen,omitempty"`
}

func decodeAgentSpec(spec store.ChildSpec) (agentChildSpec, error) {
	var as agentChildSpec
	if err := json.Unmarshal(spec.Spec, &as); err != nil {
		return as, fmt.Errorf("agent %s: unreadable spec: %w", spec.ID, err)
	}
	return as, nil
}

func (agentKind) tools() string { return "send_to_agent, read_agent_output or delete_agent" }

func (agentKind) receive(s *sessionActor, ctx actor.Context, msg any) bool {
	switch msg := msg.(type) {
	case *messages.CreateAgent:
		s.touch()
		s.createAgent(ctx, msg)
	case *messages.DeleteAgent:
		s.touch()
		s.deleteAgent(ctx, msg)
	case *agentStarted:
		s.onAgentStarted(ctx, msg)
	case *agentChanged:
		s.onAgentChanged(ctx, msg)
	default:
		return false
	}
	return true
}

// start spawns the agent actor of c and asks it to start; what a previous run left of its
// process is ended first, by the agent, unless the agent is new.
func (agentKind) start(s *sessionActor, ctx actor.Context, c *child, mode startMode) error {
	as, err := decodeAgentSpec(c.spec)
	if err != nil {
		return err
	}
	cfg := agentConfig{opts: s.opts, sessionID: s.rec.ID, name: c.spec.Name, workspace: s.rec.Workspace,
		spec: as.Agent, createdAt: c.spec.CreatedAt, mode: mode}
	if mode != startFresh {
		cfg.stale = as.Process
		c.lastScreen = as.Screen
	}
	pid, err := s.spawnChild(ctx, actor.PropsFromProducer(func() actor.Actor { return newAgentActor(cfg) }), c.spec.Name)
	if err != nil {
		return err
	}
	c.pid = pid
	c.state = messages.ChildInfo{Status: messages.AgentStarting, LastScreen: c.lastScreen}
	s.children = append(s.children, c)
	ctx.Request(pid, &startAgent{})
	return nil
}

// endStale ends what a crashed run left of the agent's process group.
func (agentKind) endStale(o *orchestrator, spec store.ChildSpec) {
	if o.opts.Processes == nil {
		return
	}
	as, err := decodeAgentSpec(spec)
	if err != nil || as.Process == nil {
		return
	}
	if killed, err := o.opts.Processes.KillStale(*as.Process, o.opts.AgentStopGrace); err != nil {
		o.log.Warn().Err(err).Str("child", spec.ID).Msg("end a process left by the crashed run")
	} else if killed {
		o.log.Info().Str("child", spec.ID).Msg("ended a process left by the crashed run")
	}
}

// agentState is how an agent shows among its session's children.
func agentState(a *messages.AgentInfo) messages.ChildInfo {
	return messages.ChildInfo{Status: a.Status, State: a.State, Busy: a.Busy, PID: a.PID, ExitCode: a.ExitCode, Signal: a.Signal,
		Restarts: a.Restarts, Error: a.Error}
}

func (s *sessionActor) createAgent(ctx actor.Context, msg *messages.CreateAgent) {
	if s.opts.Processes == nil {
		ctx.Respond(messages.Errorf(messages.CodeUnavailable, "agents are not available in this server"))
		return
	}
	raw, _ := json.Marshal(agentChildSpec{Agent: msg.Spec})
	c, err := s.newChild(messages.KindAgent, msg.Name, raw)
	if err != nil {
		ctx.Respond(err)
		return
	}
	if err := (agentKind{}).start(s, ctx, c, startFresh); err != nil {
		ctx.Respond(messages.Errorf(messages.CodeInternal, "start agent %s: %v", c.spec.ID, err))
		return
	}
	s.pendingCreate[c.spec.ID] = ctx.Sender()
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
			ctx.Send(sender, msg.err)
		} else {
			s.log.Error().Str("agent", c.spec.ID).Str("error", msg.err.Message).Msg("recover agent")
			c.state.Status, c.state.Error = messages.AgentFailed, msg.err.Message
		}
		return
	}
	c.state = agentState(msg.info)
	c.state.LastScreen = c.lastScreen
	changed := setProcessRecord(c, msg.record)
	if !creating {
		if changed {
			s.persistSoon(ctx)
		}
		return
	}
	if err := s.persist(); err != nil {
		s.removeChild(c)
		ctx.Stop(c.pid)
		ctx.Send(sender, messages.Errorf(storeCode(err), "could not save agent %s: %v; it was not created", c.spec.ID, err))
		return
	}
	s.reportChildren(ctx)
	ctx.Send(sender, &messages.AgentResult{Agent: msg.info})
}

// onAgentChanged keeps the agent's latest state, persists a new process record and counts
// output as session activity.
func (s *sessionActor) onAgentChanged(ctx actor.Context, msg *agentChanged) {
	c := s.childByName(msg.name)
	if c == nil {
		return
	}
	wasRunning := c.running()
	c.state = agentState(&msg.info)
	c.state.LastScreen = c.lastScreen
	if c.running() != wasRunning {
		s.reportChildren(ctx)
	}
	if msg.activity {
		s.touch()
		ctx.Send(ctx.Parent(), &sessionActivity{id: s.rec.ID, at: s.rec.LastActivity})
	}
	recChanged, screenChanged := setProcessRecord(c, msg.record), setScreen(c, msg.screen)
	if recChanged || screenChanged {
		s.persistSoon(ctx)
	}
}

// setScreen keeps a terminal agent's settled screen in its spec; it reports whether that changed.
func setScreen(c *child, screen []string) bool {
	if screen == nil {
		return false
	}
	var spec agentChildSpec
	_ = json.Unmarshal(c.spec.Spec, &spec)
	if slices.Equal(spec.Screen, screen) {
		return false
	}
	spec.Screen = screen
	c.spec.Spec, _ = json.Marshal(spec)
	return true
}

// setProcessRecord stores the agent's running process in its spec; it reports whether that changed.
func setProcessRecord(c *child, rec *process.Record) bool {
	var spec agentChildSpec
	_ = json.Unmarshal(c.spec.Spec, &spec)
	if rec == nil || (spec.Process != nil && *spec.Process == *rec) {
		return false
	}
	spec.Process = rec
	c.spec.Spec, _ = json.Marshal(spec)
	return true
}

func (s *sessionActor) deleteAgent(ctx actor.Context, msg *messages.DeleteAgent) {
	sender := ctx.Sender()
	c, err := s.targetChild(msg)
	if err == nil && c.state.Busy && !msg.Force {
		err = errAgentBusy(msg.AgentID)
	}
	if err != nil {
		ctx.Respond(err)
		return
	}
	grace := msg.Grace
	if grace <= 0 {
		grace = s.opts.AgentStopGrace
	}
	s.stopChild(ctx, c, grace, msg.Force, func(ctx actor.Context, err error, exit *process.ExitStatus) {
		if errors.Is(err, errBusyChild) {
			ctx.Send(sender, errAgentBusy(msg.AgentID))
			return
		}
		if err != nil {
			ctx.Send(sender, messages.Errorf(messages.CodeInternal, "agent %s did not stop: %v", msg.AgentID, err))
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
		ctx.Send(sender, r)
	})
}

func errAgentBusy(id string) *messages.Error {
	return messages.Errorf(messages.CodeBusy, "agent %s is busy handling a message; wait for it (read_agent_output) or pass force=true to stop it anyway", id)
}
