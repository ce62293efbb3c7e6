package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/messages"
)

// auditAction names a tool's audit action: "create_session" → "session.create",
// "read_agent_output" → "agent_output.read".
func auditAction(tool string) string {
	verb, noun, ok := strings.Cut(tool, "_")
	if !ok {
		return "tool." + tool
	}
	return strings.TrimSuffix(noun, "s") + "." + verb
}

// auditMiddleware records every tool call (DESIGN §6): "requested" before it runs and
// "completed" or "failed" after. A mutating tool runs only once its "requested" event is durable
// (fail closed); read-only tools keep answering when the log cannot record them. The closing
// event is queued without waiting for its fsync: nothing the client sees depends on it.
func auditMiddleware(d Deps, all []Tool) server.ToolHandlerMiddleware {
	mutating := mutatingTools(all)
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			start := time.Now()
			// mcp-go decoded the arguments it kept (RawArguments) into Arguments, as auditArgs's round
			// trip of them would.
			args := d.callArgs(ctx, req)
			ev := audit.Event{Action: auditAction(req.Params.Name), Stage: audit.StageRequested, Actor: clientIdentity(ctx, d.Transport),
				Principal: principal.From(ctx).Name, Details: map[string]any{"tool": req.Params.Name, "arguments": args}}
			ev.Session, ev.Target = auditTargets(args)
			if mutating[req.Params.Name] {
				// The write must not be abandoned halfway by a client that disconnects.
				if _, err := d.Audit.Append(context.WithoutCancel(ctx), ev); err != nil {
					d.Logger.Error().Err(err).Str("tool", req.Params.Name).Msg("audit: refused a mutating call it could not record")
					return toolError(messages.Errorf(messages.CodeUnavailable, "the audit log could not record this call, so it was not run: %v", err)), nil
				}
			} else if err := d.Audit.Record(ev); err != nil {
				d.Logger.Warn().Err(err).Str("tool", req.Params.Name).Msg("audit: a read-only call was not recorded")
			}
			res, err := next(ctx, req)
			done := audit.Event{Action: ev.Action, Stage: audit.StageCompleted, Actor: ev.Actor, Principal: ev.Principal, Session: ev.Session, Target: ev.Target,
				Outcome: audit.OutcomeOK, DurationMS: float64(time.Since(start).Microseconds()) / 1000, Details: map[string]any{"tool": req.Params.Name}}
			// The error is shortened like the arguments: it may quote them.
			switch {
			case err != nil:
				done.Stage, done.Outcome, done.Details["error"] = audit.StageFailed, "fault", shorten(err.Error())
			case res != nil && res.IsError:
				done.Stage, done.Outcome, done.Details["error"] = audit.StageFailed, audit.OutcomeError, shorten(resultText(res))
			case res != nil && res.NeedsInput():
				// Nothing ran: the client was asked something (an approval) and makes the call again.
				done.Outcome = "input_required"
			}
			if rerr := d.Audit.Record(done); rerr != nil {
				d.Logger.Error().Err(rerr).Str("tool", req.Params.Name).Msg("audit: the end of a call was not recorded")
			}
			return res, err
		}
	}
}

// clientIdentity is the MCP client on whose behalf a call runs: the transport, the client's
// name and version (per request for clients that skip initialize), and the HTTP session.
func clientIdentity(ctx context.Context, transport string) *audit.Actor {
	a := &audit.Actor{Transport: transport}
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil {
		a.ProtocolVersion = info.ProtocolVersion
		if info.ClientInfo != nil {
			a.ClientName, a.ClientVersion = info.ClientInfo.Name, info.ClientInfo.Version
		}
	}
	if s := server.ClientSessionFromContext(ctx); s != nil {
		if a.ClientName == "" {
			if ci, ok := s.(interface{ GetClientInfo() mcp.Implementation }); ok {
				info := ci.GetClientInfo()
				a.ClientName, a.ClientVersion = info.Name, info.Version
			}
		}
		if a.ProtocolVersion == "" {
			if pv, ok := s.(interface{ ProtocolVersion() string }); ok {
				a.ProtocolVersion = pv.ProtocolVersion()
			}
		}
		if transport == "http" {
			a.HTTPSession = s.SessionID()
		}
	}
	return a
}

