package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/process"
)

// stopChild stops one child: the child ends its own work (an agent its process group), answers,
// and then its actor is stopped; done runs once the session saw it terminate. DESIGN §4 step 6
// and delete_agent / close_page share this. Without force a busy child refuses (the child, not
// the session's possibly older view, decides). A child already being stopped is not asked
// again: done runs when that stop ends.
func (s *sessionActor) stopChild(ctx actor.Context, c *child, grace time.Duration, force bool, done func(ctx actor.Context, err error, exit *process.ExitStatus)) {
	id := c.spec.ID
	if ps := s.stops[id]; ps != nil {
		first := ps.done
		ps.done = func(ctx actor.Context, err error, exit *process.ExitStatus) {
			first(ctx, err, exit)
			done(ctx, err, exit)
		}
		return
	}
	c.stopping = true
	s.stops[id] = &pendingStop{done: func(ctx actor.Context, err error, exit *process.ExitStatus) {
		s.recordChildStop(id, err, exit)
		done(ctx, err, exit)
	}}
	ctx.Request(c.pid, &stopChild{grace: grace, force: force})
}

func (s *sessionActor) onChildStopped(ctx actor.Context, msg *childStopped) {
	_, name, _ := splitChildID(msg.id)
	c := s.childByName(name)
	if c == nil {
		return
	}
	ps := s.stops[c.spec.ID]
	if ps == nil {
		return
	}
	if msg.err != nil {
		c.stopping = false
		delete(s.stops, c.spec.ID)
		ps.done(ctx, msg.err, nil)
		return
	}
	ps.exit = msg.exit
	ctx.Stop(c.pid)
}

func (s *sessionActor) onChildTerminated(ctx actor.Context, who *actor.PID) {
	c := s.childByPID(who)
	if c == nil {
		return
	}
	ps := s.stops[c.spec.ID]
	delete(s.stops, c.spec.ID)
	s.removeChild(c)
	if ps != nil {
		ps.done(ctx, nil, ps.exit)
		return
	}
	if s.gone == "" {
		s.log.Error().Str("child", c.spec.ID).Msg("child stopped unexpectedly")
		if err := s.persist(); err != nil {
			s.log.Error().Err(err).Msg("persist after a child stopped")
		}
		s.reportChildren(ctx)
	}
}

// recordChildStop writes one child stop to the audit log.
func (s *sessionActor) recordChildStop(id string, err error, exit *process.ExitStatus) {
	if s.opts.Events == nil {
		return
	}
	details := map[string]any{}
	outcome := "ok"
	if err != nil {
		outcome, details["error"] = "error", err.Error()
	}
	if exit != nil {
		details["exit_code"], details["signal"] = exit.Code, exit.Signal
	}
	s.opts.Events.Record("child.stop", s.rec.ID, id, outcome, details)
}
