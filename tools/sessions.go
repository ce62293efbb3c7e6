package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/mcpx"
	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/messages"
)

const sessionIDDesc = "Session id: 1 to 64 characters, letters, digits, '.', '_' or '-', starting with a letter or digit."

func sessionTools(d Deps) []Tool {
	return []Tool{
		{Family: "sessions", ServerTool: server.ServerTool{Tool: createSessionTool(), Handler: d.createSession}},
		{Family: "sessions", ServerTool: server.ServerTool{Tool: listSessionsTool(), Handler: d.listSessions}},
		{Family: "sessions", ServerTool: server.ServerTool{Tool: getSessionTool(), Handler: d.getSession}},
		{Family: "sessions", ServerTool: server.ServerTool{Tool: updateSessionStateTool(), Handler: d.updateSessionState}},
		{Family: "sessions", ServerTool: server.ServerTool{Tool: deleteSessionTool(), Handler: d.deleteSession}},
		{Family: "sessions", ServerTool: server.ServerTool{Tool: sessionMetricsTool(), Handler: d.sessionMetrics}},
		{Family: "sessions", ServerTool: server.ServerTool{Tool: cloneSessionTool(), Handler: d.cloneSession}},
	}
}

// newTool declares a tool whose input schema refuses unknown arguments.
func newTool(name, desc string, opts ...mcp.ToolOption) mcp.Tool {
	return mcp.NewTool(name, append([]mcp.ToolOption{mcp.WithDescription(desc), mcp.WithSchemaAdditionalProperties(false)}, opts...)...)
}

// cookieSchema is one cookie. Its bounds are Chromium's: name and value together at most 4096
// bytes (browser.ValidateCookie checks the sum), a path at most 1024, a domain a host name.
var cookieSchema = map[string]any{
	"type": "object",
	"properties": cookieProperties(map[string]any{
		"url":       map[string]any{"type": "string", "maxLength": maxURLChars},
		"expires":   map[string]any{"type": "number", "minimum": -1, "maximum": maxWholeNumber, "description": "Unix seconds; 0 or none for a session cookie, a past time deletes the cookie."},
		"http_only": map[string]any{"type": "boolean"}, "secure": map[string]any{"type": "boolean"},
		"same_site": map[string]any{"type": "string", "enum": []string{"Strict", "Lax", "None"}, "maxLength": maxEnumChars},
	}),
	"required":             []string{"name", "value"},
	"additionalProperties": false,
}

// cookieProperties are a cookie's name, value, domain and path, with the properties of one
// spelling of the rest (troupe's set_cookies, Playwright's storageState).
func cookieProperties(rest map[string]any) map[string]any {
	props := map[string]any{
		"name":   map[string]any{"type": "string", "maxLength": maxCookiePartChars},
		"value":  map[string]any{"type": "string", "maxLength": maxCookiePartChars},
		"domain": map[string]any{"type": "string", "maxLength": maxCookieDomainChars},
		"path":   map[string]any{"type": "string", "maxLength": maxCookieAttrChars},
	}
	maps.Copy(props, rest)
	return props
}

// stateBounds bounds a state object's keys: their length and, per call, their number (the
// values are bounded by the server's max_state_bytes).
func stateBounds() mcp.PropertyOption {
	return func(s map[string]any) {
		mcp.PropertyNames(map[string]any{"maxLength": maxStateKeyChars})(s)
		mcp.MaxProperties(maxStateKeys)(s)
	}
}

func createSessionTool() mcp.Tool {
	return newTool("create_session",
		"Create a long-lived session: a workspace directory, key/value state, browser cookies and, later, agents and pages. "+
			"It survives disconnects and server restarts and expires after being idle for its idle timeout.",
		hints(false, false, false, true),
		mcp.WithString("session_id", mcp.Description(sessionIDDesc+" Omit it to get a short generated one."), mcp.MaxLength(maxIDChars)),
		mcp.WithString("name", mcp.Description("A human-readable name (at most 256 characters)."), mcp.MaxLength(maxNameChars)),
		mcp.WithString("workspace", mcp.Description("An existing directory to work in, under the configured workspace root. Omit it and troupe creates one."), mcp.MaxLength(maxPathChars)),
		mcp.WithString("url", mcp.Description("A page to open in the session's browser context right away (http or https)."), mcp.MaxLength(maxURLChars)),
		mcp.WithArray("cookies", mcp.Description("Browser cookies for the session's context (at most 180)."), mcp.Items(cookieSchema), mcp.MaxItems(maxCookies)),
		mcp.WithObject("state", mcp.Description("Initial key/value state; values may be any JSON."), stateBounds()),
		mcp.WithObject("browser_state", mcp.Description("A browser state to start with, in Playwright's storageState JSON {cookies, origins}: "+
			"e.g. from export_browser_state or Playwright's context.storageState()."), mcp.Properties(browserStateSchema), stateObjectBounds()),
		mcp.WithObject("labels", mcp.Description("String labels, e.g. {\"project\": \"web\"}; list_sessions can filter by them. At most 64, keys and values of at most 256 characters."),
			mcp.AdditionalProperties(map[string]any{"type": "string", "maxLength": maxLabelChars}),
			mcp.PropertyNames(map[string]any{"maxLength": maxLabelChars}), mcp.MaxProperties(maxLabels)),
		mcp.WithInteger("idle_timeout_seconds", mcp.Description("Idle time after which the session expires (deleted with a snapshot, restorable): 1 to 315360000 (ten years). Omit it for the server's default."),
			mcp.Min(1), mcp.Max(actors.MaxIdleTimeoutSeconds)),
	)
}