// callArgs returns a call's arguments as the audit log keeps them: long strings shortened, what
// a call types into a page or an unechoed terminal and a browser state's values as their HMACs
// (the writer redacts what looks secret by name as it writes).
func (d Deps) callArgs(ctx context.Context, req mcp.CallToolRequest) any {
	args := auditArgs(req.Params.Arguments)
	redactTyped(req.Params.Name, args, d.Audit)
	redactBrowserState(req.Params.Name, args, d.Audit)
	d.redactUnechoed(ctx, req.Params.Name, args)
	return args
}

// maxAuditString is the longest string argument kept whole in the audit log; longer ones are
// kept as their start, length and SHA-256.
const maxAuditString = 4096

// auditArgs returns the call's arguments for the audit details, long strings shortened. Secrets
// (cookie values, env values named like tokens) are redacted by the audit writer.
func auditArgs(raw any) any {
	if v, ok := plainClone(raw); ok {
		return shorten(v)
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return fmt.Sprintf("(arguments not JSON: %v)", err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return string(data)
	}
	return shorten(v)
}

func shorten(v any) any {
	switch x := v.(type) {
	case string:
		if len(x) <= maxAuditString {
			return x
		}
		sum := sha256.Sum256([]byte(x))
		return fmt.Sprintf("%s… (%d bytes, sha256 %s)", x[:256], len(x), hex.EncodeToString(sum[:]))
	case map[string]any:
		for k, e := range x {
			x[k] = shorten(e)
		}
	case []any:
		for i, e := range x {
			x[i] = shorten(e)
		}
	}
	return v
}

// redactTyped replaces with its HMAC the text a call types into a page: a fill is how a
// password reaches a login form, and nothing in its name says so. (Secrets found by name, in
// URLs and after secret-named flags are redacted by the audit writer for every call.)
func redactTyped(tool string, args any, log *audit.Log) {
	m, _ := args.(map[string]any)
	if tool != "page_action" || m == nil {
		return
	}
	if action, _ := m["action"].(string); !strings.EqualFold(strings.TrimSpace(action), "fill") {
		return
	}
	if text, ok := m["text"].(string); ok {
		m["text"] = log.RedactSecret(text)
	}
}

// redactUnechoed replaces with its HMAC the text a call types on a terminal that does not echo
// it: a password prompt (read -s, sudo, ssh). The terminal is asked just before the call.
func (d Deps) redactUnechoed(ctx context.Context, tool string, args any) {
	key := map[string]string{"send_keys": "text", "send_to_agent": "message"}[tool]
	m, _ := args.(map[string]any)
	if key == "" || m == nil || d.Audit == nil {
		return
	}
	text, _ := m[key].(string)
	id, _ := m["agent_id"].(string)
	if text == "" || id == "" {
		return
	}
	d.Timeout = min(d.Timeout, 2*time.Second)
	if res, e := ask[*messages.TerminalEchoResult](ctx, d, &messages.TerminalEcho{AgentID: id}); e == nil && !res.Echo {
		m[key] = d.Audit.RedactSecret(text)
	}
}

// auditTargets picks the session and the target a call names.
func auditTargets(args any) (session, target string) {
	m, _ := args.(map[string]any)
	str := func(k string) string { s, _ := m[k].(string); return s }
	session = str("session_id")
	for _, k := range []string{"agent_id", "page_id", "snapshot_id"} {
		if t := str(k); t != "" {
			target = t
			if sid, _, ok := strings.Cut(t, "/"); ok && session == "" && k != "snapshot_id" {
				session = sid
			}
		}
	}
	return session, target
}

func resultText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// EventSink adapts the audit log to the actors' internal events.
type EventSink struct {
	Log *audit.Log
	// OnError is told when an event could not be queued.
	OnError func(action string, err error)
}

var _ actors.EventSink = EventSink{}

// Record implements actors.EventSink.
func (s EventSink) Record(action, session, target, outcome string, details map[string]any) {
	err := s.Log.Record(audit.Event{Action: action, Session: session, Target: target, Outcome: outcome, Details: details})
	if err != nil && s.OnError != nil {
		s.OnError(action, err)
	}
}
