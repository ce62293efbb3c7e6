package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/approval"
	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/mcpx"
	"github.com/troupe-dev/troupe/internal/metrics"
)

// Requester sends a message to the actor tree and waits for the reply (actors.System).
type Requester interface {
	Request(ctx context.Context, msg any, timeout time.Duration) (any, error)
}

// Deps is what the handlers need.
type Deps struct {
	Actors  Requester
	Timeout time.Duration
	Logger  zerolog.Logger
	// Presets are the agent presets of the configuration.
	Presets map[string]config.Preset
	// AllowAnyCommand lets create_agent run a free-form command.
	AllowAnyCommand bool
	// MaxMessageBytes bounds a message to an agent (0: the configuration's default, 256 KiB).
	MaxMessageBytes int
	// URLPolicy is the browser's URL policy: page tools refuse what it refuses before anything runs.
	URLPolicy browser.Policy
	// Audit records every call; nil turns auditing off (benchmarks compare both).
	Audit *audit.Log
	// Transport names the MCP transport in audit events ("stdio", "http").
	Transport string
	// Progress, when set, sends the progress notifications of long calls and makes their
	// answers follow them (internal/mcpx); the actors report to it too (Options.Progress).
	Progress *mcpx.Progress
	// Metrics, when set, counts and times every call (/metrics); nil turns it off.
	Metrics *metrics.Metrics
	// MaxWait caps every wait of a call (wait_seconds; 0: 45 s, DESIGN §13): a longer one is
	// accepted and its answer says it was capped.
	MaxWait time.Duration
	// RequireApproval names the tools that wait for a person (DESIGN §15), through Approvals.
	RequireApproval []string
	// Approvals holds the calls waiting for a person; nil: require_approval is not applied.
	Approvals *approval.Broker
}

// Tool is one MCP tool with its handler.
type Tool struct {
	server.ServerTool
	// Family is the file the tool lives in ("sessions", "agents", ...), for the README table.
	Family string
}

// Mutating reports whether the tool changes anything (it is not marked read-only).
func (t Tool) Mutating() bool {
	return t.Tool.Annotations.ReadOnlyHint == nil || !*t.Tool.Annotations.ReadOnlyHint
}

// mutatingTools maps each tool's name to whether it changes anything.
func mutatingTools(all []Tool) map[string]bool {
	m := make(map[string]bool, len(all))
	for _, t := range all {
		m[t.Tool.Name] = t.Mutating()
	}
	return m
}

// All returns every tool, sorted by name. It panics when a tool's annotations are incomplete:
// DESIGN §7 wants all four hints set explicitly, and a read-only tool must not be destructive.
func All(d Deps) []Tool {
	if d.Timeout <= 0 {
		d.Timeout = 60 * time.Second
	}
	if d.MaxMessageBytes <= 0 {
		d.MaxMessageBytes = defaultMaxMessageBytes
	}
	var all []Tool
	all = append(all, sessionTools(d)...)
	all = append(all, agentTools(d)...)
	all = append(all, pageTools(d)...)
	all = append(all, auditTools(d)...)
	all = append(all, snapshotTools(d)...)
	sort.Slice(all, func(i, j int) bool { return all[i].Tool.Name < all[j].Tool.Name })
	reads := map[string]bool{}
	for name, mutating := range mutatingTools(all) {
		if !mutating {
			reads[name] = true
		}
	}
	readOnlyTools.Store(&reads)
	for i, t := range all {
		if err := checkAnnotations(t.Tool); err != nil {
			panic(err)
		}
		all[i].Handler = bounded(t.Tool, t.Handler)
	}
	return all
}

func checkAnnotations(t mcp.Tool) error {
	a := t.Annotations
	if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
		return fmt.Errorf("tool %s: all four annotation hints must be set", t.Name)
	}
	if *a.ReadOnlyHint && *a.DestructiveHint {
		return fmt.Errorf("tool %s: a read-only tool cannot be destructive", t.Name)
	}
	return nil
}

