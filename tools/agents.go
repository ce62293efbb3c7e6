package tools

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/messages"
)

const agentIDDesc = "Agent id: <session_id>/<name>, as create_agent and get_session show it."

func agentTools(d Deps) []Tool {
	return []Tool{
		{Family: "agents", ServerTool: server.ServerTool{Tool: createAgentTool(d), Handler: d.createAgent}},
		{Family: "agents", ServerTool: server.ServerTool{Tool: sendToAgentTool(d), Handler: d.sendToAgent}},
		{Family: "agents", ServerTool: server.ServerTool{Tool: readAgentOutputTool(d), Handler: d.readAgentOutput}},
		{Family: "agents", ServerTool: server.ServerTool{Tool: deleteAgentTool(), Handler: d.deleteAgent}},
		{Family: "agents", ServerTool: server.ServerTool{Tool: readAgentScreenTool(d), Handler: d.readAgentScreen}},
		{Family: "agents", ServerTool: server.ServerTool{Tool: sendKeysTool(d), Handler: d.sendKeys}},
	}
}

func createAgentTool(d Deps) mcp.Tool {
	return newTool("create_agent",
		"Start an agent in a session's workspace: a coding-agent CLI, a shell, a REPL or another command from a named preset. "+
			"Interactive agents keep one process and read each message on stdin; per-message agents run one process per message; "+
			"terminal agents (presets bash, python, claude-tui) run on a terminal: read_agent_screen shows it, send_keys types on it.",
		hints(false, false, false, true),
		mcp.WithString("session_id", mcp.Required(), mcp.Description(sessionIDDesc), mcp.MaxLength(maxIDChars)),
		mcp.WithString("name", mcp.Description("The agent's name in the session (default agent-N). Same rule as session ids."), mcp.MaxLength(maxIDChars)),
		mcp.WithString("preset", mcp.Description("A preset from the server's configuration, e.g. shell, claude, codex, aider."), mcp.MaxLength(maxPresetChars)),
		mcp.WithString("command", mcp.Description("A free-form program to run (interactive); only when the server allows it (allow_any_command)."), mcp.MaxLength(maxCommandChars)),
		mcp.WithArray("args", mcp.Description("Arguments appended to the preset's (only for presets that allow them), or the command's arguments (at most 256)."),
			mcp.WithStringItems(mcp.MaxLength(maxArgChars)), mcp.MaxItems(maxArgs)),
		mcp.WithObject("env", mcp.Description("Extra environment variables, e.g. {\"DEBUG\": \"1\"}: only those the preset allows (at most 64)."),
			mcp.AdditionalProperties(map[string]any{"type": "string", "maxLength": maxEnvValueChars}),
			mcp.PropertyNames(map[string]any{"maxLength": maxEnvKeyChars}), mcp.MaxProperties(maxEnv)),
		mcp.WithString("mode", mcp.Description("Overrides the preset's mode: terminal runs the program on a terminal (for REPLs, TUIs, ssh, sudo, editors); "+
			"interactive on pipes; per-message one process per message (its preset must take {message})."),
			mcp.Enum("terminal", "interactive", "per-message"), mcp.MaxLength(maxModeChars)),
		mcp.WithInteger("rows", mcp.Description(fmt.Sprintf("Terminal rows (mode terminal; default %d).", messages.DefaultTerminalRows)),
			mcp.Min(messages.MinTerminalRows), mcp.Max(messages.MaxTerminalRows)),
		mcp.WithInteger("cols", mcp.Description(fmt.Sprintf("Terminal columns (mode terminal; default %d).", messages.DefaultTerminalCols)),
			mcp.Min(messages.MinTerminalCols), mcp.Max(messages.MaxTerminalCols)),
	)
}

type createAgentArgs struct {
	SessionID string            `json:"session_id"`
	Name      string            `json:"name"`
	Preset    string            `json:"preset"`
	Command   string            `json:"command"`
	Args      []string          `json:"args"`
	Env       map[string]string `json:"env"`
	Mode      string            `json:"mode"`
	Rows      int               `json:"rows"`
	Cols      int               `json:"cols"`
}

