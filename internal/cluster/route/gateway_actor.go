package route

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/troupe-dev/troupe/messages"
)

// The headers of a call, beside its message.
const (
	// headerTimeout is how long the call may take on the node that runs it, in milliseconds:
	// a little less than the caller waits, so that a late answer still arrives in time.
	headerTimeout = "troupe-timeout-ms"
	// headerDeadline is when the caller stops waiting (Unix milliseconds): a call that reaches
	// its node later (it waited for a connection) is not run, since its caller was told that
	// nothing was done.
	headerDeadline = "troupe-deadline-ms"
	// headerFrom names the calling node.
	headerFrom = "troupe-from"
	// headerProgressTo is the calling gateway's address when the call reports progress.
	headerProgressTo = "troupe-progress-to"
)

// gatewayActor receives the calls of other nodes. Each runs off its mailbox, on its own
// goroutine (a delete takes seconds), and answers the caller's future directly.
type gatewayActor struct{ g *Gateway }

func (a *gatewayActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *anypb.Any:
		sender, header := ctx.Sender(), ctx.MessageHeader()
		if !a.g.calls.begin() {
			a.g.answer(sender, messages.Errorf(messages.CodeUnavailable, "node %q is stopping: nothing was done; retry in a few seconds, once its sessions are taken over", a.g.opts.Node))
			return
		}
		go func() {
			defer a.g.calls.end()
			a.g.answer(sender, a.g.run(m, header))
		}()
	case actor.SystemMessage, actor.AutoReceiveMessage:
	default:
		a.g.log.Warn().Str("type", fmt.Sprintf("%T", m)).Msg("gateway: unknown message")
		if ctx.Sender() != nil {
			ctx.Respond(mustEncode(messages.Errorf(messages.CodeInternal, "node %q: the gateway does not know %T", a.g.opts.Node, m)))
		}
	}
}

// answer sends reply to the caller's future, encoded.
func (g *Gateway) answer(to *actor.PID, reply any) {
	if to == nil {
		return
	}
	a, err := Encode(reply)
	if err != nil {
		g.log.Error().Err(err).Msg("gateway: encode an answer")
		a = mustEncode(messages.Errorf(messages.CodeInternal, "node %q: its answer cannot cross nodes: %v", g.opts.Node, err))
	}
	g.sys.Root.Send(to, a)
}

// mustEncode encodes a registered message, which cannot fail.
func mustEncode(msg any) *anypb.Any {
	a, err := Encode(msg)
	if err != nil {
		panic(err)
	}
	return a
}

// run decodes one call and runs it with the handler; every failure is an answer.
func (g *Gateway) run(a *anypb.Any, header actor.ReadonlyMessageHeader) (reply any) {
	defer func() {
		if p := recover(); p != nil {
			g.log.Error().Interface("panic", p).Str("type", a.GetTypeUrl()).Msg("gateway: a call panicked")
			reply = messages.Errorf(messages.CodeInternal, "node %q: internal error running %s: %v", g.opts.Node, a.GetTypeUrl(), p)
		}
	}()
	get := func(k string) string {
		if header == nil {
			return ""
		}
		return header.Get(k)
	}
	msg, err := Decode(a)
	if err != nil {
		return messages.Errorf(messages.CodeUnavailable, "node %q cannot read the call (%v): nothing was done; do all nodes run the same troupe version?", g.opts.Node, err)
	}
	if ms, err := strconv.ParseInt(get(headerDeadline), 10, 64); err == nil && time.Now().After(time.UnixMilli(ms)) {
		return messages.Errorf(messages.CodeUnavailable, "the call from node %q reached node %q after its caller stopped waiting: nothing was done (if this happens to every call, check that the nodes' clocks agree)", get(headerFrom), g.opts.Node)
	}
	h := g.handler.Load()
	if h == nil {
		return messages.Errorf(messages.CodeUnavailable, "node %q is starting: nothing was done; retry in a moment", g.opts.Node)
	}
	timeout := time.Minute
	if ms, err := strconv.ParseInt(get(headerTimeout), 10, 64); err == nil && ms > 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	if to := get(headerProgressTo); to != "" {
		if id := progressID(msg); id.IsValid() && id.String() != "" {
			key := g.relay.add(to, id.String())
			defer g.relay.remove(key)
			id.SetString(key)
		}
	}
	res, err := (*h)(context.Background(), msg, timeout)
	if err != nil {
		return messages.Errorf(messages.CodeUnavailable, "node %q: %v", g.opts.Node, err)
	}
	return res
}