type createSessionArgs struct {
	SessionID          string                 `json:"session_id"`
	Name               string                 `json:"name"`
	Workspace          string                 `json:"workspace"`
	URL                string                 `json:"url"`
	Cookies            []messages.Cookie      `json:"cookies"`
	BrowserState       *messages.BrowserState `json:"browser_state"`
	State              rawObject              `json:"state"`
	Labels             map[string]string      `json:"labels"`
	IdleTimeoutSeconds int64                  `json:"idle_timeout_seconds"`
}

func (d Deps) createSession(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a createSessionArgs
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if a.IdleTimeoutSeconds < 0 || a.IdleTimeoutSeconds > actors.MaxIdleTimeoutSeconds {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "idle_timeout_seconds must be between 1 and %d (ten years), got %d", actors.MaxIdleTimeoutSeconds, a.IdleTimeoutSeconds)), nil
	}
	if a.URL != "" {
		if e := d.checkURL("url", a.URL); e != nil {
			return toolError(e), nil
		}
	}
	if e := checkCookies(a.Cookies); e != nil {
		return toolError(e), nil
	}
	cookies, storage := a.Cookies, map[string]map[string]string(nil)
	if a.BrowserState != nil {
		stateCookies, st, e := checkBrowserStateArg(*a.BrowserState)
		if e != nil {
			e.Message = "browser_state: " + e.Message
			return toolError(e), nil
		}
		cookies, storage = append(append([]messages.Cookie{}, stateCookies...), a.Cookies...), st
	}
	res, e := ask[*messages.SessionResult](ctx, d, &messages.CreateSession{
		SessionID: a.SessionID, Owner: principal.From(ctx).Name, Name: a.Name, Workspace: a.Workspace, Cookies: cookies,
		LocalStorage: storage, State: a.State, Labels: a.Labels, IdleTimeoutSeconds: a.IdleTimeoutSeconds,
	})
	if r, err := d.answer(ctx, "create_session", e); r != nil || err != nil {
		return r, err
	}
	s := res.Session
	if a.URL != "" {
		return d.sessionPage(ctx, s, a.URL)
	}
	return structured(s, fmt.Sprintf("Created session %s (workspace %s); it expires after %s idle.", s.SessionID, s.Workspace, time.Duration(s.IdleTimeoutSeconds)*time.Second)), nil
}

func listSessionsTool() mcp.Tool {
	return newTool("list_sessions", "List live sessions, sorted by id, with status, age, idle time and counts of agents and pages.",
		hints(true, false, true, false), withView(),
		mcp.WithString("label", mcp.Description("Only sessions with this label: \"key\" or \"key=value\"."), mcp.MaxLength(maxLabelFilterChars)),
	)
}