// agentSpec resolves a create_agent call into the command to run, in the mode asked for.
func (d Deps) agentSpec(a createAgentArgs) (messages.AgentSpec, *messages.Error) {
	spec, e := d.agentCommand(a)
	if e != nil {
		return spec, e
	}
	switch a.Mode {
	case "":
	case messages.ModeTerminal, "interactive":
		spec.Mode = a.Mode
	case "per-message":
		if spec.Mode != "per-message" {
			return spec, messages.Errorf(messages.CodeInvalidArgument, "mode per-message needs a preset whose args take the message ({message}), and %s does not; "+
				"leave mode out, or use mode interactive or terminal", cmp.Or(spec.Preset, "a free-form command"))
		}
	default:
		return spec, messages.Errorf(messages.CodeInvalidArgument, "mode %q is not a mode: use terminal, interactive or per-message", a.Mode)
	}
	if (a.Rows != 0 || a.Cols != 0) && spec.Mode != messages.ModeTerminal {
		return spec, messages.Errorf(messages.CodeInvalidArgument, "rows and cols size a terminal, and this agent runs in mode %s: leave them out, or pass mode \"terminal\"", spec.Mode)
	}
	if a.Rows != 0 && (a.Rows < messages.MinTerminalRows || a.Rows > messages.MaxTerminalRows) {
		return spec, messages.Errorf(messages.CodeInvalidArgument, "rows must be between %d and %d, got %d", messages.MinTerminalRows, messages.MaxTerminalRows, a.Rows)
	}
	if a.Cols != 0 && (a.Cols < messages.MinTerminalCols || a.Cols > messages.MaxTerminalCols) {
		return spec, messages.Errorf(messages.CodeInvalidArgument, "cols must be between %d and %d, got %d", messages.MinTerminalCols, messages.MaxTerminalCols, a.Cols)
	}
	if spec.Mode == messages.ModeTerminal {
		spec.Rows, spec.Cols = cmp.Or(a.Rows, messages.DefaultTerminalRows), cmp.Or(a.Cols, messages.DefaultTerminalCols)
	}
	return spec, nil
}

// agentCommand resolves the preset or the free-form command of a create_agent call.
func (d Deps) agentCommand(a createAgentArgs) (messages.AgentSpec, *messages.Error) {
	names := make([]string, 0, len(d.Presets))
	for n := range d.Presets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, k := range sortedKeys(a.Env) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return messages.AgentSpec{}, messages.Errorf(messages.CodeInvalidArgument, "env: %q is not a valid variable name", k)
		}
		if config.IsLoaderVar(k) && !d.AllowAnyCommand {
			return messages.AgentSpec{}, messages.Errorf(messages.CodeInvalidArgument, "env: %s changes what code a program loads or runs, so a call may not set it; "+
				"put it in the preset's env in troupe.toml, or set allow_any_command = true", k)
		}
	}
	switch {
	case a.Preset != "" && a.Command != "":
		return messages.AgentSpec{}, messages.Errorf(messages.CodeInvalidArgument, "give either preset or command, not both")
	case a.Preset != "":
		p, ok := d.Presets[a.Preset]
		if !ok {
			return messages.AgentSpec{}, messages.Errorf(messages.CodeInvalidArgument, "unknown preset %q; the presets are: %s", a.Preset, strings.Join(names, ", "))
		}
		if e := d.checkPresetAdditions(a, p); e != nil {
			return messages.AgentSpec{}, e
		}
		spec := messages.AgentSpec{Preset: a.Preset, Command: p.Command, Args: append(append([]string{}, p.Args...), a.Args...), Mode: p.Mode, Restart: p.Restart}
		spec.Env = append(envList(p.Env), envList(a.Env)...)
		return spec, nil
	case a.Command != "":
		if !d.AllowAnyCommand {
			return messages.AgentSpec{}, messages.Errorf(messages.CodeInvalidArgument, "free-form commands are refused by this server's configuration; use a preset (%s), or set allow_any_command = true in troupe.toml", strings.Join(names, ", "))
		}
		return messages.AgentSpec{Command: a.Command, Args: a.Args, Env: envList(a.Env), Mode: "interactive", Restart: "never"}, nil
	default:
		return messages.AgentSpec{}, messages.Errorf(messages.CodeInvalidArgument, "say what to run: preset (one of %s) or command", strings.Join(names, ", "))
	}
}

