package tools

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/messages"
)

// A session's browser state in Playwright's storageState form (DESIGN §14).

// Bounds of a browser state given in a call.
const (
	maxStateOrigins      = 256
	maxStorageItems      = 1024
	maxStorageKeyChars   = 1024
	maxStorageValueChars = 1 << 20
	// maxBrowserStateBytes bounds a whole state, as the sessions keep it.
	maxBrowserStateBytes = browser.MaxStateBytes
	maxOriginChars       = 512
	maxStateObjectFields = 16
	maxStateFieldChars   = 64
)

// stateCookieSchema is a cookie as Playwright's storageState writes it.
var stateCookieSchema = map[string]any{
	"type": "object",
	"properties": cookieProperties(map[string]any{
		"expires":  map[string]any{"type": "number", "minimum": -1, "maximum": maxWholeNumber, "description": "Unix seconds; -1 for a session cookie."},
		"httpOnly": map[string]any{"type": "boolean"}, "secure": map[string]any{"type": "boolean"},
		"sameSite": map[string]any{"type": "string", "enum": []string{"Strict", "Lax", "None"}, "maxLength": maxEnumChars},
	}),
	"required": []string{"name", "value", "domain"},
	// Fields a newer Playwright adds (partitionKey, …) are accepted, within bounds, and ignored.
	"maxProperties": maxStateObjectFields, "propertyNames": map[string]any{"maxLength": maxStateFieldChars},
}

// browserStateSchema is Playwright's storageState: {cookies, origins[{origin, localStorage}]}.
var browserStateSchema = map[string]any{
	"cookies": map[string]any{"type": "array", "items": stateCookieSchema, "maxItems": maxCookies},
	"origins": map[string]any{"type": "array", "maxItems": maxStateOrigins, "items": map[string]any{
		"type": "object",
		"properties": map[string]any{
			"origin": map[string]any{"type": "string", "maxLength": maxOriginChars, "description": "scheme://host[:port]"},
			"localStorage": map[string]any{"type": "array", "maxItems": maxStorageItems, "items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"name":  map[string]any{"type": "string", "maxLength": maxStorageKeyChars},
					"value": map[string]any{"type": "string", "maxLength": maxStorageValueChars},
				},
				"required":      []string{"name", "value"},
				"maxProperties": maxStateObjectFields, "propertyNames": map[string]any{"maxLength": maxStateFieldChars},
			}},
		},
		"required":      []string{"origin", "localStorage"},
		"maxProperties": maxStateObjectFields, "propertyNames": map[string]any{"maxLength": maxStateFieldChars},
	}},
}

// stateObjectBounds bounds the state object's own fields.
func stateObjectBounds() mcp.PropertyOption {
	return func(s map[string]any) {
		mcp.MaxProperties(maxStateObjectFields)(s)
		mcp.PropertyNames(map[string]any{"maxLength": maxStateFieldChars})(s)
	}
}

func browserStateOption(desc string, required bool) mcp.ToolOption {
	opts := []mcp.PropertyOption{mcp.Description(desc), mcp.Properties(browserStateSchema), stateObjectBounds()}
	if required {
		opts = append(opts, mcp.Required())
	}
	return mcp.WithObject("state", opts...)
}

func exportBrowserStateTool() mcp.Tool {
	return newTool("export_browser_state",
		"Export a session's browser state — its cookies and each origin's localStorage — in Playwright's storageState JSON "+
			"(what browser.newContext({storageState}) takes). The values are the login: keep them as you would a password.",
		hints(true, false, true, false),
		mcp.WithString("session_id", mcp.Required(), mcp.Description(sessionIDDesc), mcp.MaxLength(maxIDChars)),
	)
}

func (d Deps) exportBrowserState(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		SessionID string `json:"session_id"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("session_id", a.SessionID); e != nil {
		return toolError(e), nil
	}
	res, e := askPage[*messages.BrowserStateResult](ctx, d, &messages.ExportBrowserState{SessionID: a.SessionID})
	if r, err := d.answer(ctx, "export_browser_state", e); r != nil || err != nil {
		return r, err
	}
	return structured(res, fmt.Sprintf("Session %s: %d cookie(s), localStorage of %d origin(s). import_browser_state or Playwright's storageState takes this state as it is.",
		res.SessionID, len(res.State.Cookies), len(res.State.Origins))), nil
}

func importBrowserStateTool() mcp.Tool {
	return newTool("import_browser_state",
		"Import a browser state in Playwright's storageState JSON into a session: its cookies are set (replacing those of the same name, domain and path) "+
			"and each origin's localStorage replaces what the origin had, before the next page of that origin runs its scripts. "+
			"The audit log keeps HMACs of the values, not the values.",
		hints(false, false, true, false),
		mcp.WithString("session_id", mcp.Required(), mcp.Description(sessionIDDesc), mcp.MaxLength(maxIDChars)),
		browserStateOption("The state: {cookies: [...], origins: [{origin, localStorage: [{name, value}]}]}, as Playwright writes it.", true),
	)
}

func (d Deps) importBrowserState(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		SessionID string                 `json:"session_id"`
		State     *messages.BrowserState `json:"state"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("session_id", a.SessionID); e != nil {
		return toolError(e), nil
	}
	if a.State == nil {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "state is required: a storageState object {cookies, origins}, e.g. from export_browser_state or Playwright")), nil
	}
	cookies, storage, e := checkBrowserStateArg(*a.State)
	if e != nil {
		return toolError(e), nil
	}
	res, e := askPage[*messages.BrowserStateResult](ctx, d, &messages.ImportBrowserState{SessionID: a.SessionID, Cookies: cookies, Storage: storage})
	if r, err := d.answer(ctx, "import_browser_state", e); r != nil || err != nil {
		return r, err
	}
	return structured(map[string]any{"session_id": res.SessionID, "cookies": len(res.State.Cookies), "origins": len(res.State.Origins)},
		fmt.Sprintf("Imported %d cookie(s) and the localStorage of %d origin(s) into session %s; it now has %d cookie(s) and %d origin(s).",
			len(a.State.Cookies), len(a.State.Origins), res.SessionID, len(res.State.Cookies), len(res.State.Origins))), nil
}

