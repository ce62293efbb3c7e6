package route

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/troupe-dev/troupe/messages"
)

// call sends msg to the gateway of node to and waits for its answer, at most timeout (or
// until ctx's deadline): the answer, or a *messages.Error (unavailable) that names the node,
// says what went wrong and whether anything may have been done. about says what the call is
// for (`session "web"`), to begin those errors with.
func (g *Gateway) call(ctx context.Context, to Node, msg any, timeout time.Duration, about string) any {
	a, err := Encode(msg)
	if err != nil {
		return messages.Errorf(messages.CodeUnavailable, "%s is on node %q, and %T cannot be sent to another node: nothing was done; ask node %q itself", about, to.Name, msg, to.Name)
	}
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d < timeout {
			timeout = d
		}
	}
	if timeout <= 0 {
		return messages.Errorf(messages.CodeUnavailable, "%s: no time left to ask node %q: nothing was done", about, to.Name)
	}
	env := &actor.MessageEnvelope{Message: a}
	env.SetHeader(headerTimeout, strconv.FormatInt(max(1, (timeout-hopMargin(timeout)).Milliseconds()), 10))
	env.SetHeader(headerDeadline, strconv.FormatInt(time.Now().Add(timeout).UnixMilli(), 10))
	env.SetHeader(headerFrom, g.opts.Node)
	if id := progressID(msg); id.IsValid() && id.String() != "" {
		env.SetHeader(headerProgressTo, g.addr)
	}
	f := actor.NewFuture(g.sys, timeout)
	env.Sender = f.PID()
	before := g.conns.get(to.Address)
	// A caller that goes away completes the future at once; the other node still finishes.
	stop := context.AfterFunc(ctx, func() { g.sys.Root.Send(f.PID(), &callCancelled{err: ctx.Err()}) })
	defer stop()
	g.sys.Root.Send(actor.NewPID(to.Address, gatewayName), env)
	res, err := f.Result()
	switch {
	case errors.Is(err, actor.ErrDeadLetter):
		return notDone(about, to, "no connection could be made to it")
	case errors.Is(err, actor.ErrTimeout):
		if after := g.conns.get(to.Address); !before.connected && after.connects == before.connects {
			return notDone(about, to, "no connection to it within "+timeout.String())
		}
		return messages.Errorf(messages.CodeUnavailable, "%s is on node %q (%s), which did not answer within %s: the call was sent, so it may or may not have been done; check (get_session) before retrying", about, to.Name, to.Address, timeout)
	case err != nil:
		return messages.Errorf(messages.CodeUnavailable, "%s is on node %q (%s): %v: it may or may not have been done", about, to.Name, to.Address, err)
	}
	switch r := res.(type) {
	case *callCancelled:
		return messages.Errorf(messages.CodeUnavailable, "%s: the call to node %q was cancelled (%v); it may still complete there", about, to.Name, r.err)
	case *anypb.Any:
		out, err := Decode(r)
		if err != nil {
			return messages.Errorf(messages.CodeUnavailable, "%s: node %q answered with what this node cannot read (%v): it may or may not have been done; do all nodes run the same troupe version?", about, to.Name, err)
		}
		return out
	default:
		return messages.Errorf(messages.CodeInternal, "%s: node %q answered with a %T", about, to.Name, res)
	}
}

// notDone is the answer for a call that never reached its node.
func notDone(about string, to Node, why string) *messages.Error {
	return messages.Errorf(messages.CodeUnavailable, "%s is on node %q (%s), which could not be reached (%s): nothing was done; retry once it is back, or in a few seconds if it is gone for good (its sessions are then taken over)", about, to.Name, to.Address, why)
}

// hopMargin is how much sooner than its caller the node that runs a call gives up: enough for
// its answer to travel back.
func hopMargin(timeout time.Duration) time.Duration { return min(timeout/10, time.Second) }

// callCancelled completes the future of a call whose caller went away.
type callCancelled struct{ err error }

// conns follows this node's connections to the others (Proto.Actor's endpoint events), to
// tell a call that never left (no connection since it was sent) from one that got lost.
type conns struct {
	mu sync.Mutex
	m  map[string]connState
}

type connState struct {
	connected bool
	connects  uint64 // how many times it connected
}

func (c *conns) event(evt any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e := evt.(type) {
	case *remote.EndpointConnectedEvent:
		s := c.m[e.Address]
		s.connected = true
		s.connects++
		c.m[e.Address] = s
	case *remote.EndpointTerminatedEvent:
		s := c.m[e.Address]
		s.connected = false
		c.m[e.Address] = s
	}
}

// quiesce orders every endpoint event handled so far before what follows. Remote.Shutdown
// sets the endpoint manager's map of connections to nil while the handler of an endpoint event
// published just before may still read it (eventstream.Publish runs handlers after releasing
// its lock; remote/endpoint_manager.go, stop and removeEndpoint): the handler of each event
// runs before conns.event, and this lock makes it happen before the shutdown.
func (c *conns) quiesce() {
	c.mu.Lock()
	defer c.mu.Unlock()
}

func (c *conns) get(addr string) connState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[addr]
}