// checkPresetAdditions refuses the arguments and environment variables a call adds to a preset
// that the preset does not declare (allow_args, allow_env), unless the server allows any
// command anyway: otherwise `preset: "cat", args: ["/etc/shadow"]` reads any file.
func (d Deps) checkPresetAdditions(a createAgentArgs, p config.Preset) *messages.Error {
	if d.AllowAnyCommand {
		return nil
	}
	if len(a.Args) > 0 && !p.AllowArgs {
		return messages.Errorf(messages.CodeInvalidArgument, "preset %q takes no extra args from a call (its command line is fixed by the server's configuration); "+
			"leave args out, or set allow_args = true under [presets.%s] in troupe.toml", a.Preset, a.Preset)
	}
	for _, k := range sortedKeys(a.Env) {
		if !p.AllowsEnv(k) {
			allowed := "none"
			if len(p.AllowEnv) > 0 {
				allowed = strings.Join(p.AllowEnv, ", ")
			}
			return messages.Errorf(messages.CodeInvalidArgument, "preset %q does not let a call set %s (it allows: %s); "+
				"leave it out, or add it to allow_env under [presets.%s] in troupe.toml", a.Preset, k, allowed, a.Preset)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func envList(env map[string]string) []string {
	keys := sortedKeys(env)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + env[k]
	}
	return out
}

func (d Deps) createAgent(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a createAgentArgs
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("session_id", a.SessionID); e != nil {
		return toolError(e), nil
	}
	spec, e := d.agentSpec(a)
	if e != nil {
		return toolError(e), nil
	}
	res, e := ask[*messages.AgentResult](ctx, d, &messages.CreateAgent{SessionID: a.SessionID, Name: a.Name, Spec: spec})
	if r, err := d.answer(ctx, "create_agent", e); r != nil || err != nil {
		return r, err
	}
	ag := res.Agent
	text := fmt.Sprintf("Agent %s is %s (%s mode, pid %d): %s %s", ag.AgentID, ag.Status, ag.Mode, ag.PID, ag.Command, strings.Join(ag.Args, " "))
	if ag.Size != nil {
		text += fmt.Sprintf("\nIts terminal is %d×%d: read it with read_agent_screen, type with send_keys.", ag.Size.Rows, ag.Size.Cols)
	}
	return structured(ag, text), nil
}

func sendToAgentTool(d Deps) mcp.Tool {
	return newTool("send_to_agent",
		"Send a message to an agent: a line on an interactive agent's stdin, or one run of a per-message agent (queued if one is running). "+
			"With wait_seconds, wait for the run to finish (per-message) or for new output (interactive) and return it.",
		// Destructive: an agent does what it is told in the workspace, deleting files included.
		hints(false, true, false, true),
		mcp.WithString("agent_id", mcp.Required(), mcp.Description(agentIDDesc), mcp.MaxLength(maxChildIDChars)),
		mcp.WithString("message", mcp.Required(), mcp.Description(fmt.Sprintf("The message, at most %d bytes (the server's max_message_bytes).", d.MaxMessageBytes)), mcp.MaxLength(d.MaxMessageBytes)),
		mcp.WithNumber("wait_seconds", mcp.Description(waitDesc("for the answer: the run's end (per-message), new output (interactive), the program waiting for input again (terminal)", d)), mcp.Min(0.0), mcp.Max(maxWaitArg)),
		mcp.WithString("wait_for", mcp.Description(waitForDesc("the new output")), mcp.MaxLength(maxWaitForChars)),
	)
}

// maxModeChars bounds create_agent's mode.
const maxModeChars = 16

func (d Deps) sendToAgent(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		AgentID     string  `json:"agent_id"`
		Message     *string `json:"message"`
		WaitSeconds float64 `json:"wait_seconds"`
		WaitFor     string  `json:"wait_for"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("agent_id", a.AgentID); e != nil {
		return toolError(e), nil
	}
	if a.Message == nil {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "message is required")), nil
	}
	wait, capped, e := d.waitArgs(a.WaitSeconds, a.WaitFor)
	if e != nil {
		return toolError(e), nil
	}
	if limit := d.MaxMessageBytes; len(*a.Message) > limit {
		return toolError(messages.Errorf(messages.CodeTooLarge, "the message is %d bytes, over the limit of %d; put large input in a file in the session's workspace and send its path", len(*a.Message), limit)), nil
	}
	res, e := askWaiting[*messages.SendToAgentResult](ctx, d, &messages.SendToAgent{AgentID: a.AgentID, Message: *a.Message, WaitSeconds: wait, WaitFor: a.WaitFor}, wait)
	if r, err := d.answer(ctx, "send_to_agent", e); r != nil || err != nil {
		return r, err
	}
	out := map[string]any{"agent_id": res.AgentID, "status": res.Status, "from_seq": res.FromSeq, "queued": res.Queued}
	text := fmt.Sprintf("Sent to %s (%s); its output follows sequence number %d.", res.AgentID, res.Status, res.FromSeq)
	if res.Queued > 0 {
		text += fmt.Sprintf(" %d message(s) run before it.", res.Queued)
	}
	if res.Output != nil {
		res.Output.Capped = capped && res.Output.TimedOut
		out["output"] = res.Output
		text += "\n" + outputText(res.Output)
	}
	return structured(out, text), nil
}

// outputText renders output for the text content: the chunks, then where to read on.
func outputText(o *messages.AgentOutput) string {
	var b strings.Builder
	for _, c := range o.Chunks {
		b.WriteString(c.Text)
	}
	if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "[%s", o.Status)
	if o.ExitCode != nil {
		fmt.Fprintf(&b, ", exit code %d", *o.ExitCode)
	}
	if o.Signal != "" {
		fmt.Fprintf(&b, ", %s", o.Signal)
	}
	fmt.Fprintf(&b, "; read on with after=%d", o.Next)
	if o.More {
		b.WriteString("; more output is waiting")
	}
	if o.Matched {
		fmt.Fprintf(&b, "; wait_for matched %q", o.Match)
	}
	if o.TimedOut {
		b.WriteString("; the wait ended without new output")
	}
	if o.Capped {
		b.WriteString(" at the server's max_wait_seconds: call again to go on waiting")
	}
	if o.Problem != "" {
		b.WriteString("; " + o.Problem)
	}
	b.WriteString("]")
	return b.String()
}

func readAgentOutputTool(d Deps) mcp.Tool {
	return newTool("read_agent_output",
		"Read an agent's output after a sequence number (stdout and stderr, in order), with its status and exit code. "+
			"With wait_seconds, wait for output when there is none yet.",
		hints(true, false, true, false),
		mcp.WithString("agent_id", mcp.Required(), mcp.Description(agentIDDesc), mcp.MaxLength(maxChildIDChars)),
		mcp.WithInteger("after", mcp.Description("Return output after this sequence number (default 0: from the start)."), mcp.Min(0), mcp.Max(maxWholeNumber)),
		mcp.WithInteger("max_bytes", mcp.Description("At most this much output (default 65536, at most 1048576); read on from next."), mcp.Min(1), mcp.Max(process.MaxReadBytes)),
		mcp.WithNumber("wait_seconds", mcp.Description(waitDesc("for output when there is none after `after`", d)), mcp.Min(0.0), mcp.Max(maxWaitArg)),
		mcp.WithString("wait_for", mcp.Description(waitForDesc("the output after `after`")), mcp.MaxLength(maxWaitForChars)),
	)
}

func (d Deps) readAgentOutput(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		AgentID     string  `json:"agent_id"`
		After       int64   `json:"after"`
		MaxBytes    int     `json:"max_bytes"`
		WaitSeconds float64 `json:"wait_seconds"`
		WaitFor     string  `json:"wait_for"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("agent_id", a.AgentID); e != nil {
		return toolError(e), nil
	}
	if a.After < 0 || a.MaxBytes < 0 {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "after and max_bytes must not be negative")), nil
	}
	if a.MaxBytes > process.MaxReadBytes {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "max_bytes is %d, over the most one read returns (%d); read in pieces, passing next as after", a.MaxBytes, process.MaxReadBytes)), nil
	}
	wait, capped, e := d.waitArgs(a.WaitSeconds, a.WaitFor)
	if e != nil {
		return toolError(e), nil
	}
	res, e := askWaiting[*messages.ReadAgentOutputResult](ctx, d, &messages.ReadAgentOutput{AgentID: a.AgentID, After: uint64(a.After), MaxBytes: a.MaxBytes, WaitSeconds: wait, WaitFor: a.WaitFor}, wait)
	if r, err := d.answer(ctx, "read_agent_output", e); r != nil || err != nil {
		return r, err
	}
	res.Output.Capped = capped && res.Output.TimedOut
	return structured(res.Output, outputText(res.Output)), nil
}

func deleteAgentTool() mcp.Tool {
	return newTool("delete_agent", "Stop an agent (SIGTERM to its process group, then SIGKILL after a grace period) and remove it from its session. A busy agent needs force.",
		hints(false, true, true, false),
		mcp.WithString("agent_id", mcp.Required(), mcp.Description(agentIDDesc), mcp.MaxLength(maxChildIDChars)),
		mcp.WithBoolean("force", mcp.Description("Stop the agent even while it handles a message.")),
	)
}

func (d Deps) deleteAgent(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		AgentID string `json:"agent_id"`
		Force   bool   `json:"force"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("agent_id", a.AgentID); e != nil {
		return toolError(e), nil
	}
	res, e := ask[*messages.DeleteAgentResult](ctx, d, &messages.DeleteAgent{AgentID: a.AgentID, Force: a.Force})
	if r, err := d.answer(ctx, "delete_agent", e); r != nil || err != nil {
		return r, err
	}
	out := map[string]any{"agent_id": res.AgentID, "stopped": res.Stopped, "exit_code": res.ExitCode, "signal": res.Signal}
	return structured(out, fmt.Sprintf("Agent %s stopped and removed; its output log stays on disk.", res.AgentID)), nil
}
