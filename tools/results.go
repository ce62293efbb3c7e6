package tools

import (
	"context"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/messages"
)

// errInternal marks an internal fault: it becomes a JSON-RPC error, not a tool error.
var errInternal = errors.New("internal error")

// toolError renders a user-fixable problem as an isError result that says what to do.
func toolError(e *messages.Error) *mcp.CallToolResult {
	r := mcp.NewToolResultError(e.Message)
	r.StructuredContent = map[string]any{"error": map[string]any{"code": string(e.Code), "message": e.Message}}
	return r
}

// answer turns an actor error into a tool error or a Go error, or nil when there is none.
func (d Deps) answer(ctx context.Context, tool string, e *messages.Error) (*mcp.CallToolResult, error) {
	if e == nil {
		return nil, nil
	}
	if e.UserFixable() {
		return toolError(e), nil
	}
	d.Logger.Error().Str("tool", tool).Str("error", e.Message).Msg("tool failed")
	return nil, fmt.Errorf("%w: %s", errInternal, e.Message)
}

// ask sends msg to the actors and returns the reply; a reply that never comes is a tool error
// (the caller may retry), since the operation may still complete.
func ask[T any](ctx context.Context, d Deps, msg any) (T, *messages.Error) {
	var zero T
	res, err := d.Actors.Request(ctx, msg, d.Timeout)
	if err != nil {
		return zero, messages.Errorf(messages.CodeUnavailable, "%v", err)
	}
	if e, ok := res.(*messages.Error); ok {
		return zero, e
	}
	out, ok := res.(T)
	if !ok {
		return zero, messages.Errorf(messages.CodeInternal, "unexpected reply %T", res)
	}
	return out, nil
}

// structured renders a successful answer: the JSON object plus a short text.
func structured(v any, text string) *mcp.CallToolResult {
	return mcp.NewToolResultStructured(v, text)
}