// hints sets the four annotation hints explicitly (mcp-go's defaults are destructive and open-world).
func hints(readOnly, destructive, idempotent, openWorld bool) mcp.ToolOption {
	return func(t *mcp.Tool) {
		t.Annotations.ReadOnlyHint = mcp.ToBoolPtr(readOnly)
		t.Annotations.DestructiveHint = mcp.ToBoolPtr(destructive)
		t.Annotations.IdempotentHint = mcp.ToBoolPtr(idempotent)
		t.Annotations.OpenWorldHint = mcp.ToBoolPtr(openWorld)
	}
}

// NewServer builds the MCP server with every tool. Every schema refuses unknown arguments.
func NewServer(d Deps, version string, extra ...server.ServerOption) *server.MCPServer {
	opts := append([]server.ServerOption{
		server.WithToolCapabilities(false),
		// logging/setLevel is answered (with {}) instead of "method not found": clients such as
		// the MCP Inspector and the conformance suite's logging-set-level scenario call it after
		// initialize. troupe sends no notifications/message yet, so the level filters nothing.
		server.WithLogging(),
		// Arguments are checked by each handler's strict decoding (decodeArgs), whose messages
		// name the argument and the fix; mcp-go's schema validation messages are Go-struct dumps.
		server.WithStrictInputSchemaDefault(),
		server.WithRecovery(),
		server.WithInstructions(instructions),
		// The live view, an MCP App (DESIGN §15): get_session and list_sessions link to it.
		uiExtension(),
	}, extra...)
	all := All(d)
	if d.Metrics != nil {
		opts = append(opts, server.WithToolHandlerMiddleware(metricsMiddleware(d.Metrics, all)))
	}
	if d.Audit != nil {
		opts = append(opts, server.WithToolHandlerMiddleware(auditMiddleware(d, all)), server.WithResourceCapabilities(false, false))
	}
	// Inside the audit middleware (registered first, so outermost): refused calls are recorded.
	opts = append(opts, server.WithToolHandlerMiddleware(accessMiddleware(d, all)))
	// Innermost: a call is allowed before a person is asked about it.
	opts = append(opts, server.WithToolHandlerMiddleware(approvalMiddleware(d)))
	s := server.NewMCPServer("troupe", version, opts...)
	for _, t := range all {
		s.AddTools(rawSchema(t.ServerTool))
	}
	if d.Audit != nil {
		addAuditResource(s, d)
	}
	addViewResource(s)
	return s
}

const instructions = `troupe keeps long-lived sessions for you: each session has a workspace, key/value state and ` +
	`browser cookies, and survives disconnects and restarts. Create one with create_session and keep notes in its ` +
	`state (update_session_state). Start agents in it (create_agent with a preset; send_to_agent, read_agent_output) ` +
	`and browser pages in its own browser context, so logins persist (open_page, page_content, page_action, ` +
	`screenshot_page). delete_session stops everything newest first after keeping a snapshot and preserving ` +
	`uncommitted work; restore_session undoes it. Idle sessions expire after their idle timeout and can be restored.`

// rawSchema returns st with its input schema marshalled once, as RawInputSchema: mcp-go reads
// the schema's x-mcp-header properties on every 2026-07-28 call by a JSON round trip of it
// (mcp/headers.go schemaHeaderProperties, via remarshal), which for a structured schema means
// marshalling it again each time. The raw schema is the one tools/list served before: the
// additionalProperties:false that WithStrictInputSchemaDefault adds to structured schemas only
// (server.go applyStrictInputSchemaDefault) is set here first.
func rawSchema(st server.ServerTool) server.ServerTool {
	if len(st.Tool.RawInputSchema) > 0 {
		return st
	}
	in := st.Tool.InputSchema
	if in.AdditionalProperties == nil {
		in.AdditionalProperties = false
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return st // mcp-go marshals it as before
	}
	st.Tool.RawInputSchema = raw
	st.Tool.InputSchema = mcp.ToolInputSchema{}
	return st
}
