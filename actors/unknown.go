package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/messages"
)

// respondUnknown answers a request that an actor does not understand with an internal error,
// so that a forgotten case fails fast instead of leaving its caller waiting for the whole call
// timeout (STYLE habit 13). A message without a sender (a reply, an event) gets no answer.
func respondUnknown(ctx actor.Context, who string) {
	if ctx.Sender() == nil {
		return
	}
	ctx.Respond(messages.Errorf(messages.CodeInternal, "internal error: %s cannot handle %T", who, ctx.Message()))
}