func (d Deps) listSessions(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		Label string `json:"label"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	res, e := ask[*messages.ListSessionsResult](ctx, d, &messages.ListSessions{Label: a.Label, Owner: ownerFilter(ctx)})
	if r, err := d.answer(ctx, "list_sessions", e); r != nil || err != nil {
		return r, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d session(s)", len(res.Sessions))
	for _, s := range res.Sessions {
		fmt.Fprintf(&b, "\n- %s (%s), idle %s, %d agent(s), %d page(s)", s.SessionID, s.Status, (time.Duration(s.IdleSeconds) * time.Second).Round(time.Second), s.Agents, s.Pages)
	}
	out := map[string]any{"sessions": res.Sessions}
	if len(res.Unanswered) > 0 { // a cluster node that did not answer: its sessions are missing
		out["unanswered"] = res.Unanswered
		fmt.Fprintf(&b, "\nnot answered (their sessions are missing): %s", strings.Join(res.Unanswered, "; "))
	}
	return structured(out, b.String()), nil
}

func getSessionTool() mcp.Tool {
	return newTool("get_session", "Get one session: status, state, labels, workspace, timestamps and its children in creation order.",
		hints(true, false, true, false), withView(),
		mcp.WithString("session_id", mcp.Required(), mcp.Description(sessionIDDesc), mcp.MaxLength(maxIDChars)),
	)
}

type sessionIDArgs struct {
	SessionID string `json:"session_id"`
}

func (d Deps) getSession(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a sessionIDArgs
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("session_id", a.SessionID); e != nil {
		return toolError(e), nil
	}
	res, e := ask[*messages.SessionResult](ctx, d, &messages.GetSession{SessionID: a.SessionID})
	if r, err := d.answer(ctx, "get_session", e); r != nil || err != nil {
		return r, err
	}
	s := res.Session
	return structured(s, fmt.Sprintf("Session %s: %s, %d state key(s), %d child(ren), expires at %s.", s.SessionID, s.Status, len(s.State), len(s.Children), s.ExpiresAt.Format(time.RFC3339))), nil
}

func updateSessionStateTool() mcp.Tool {
	return newTool("update_session_state", "Set and unset keys of a session's state. Values may be any JSON; the whole state is limited in size.",
		hints(false, true, true, false),
		mcp.WithString("session_id", mcp.Required(), mcp.Description(sessionIDDesc), mcp.MaxLength(maxIDChars)),
		mcp.WithObject("set", mcp.Description("Keys to set, with their new values."), stateBounds()),
		mcp.WithArray("unset", mcp.Description("Keys to remove."), mcp.WithStringItems(mcp.MaxLength(maxStateKeyChars)), mcp.MaxItems(maxStateKeys)),
	)
}

func (d Deps) updateSessionState(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		SessionID string    `json:"session_id"`
		Set       rawObject `json:"set"`
		Unset     []string  `json:"unset"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("session_id", a.SessionID); e != nil {
		return toolError(e), nil
	}
	if len(a.Set) == 0 && len(a.Unset) == 0 {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "nothing to change: give keys to set, keys to unset, or both")), nil
	}
	for k := range a.Set {
		if k == "" {
			return toolError(messages.Errorf(messages.CodeInvalidArgument, "state keys must not be empty")), nil
		}
	}
	res, e := ask[*messages.UpdateSessionStateResult](ctx, d, &messages.UpdateSessionState{SessionID: a.SessionID, Set: a.Set, Unset: a.Unset})
	if r, err := d.answer(ctx, "update_session_state", e); r != nil || err != nil {
		return r, err
	}
	state := res.State
	if state == nil {
		state = map[string]json.RawMessage{}
	}
	return structured(map[string]any{"session_id": res.SessionID, "state": state},
		fmt.Sprintf("Session %s: %d key(s) set, %d unset; the state has %d key(s).", res.SessionID, len(a.Set), len(a.Unset), len(state))), nil
}

func deleteSessionTool() mcp.Tool {
	return newTool("delete_session",
		"Delete a session: its children are stopped newest first, each awaited, after a snapshot is kept (restore_session undoes the delete) and uncommitted work in its workspace is preserved (a git ref, or an archive of a workspace troupe created). dry_run shows the plan without changing anything.",
		hints(false, true, false, false),
		mcp.WithString("session_id", mcp.Required(), mcp.Description(sessionIDDesc), mcp.MaxLength(maxIDChars)),
		mcp.WithBoolean("force", mcp.Description("Delete even when a child is busy, and go on when a child fails to stop.")),
		mcp.WithBoolean("preserve_work", mcp.Description("Preserve uncommitted work in the workspace (default true)."), mcp.DefaultBool(true)),
		mcp.WithBoolean("dry_run", mcp.Description("Only show what would happen.")),
		mcp.WithNumber("grace_seconds", mcp.Description("How long each agent gets to exit after SIGTERM before SIGKILL (0 to 300; default the server's)."), mcp.Min(0.0), mcp.Max(300.0)),
	)
}