// checkBrowserStateArg checks a storageState argument and splits it into troupe's form.
func checkBrowserStateArg(st messages.BrowserState) ([]messages.Cookie, map[string]map[string]string, *messages.Error) {
	if raw, _ := json.Marshal(st); len(raw) > maxBrowserStateBytes {
		return nil, nil, messages.Errorf(messages.CodeTooLarge, "the browser state is %d bytes, over the limit of %d; leave out origins the login does not need", len(raw), maxBrowserStateBytes)
	}
	cookies, storage := st.Split()
	for i, c := range cookies {
		bc := browser.Cookie{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, Expires: c.Expires, HTTPOnly: c.HTTPOnly, Secure: c.Secure, SameSite: c.SameSite}
		if err := browser.ValidateCookie(&bc); err != nil {
			return nil, nil, messages.Errorf(messages.CodeInvalidArgument, "state.cookies[%d] (%s): %v", i, c.Name, err)
		}
	}
	for i, o := range st.Origins {
		if err := browser.CheckOrigin(o.Origin); err != nil {
			return nil, nil, messages.Errorf(messages.CodeInvalidArgument, "state.origins[%d]: %v", i, err)
		}
	}
	return cookies, storage, nil
}

// redactBrowserState replaces the values of a state argument (import_browser_state's state,
// create_session's browser_state) with their HMACs: they are a login.
func redactBrowserState(tool string, args any, log *audit.Log) {
	key := map[string]string{"import_browser_state": "state", "create_session": "browser_state"}[tool]
	m, _ := args.(map[string]any)
	st, _ := m[key].(map[string]any)
	if key == "" || st == nil || log == nil {
		return
	}
	hide := func(list any) {
		items, _ := list.([]any)
		for _, it := range items {
			if o, ok := it.(map[string]any); ok {
				if v, ok := o["value"].(string); ok {
					o["value"] = log.RedactSecret(v)
				}
			}
		}
	}
	hide(st["cookies"])
	origins, _ := st["origins"].([]any)
	for _, o := range origins {
		if om, ok := o.(map[string]any); ok {
			hide(om["localStorage"])
		}
	}
}

func cloneSessionTool() mcp.Tool {
	return newTool("clone_session",
		"Make a new session from a live one: the same state, labels, browser state (cookies, localStorage: the logins) and children "+
			"(agents and pages started fresh under the new id). With copy_workspace the clone gets a copy of the workspace; "+
			"without, it works in the same directory, which it does not own.",
		hints(false, false, false, true),
		mcp.WithString("session_id", mcp.Required(), mcp.Description("The session to clone. "+sessionIDDesc), mcp.MaxLength(maxIDChars)),
		mcp.WithString("new_session_id", mcp.Description("The clone's id (same rule); omit it to get a generated one."), mcp.MaxLength(maxIDChars)),
		mcp.WithBoolean("copy_workspace", mcp.Description("Give the clone a copy of the workspace (default false: the same directory).")),
	)
}

func (d Deps) cloneSession(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		SessionID     string `json:"session_id"`
		NewSessionID  string `json:"new_session_id"`
		CopyWorkspace bool   `json:"copy_workspace"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("session_id", a.SessionID); e != nil {
		return toolError(e), nil
	}
	res, e := askPage[*messages.SessionResult](ctx, d, &messages.CloneSession{SessionID: a.SessionID, NewSessionID: a.NewSessionID,
		CopyWorkspace: a.CopyWorkspace, Owner: principal.From(ctx).Name})
	if r, err := d.answer(ctx, "clone_session", e); r != nil || err != nil {
		return r, err
	}
	s := res.Session
	return structured(s, fmt.Sprintf("Session %s is a clone of %s (workspace %s, %d children started fresh).", s.SessionID, a.SessionID, s.Workspace, len(s.Children))), nil
}
