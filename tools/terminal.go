package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/internal/terminal"
	"github.com/troupe-dev/troupe/messages"
)

// The terminal tools (DESIGN §13): a terminal agent's screen, and keys typed on it.

// Bounds of send_keys and read_agent_screen arguments.
const (
	maxKeys          = 256
	maxKeyNameChars  = 16
	maxScrollback    = terminal.DefaultScrollbackLines
	maxKeysTextBytes = 64 << 10
)

func readAgentScreenTool(d Deps) mcp.Tool {
	return newTool("read_agent_screen",
		"Read a terminal agent's screen: its rows as text, the cursor, whether a full-screen program is on (alt_screen), the size, "+
			"and the agent's state (running, waiting_for_input, exited). With wait_for and wait_seconds, wait until the screen matches; "+
			"with wait_seconds alone, until the program waits for input.",
		hints(true, false, true, false),
		mcp.WithString("agent_id", mcp.Required(), mcp.Description(agentIDDesc), mcp.MaxLength(maxChildIDChars)),
		mcp.WithInteger("scrollback", mcp.Description(fmt.Sprintf("Also return up to this many lines that scrolled off the top (default 0, at most %d).", maxScrollback)),
			mcp.Min(0), mcp.Max(maxScrollback)),
		mcp.WithString("wait_for", mcp.Description(waitForDesc("the screen")), mcp.MaxLength(maxWaitForChars)),
		mcp.WithNumber("wait_seconds", mcp.Description(waitDesc("", d)), mcp.Min(0.0), mcp.Max(maxWaitArg)),
	)
}

func (d Deps) readAgentScreen(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		AgentID     string  `json:"agent_id"`
		Scrollback  int     `json:"scrollback"`
		WaitFor     string  `json:"wait_for"`
		WaitSeconds float64 `json:"wait_seconds"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("agent_id", a.AgentID); e != nil {
		return toolError(e), nil
	}
	if a.Scrollback < 0 || a.Scrollback > maxScrollback {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "scrollback must be between 0 and %d lines, got %d", maxScrollback, a.Scrollback)), nil
	}
	wait, capped, e := d.waitArgs(a.WaitSeconds, a.WaitFor)
	if e != nil {
		return toolError(e), nil
	}
	res, e := askWaiting[*messages.ScreenResult](ctx, d, &messages.ReadAgentScreen{AgentID: a.AgentID, Scrollback: a.Scrollback, WaitFor: a.WaitFor, WaitSeconds: wait}, wait)
	if r, err := d.answer(ctx, "read_agent_screen", e); r != nil || err != nil {
		return r, err
	}
	res.Capped = capped && res.TimedOut
	return structured(res, screenText(res)), nil
}

func sendKeysTool(d Deps) mcp.Tool {
	return newTool("send_keys",
		"Type on a terminal agent: text is typed literally, then keys are pressed — Enter, Tab, Escape, Backspace, Up, Down, Left, Right, "+
			"Home, End, PageUp, PageDown, Delete, F1…F12, C-a…C-z (C-c interrupts), or a single character such as q. "+
			"Answers with the screen once the program has echoed; with wait_for and wait_seconds, once the screen matches; "+
			"with wait_seconds alone, once the program waits for input again.",
		// Destructive: what is typed runs in the workspace, deleting files included.
		hints(false, true, false, true),
		mcp.WithString("agent_id", mcp.Required(), mcp.Description(agentIDDesc), mcp.MaxLength(maxChildIDChars)),
		mcp.WithString("text", mcp.Description("Text typed as is, before the keys (a newline in it is Ctrl-J; press Enter with keys)."), mcp.MaxLength(maxKeysTextBytes)),
		mcp.WithArray("keys", mcp.Description("Key names pressed after the text, in order, e.g. [\"Enter\"] or [\"C-c\"] or [\"Escape\", \":\", \"q\", \"Enter\"]."),
			mcp.WithStringItems(mcp.MaxLength(maxKeyNameChars)), mcp.MaxItems(maxKeys)),
		mcp.WithString("wait_for", mcp.Description(waitForDesc("the screen")), mcp.MaxLength(maxWaitForChars)),
		mcp.WithNumber("wait_seconds", mcp.Description(waitDesc("after the keys", d)), mcp.Min(0.0), mcp.Max(maxWaitArg)),
	)
}

func (d Deps) sendKeys(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		AgentID     string   `json:"agent_id"`
		Text        string   `json:"text"`
		Keys        []string `json:"keys"`
		WaitFor     string   `json:"wait_for"`
		WaitSeconds float64  `json:"wait_seconds"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("agent_id", a.AgentID); e != nil {
		return toolError(e), nil
	}
	if a.Text == "" && len(a.Keys) == 0 {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "say what to type: text, keys, or both (e.g. text \"ls\", keys [\"Enter\"])")), nil
	}
	if len(a.Text) > maxKeysTextBytes {
		return toolError(messages.Errorf(messages.CodeTooLarge, "text is %d bytes, over the limit of %d; put large input in a file in the session's workspace", len(a.Text), maxKeysTextBytes)), nil
	}
	if len(a.Keys) > maxKeys {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "%d keys, over the limit of %d", len(a.Keys), maxKeys)), nil
	}
	for i, k := range a.Keys {
		if _, err := terminal.KeyBytes(k, false); err != nil {
			return toolError(messages.Errorf(messages.CodeInvalidArgument, "keys[%d]: %v", i, err)), nil
		}
	}
	wait, capped, e := d.waitArgs(a.WaitSeconds, a.WaitFor)
	if e != nil {
		return toolError(e), nil
	}
	// The answer comes after the keys are written and echoed: up to half a second more.
	res, e := askWaiting[*messages.ScreenResult](ctx, d, &messages.SendKeys{AgentID: a.AgentID, Text: a.Text, Keys: a.Keys, WaitFor: a.WaitFor, WaitSeconds: wait}, wait+0.5)
	if r, err := d.answer(ctx, "send_keys", e); r != nil || err != nil {
		return r, err
	}
	res.Capped = capped && res.TimedOut
	return structured(res, screenText(res)), nil
}

// screenText renders a screen for the text content: the rows (trailing blank ones left out),
// then the state, the cursor and what the wait did.
func screenText(r *messages.ScreenResult) string {
	var b strings.Builder
	if len(r.Scrollback) > 0 {
		b.WriteString(strings.Join(r.Scrollback, "\n"))
		b.WriteString("\n--- (scrollback above, screen below) ---\n")
	}
	lines := r.Lines
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	b.WriteString(strings.Join(lines, "\n"))
	if len(lines) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "[status %s, state %s; cursor row %d col %d; %d×%d", r.Status, r.State, r.Cursor.Row, r.Cursor.Col, r.Size.Rows, r.Size.Cols)
	if r.AltScreen {
		b.WriteString("; full-screen program (alt screen)")
	}
	if r.ExitCode != nil {
		fmt.Fprintf(&b, "; exit code %d", *r.ExitCode)
	}
	if r.Matched {
		fmt.Fprintf(&b, "; wait_for matched %q", r.Match)
	}
	if r.TimedOut {
		b.WriteString("; the wait ended at its deadline")
		if r.Capped {
			b.WriteString(" (the server's max_wait_seconds): call again to go on waiting")
		}
	}
	fmt.Fprintf(&b, "; output read_agent_output after=%d]", r.Next)
	return b.String()
}