func (d Deps) deleteSession(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	a := struct {
		SessionID    string  `json:"session_id"`
		Force        bool    `json:"force"`
		PreserveWork *bool   `json:"preserve_work"`
		DryRun       bool    `json:"dry_run"`
		GraceSeconds float64 `json:"grace_seconds"`
	}{}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("session_id", a.SessionID); e != nil {
		return toolError(e), nil
	}
	if a.GraceSeconds < 0 || a.GraceSeconds > actors.MaxGraceSeconds {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "grace_seconds must be between 0 and %d, got %v", actors.MaxGraceSeconds, a.GraceSeconds)), nil
	}
	preserve := a.PreserveWork == nil || *a.PreserveWork
	var send mcpx.Sender
	if srv := server.ServerFromContext(ctx); srv != nil {
		send = srv
	}
	progress := d.Progress.Begin(ctx, send, progressToken(req))
	defer progress.End(5 * time.Second) // before the answer is written
	res, e := askWaiting[*messages.DeleteSessionResult](ctx, d, &messages.DeleteSession{
		SessionID: a.SessionID, Force: a.Force, PreserveWork: preserve, DryRun: a.DryRun, GraceSeconds: a.GraceSeconds, Reason: "deleted",
		ProgressID: progress.ID(),
	}, 300)
	if r, err := d.answer(ctx, "delete_session", e); r != nil || err != nil {
		return r, err
	}
	return structured(deleteAnswer(res), deleteText(res)), nil
}

func deleteAnswer(res *messages.DeleteSessionResult) map[string]any {
	failures := res.Failures
	if failures == nil {
		failures = []messages.StopFailure{}
	}
	out := map[string]any{
		"session_id": res.SessionID, "dry_run": res.DryRun, "preserved": res.Preserved,
		"failures": failures, "duration_ms": float64(res.Duration.Microseconds()) / 1000,
	}
	if res.DryRun {
		out["plan"] = nonNil(res.Plan)
	} else {
		out["stopped"] = nonNil(res.Stopped)
		out["snapshot_id"] = res.SnapshotID
	}
	return out
}

func deleteText(res *messages.DeleteSessionResult) string {
	if res.DryRun {
		return fmt.Sprintf("Dry run: deleting %s would stop %d child(ren) in this order: %s. Nothing was changed.", res.SessionID, len(res.Plan), strings.Join(res.Plan, ", "))
	}
	text := fmt.Sprintf("Deleted session %s; stopped %d child(ren). Snapshot %s is kept: restore_session(snapshot_id=%q) undoes this.", res.SessionID, len(res.Stopped), res.SnapshotID, res.SnapshotID)
	if len(res.Failures) > 0 {
		text += fmt.Sprintf(" %d child(ren) failed to stop (see failures).", len(res.Failures))
	}
	return text
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sessionMetricsTool() mcp.Tool {
	return newTool("session_metrics", "Session counts, ages, children, counters since the server started, and the limits in force.",
		hints(true, false, true, false))
}

func (d Deps) sessionMetrics(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct{}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	m, e := ask[*messages.SessionMetricsResult](ctx, d, &messages.SessionMetrics{Owner: ownerFilter(ctx)})
	if r, err := d.answer(ctx, "session_metrics", e); r != nil || err != nil {
		return r, err
	}
	// One count per registered kind, named in the plural ("agents", "pages"), every kind shown
	// even at zero, so that clients find the fields they know.
	children := map[string]any{}
	var counts []string
	for _, k := range actors.ChildKinds() {
		children[string(k)+"s"] = m.Children[k]
		counts = append(counts, fmt.Sprintf("%d %s(s)", m.Children[k], k))
	}
	out := map[string]any{
		"total_sessions": m.TotalSessions, "active_sessions": m.ActiveSessions, "deleting_sessions": m.DeletingSessions,
		"idle_sessions":      m.IdleSessions,
		"oldest_session_age": m.OldestAge.Seconds(), "newest_session_age": m.NewestAge.Seconds(), "avg_session_age": m.AvgAge.Seconds(),
		"children": children,
		"counters": map[string]any{"created": m.Created, "deleted": m.Deleted, "expired": m.Expired, "restored": m.Restored,
			"rollbacks": m.Rollbacks, "since": m.CountersSince.Format(time.RFC3339)},
		"limits": map[string]any{"max_sessions": m.MaxSessions, "max_children_per_session": m.MaxChildren,
			"idle_timeout_seconds": m.IdleTimeout.Seconds()},
	}
	text := fmt.Sprintf("%d session(s) of at most %d; %d active; %s.", m.TotalSessions, m.MaxSessions, m.ActiveSessions, strings.Join(counts, ", "))
	if len(m.Unanswered) > 0 {
		out["unanswered"] = m.Unanswered
		text += " Not answered (not counted): " + strings.Join(m.Unanswered, "; ")
	}
	return structured(out, text), nil
}

// progressToken is the progress token the client sent with a call, or nil.
func progressToken(req mcp.CallToolRequest) any {
	if req.Params.Meta == nil {
		return nil
	}
	return req.Params.Meta.ProgressToken
}
