package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/messages"
)

// System is a running actor tree: the protoactor system, the orchestrator and the sweep timer.
type System struct {
	sys          *actor.ActorSystem
	orchestrator *actor.PID
	opts         *Options
	stopSweep    scheduler.CancelFunc
	background   sync.WaitGroup
	// cancelBackground cancels Options.stopping.
	cancelBackground context.CancelFunc
}

// Start builds the actor tree, re-creates the sessions found in the store and starts the idle
// sweep. It returns once recovery is complete, so the first call sees every session.
func Start(opts Options) (*System, error) {
	if opts.Store == nil {
		return nil, errors.New("actors: Options.Store is required")
	}
	opts.defaults()
	o := &opts
	cfg := actor.Configure(
		actor.WithLoggerFactory(func(sys *actor.ActorSystem) *slog.Logger {
			return slog.New(zerolog.NewSlogHandler(o.Logger.With().Str("lib", "protoactor").Logger()))
		}),
		actor.WithDeadLetterRequestLogging(false),
	)
	sys := actor.NewActorSystemWithConfig(cfg)
	s := &System{sys: sys, opts: o}
	o.background = &s.background
	o.stopping, s.cancelBackground = context.WithCancel(context.Background())
	props := actor.PropsFromProducer(func() actor.Actor { return newOrchestrator(o) },
		actor.WithSupervisor(actor.NewOneForOneStrategy(10, time.Minute, func(any) actor.Directive { return actor.ResumeDirective })))
	pid, err := sys.Root.SpawnNamed(props, "orchestrator")
	if err != nil {
		return nil, fmt.Errorf("spawn orchestrator: %w", err)
	}
	s.orchestrator = pid
	res, err := sys.Root.RequestFuture(pid, &recoverSessions{}, 5*time.Minute).Result()
	if err != nil {
		s.stopActors()
		s.cancelBackground()
		return nil, fmt.Errorf("recover sessions: %w", err)
	}
	if rr := res.(*recoverResult); rr.err != nil {
		s.stopActors()
		s.cancelBackground()
		return nil, rr.err
	}
	if o.SweepInterval > 0 {
		s.stopSweep = scheduler.NewTimerScheduler(sys.Root).SendRepeatedly(o.SweepInterval, o.SweepInterval, pid, &messages.SweepIdle{})
	}
	return s, nil
}

// Request sends msg to the orchestrator and waits for the reply, at most timeout (or until ctx's
// deadline when that comes sooner). Cancelling ctx does not abandon a started mutation: the
// actors finish it; the caller just stops waiting at the deadline.
func (s *System) Request(ctx context.Context, msg any, timeout time.Duration) (any, error) {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 && d < timeout {
			timeout = d
		}
	}
	f := s.sys.Root.RequestFuture(s.orchestrator, msg, timeout)
	// When the caller is gone (a client that disconnected, a server shutting down) the future is
	// completed at once; the actors still finish what they started.
	stop := context.AfterFunc(ctx, func() { s.sys.Root.Send(f.PID(), &requestCancelled{err: ctx.Err()}) })
	defer stop()
	res, err := f.Result()
	if errors.Is(err, actor.ErrTimeout) {
		return nil, fmt.Errorf("no answer within %s; the operation may still complete, check with get_session", timeout)
	}
	if c, ok := res.(*requestCancelled); ok {
		return nil, fmt.Errorf("the call was cancelled (%w); the operation may still complete", c.err)
	}
	return res, err
}

// requestCancelled completes the future of a request whose caller went away.
type requestCancelled struct{ err error }

// Shutdown flushes activity to the store and stops every actor, children before parents. The
// store is the caller's to close afterwards.
func (s *System) Shutdown(ctx context.Context) error {
	if s.stopSweep != nil {
		s.stopSweep()
	}
	_, err := s.sys.Root.RequestFuture(s.orchestrator, &prepareShutdown{}, 30*time.Second).Result()
	s.stopActors()
	s.cancelBackground()
	s.background.Wait()
	s.sys.Shutdown()
	return err
}

func (s *System) stopActors() {
	// StopFuture waits for the orchestrator's Terminated, which comes after all its children.
	_ = s.sys.Root.StopFuture(s.orchestrator).Wait()
}
