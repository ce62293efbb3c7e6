package proptest

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// The ops of DESIGN §13 on agents: typing (send_keys, and send_to_agent on an agent that
// echoes), reading the screen and the output. What was typed last is the model's (mChild.typed).

// keyNames are the keys send_keys presses besides Enter, which it presses last (see typeKeys);
// badKey is no key name, so a call naming it is refused.
var keyNames = []string{"C-c", "Up", "Tab", "q"}

const badKey = "Entr"

// texts are what is typed: short, long (ten cells, the widest with two keys that a row of the
// narrowest terminal drawn holds; see drawCreateAgent) and wide characters.
var texts = []string{"ls", "echo hi", "héllo 中文"}

// tinyWait is the wait of the calls that wait (seconds): long enough for the fake's echo, which
// is written before the call is answered anyway, short enough to keep the suite fast.
const tinyWait = 0.03

// Waits of read_agent_screen and send_keys: none, for the last line typed, for a line never
// shown (read_agent_screen), and on an invalid pattern (refused).
const (
	waitNone   = ""
	waitTyped  = "typed"
	waitOther  = "other"
	waitBadPat = "bad"
)

// badPattern is no regular expression.
const badPattern = "("

// typeKeys types text and presses keys, then Enter, on an agent (send_keys), waiting as wait
// says (waitTyped: for the text). A terminal agent's screen then shows the text at the start of
// a row (the fake echoes it; the cursor was at the start of a row, and one Enter scrolls it one
// row at most). An agent on pipes, an invalid pattern, an unknown key name and an exited agent
// are refused, and nothing reaches the process.
func (w *world) typeKeys(t tb, sessionID, name, text string, keys []string, wait string) {
	w.begin("send_keys")
	s, c := w.modelChild(t, sessionID, name)
	id := s.childID(c)
	before := w.inputOf(t, sessionID, name)
	msg := &messages.SendKeys{AgentID: id, Text: text, Keys: append(slices.Clone(keys), "Enter")}
	switch wait {
	case waitTyped:
		msg.WaitFor, msg.WaitSeconds = regexp.QuoteMeta(text), tinyWait
	case waitBadPat:
		msg.WaitFor, msg.WaitSeconds = badPattern, tinyWait
	}
	res := w.ask(t, msg)
	var want messages.Code
	why := "" // which refusal, for the outcomes
	switch {
	case c.mode != terminal:
		want, why = messages.CodeInvalidArgument, " (pipes)"
	case wait == waitBadPat:
		want, why = messages.CodeInvalidArgument, " (pattern)"
	case slices.Contains(keys, badKey):
		want, why = messages.CodeInvalidArgument, " (key name)"
	case c.exited:
		want = messages.CodeUnavailable
	}
	e, _ := res.(*messages.Error)
	reached("send_keys", orOK(want)+why)
	wantCode(t, w, "send_keys "+id, e, want)
	if want != "" {
		if after := w.inputOf(t, sessionID, name); !bytes.Equal(after, before) {
			w.fatalf(t, "send_keys %s refused, yet its process was written %q", id, after[len(before):])
		}
		return
	}
	r, ok := res.(*messages.ScreenResult)
	if !ok {
		w.fatalf(t, "send_keys %s answered %T %+v", id, res, res)
	}
	c.typed = text
	w.checkScreen(t, c, "send_keys "+id, r)
	if wait == waitTyped && text != "" && !r.Matched {
		w.fatalf(t, "send_keys %s waited for %q, which it shows, and answered not matched: %q", id, text, r.Lines)
	}
}

// readScreen reads an agent's screen (read_agent_screen), waiting as wait says: a terminal
// agent's screen is its size, shows the last line typed while it runs, and its state agrees
// with the model. An agent on pipes and an invalid pattern are refused.
func (w *world) readScreen(t tb, sessionID, name, wait string) {
	w.begin("read_agent_screen")
	s, c := w.modelChild(t, sessionID, name)
	id := s.childID(c)
	msg := &messages.ReadAgentScreen{AgentID: id}
	switch wait {
	case waitTyped:
		msg.WaitFor, msg.WaitSeconds = regexp.QuoteMeta(c.typed), tinyWait
	case waitOther:
		msg.WaitFor, msg.WaitSeconds = "^never shown$", tinyWait
	case waitBadPat:
		msg.WaitFor, msg.WaitSeconds = badPattern, tinyWait
	}
	res := w.ask(t, msg)
	var want messages.Code
	why := ""
	switch {
	case c.mode != terminal:
		want, why = messages.CodeInvalidArgument, " (pipes)"
	case wait == waitBadPat:
		want, why = messages.CodeInvalidArgument, " (pattern)"
	}
	e, _ := res.(*messages.Error)
	reached("read_agent_screen", orOK(want)+why)
	wantCode(t, w, "read_agent_screen "+id, e, want)
	if want != "" {
		return
	}
	r, ok := res.(*messages.ScreenResult)
	if !ok {
		w.fatalf(t, "read_agent_screen %s answered %T %+v", id, res, res)
	}
	w.checkScreen(t, c, "read_agent_screen "+id, r)
	if wait == waitTyped && c.typed != "" && !r.Matched {
		w.fatalf(t, "read_agent_screen %s waited for %q, which it shows, and answered not matched: %q", id, c.typed, r.Lines)
	}
	if wait == waitOther && r.Matched {
		w.fatalf(t, "read_agent_screen %s matched a line it does not show: %q in %q", id, r.Match, r.Lines)
	}
}

// sendMessage gives an interactive or terminal agent a message (send_to_agent), waiting for its
// echo when wait is set: it is typed with Enter, so that it shows as typeKeys's text does. An
// exited agent refuses it, and nothing reaches a process.
func (w *world) sendMessage(t tb, sessionID, name, text string, wait bool) {
	w.begin("send_to_agent")
	s, c := w.modelChild(t, sessionID, name)
	id := s.childID(c)
	if c.mode == perMessage {
		w.fatalf(t, "script: send_to_agent on per-message agent %s: use make_busy", id)
	}
	before := w.inputOf(t, sessionID, name)
	msg := &messages.SendToAgent{AgentID: id, Message: text}
	if wait {
		msg.WaitFor, msg.WaitSeconds = regexp.QuoteMeta(text), tinyWait
	}
	r := testutil.AsSendToAgent(w.ask(t, msg))
	var want messages.Code
	if c.exited {
		want = messages.CodeUnavailable
	}
	reached("send_to_agent", want)
	wantCode(t, w, "send_to_agent "+id, r.Err, want)
	if want != "" {
		if after := w.inputOf(t, sessionID, name); !bytes.Equal(after, before) {
			w.fatalf(t, "send_to_agent %s refused, yet its process was written %q", id, after[len(before):])
		}
		return
	}
	c.typed = text
	if wait && (r.Output == nil || !r.Output.Matched) {
		w.fatalf(t, "send_to_agent %s waited for its echo %q and answered %s", id, text, jsonString(r.Output))
	}
}

// readOutput reads an agent's output from the start (read_agent_output), waiting for the last line
// typed when wait is set: it holds that line (the fakes echo), and its state agrees with the
// model.
func (w *world) readOutput(t tb, sessionID, name string, wait bool) {
	w.begin("read_agent_output")
	s, c := w.modelChild(t, sessionID, name)
	id := s.childID(c)
	echoed := c.typed != "" && c.mode != perMessage
	msg := &messages.ReadAgentOutput{AgentID: id, MaxBytes: 1 << 20}
	if wait && echoed {
		msg.WaitFor, msg.WaitSeconds = regexp.QuoteMeta(c.typed), tinyWait
	}
	r := testutil.AsReadAgentOutput(w.ask(t, msg))
	reached("read_agent_output", c.mode)
	wantCode(t, w, "read_agent_output "+id, r.Err, "")
	out := r.Output
	if out == nil {
		w.fatalf(t, "read_agent_output %s answered no output", id)
	}
	if why := stateDisagrees(c.mode, out.Status, out.State, out.Busy); why != "" {
		w.fatalf(t, "read_agent_output %s: status %s state %s: %s", id, out.Status, out.State, why)
	}
	if got, want := outputClass(out), c.state(); got != want {
		w.fatalf(t, "read_agent_output %s: state %s (%s), want %s", id, out.State, got, want)
	}
	if !echoed {
		return
	}
	var text strings.Builder
	for _, ch := range out.Chunks {
		text.WriteString(ch.Text)
	}
	if !strings.Contains(text.String(), c.typed) || (msg.WaitFor != "" && !out.Matched) {
		w.fatalf(t, "read_agent_output %s: the last line typed, %q, is not in its output (matched %t): %q", id, c.typed, out.Matched, text.String())
	}
}

// endProcess makes the process of a running interactive or terminal agent end by itself with
// code (as cat does at the end of its input): the agent is exited, with its exit code, and a
// terminal agent keeps its last screen, in its record too.
func (w *world) endProcess(t tb, sessionID, name string, code int) {
	w.begin("end_process")
	s, c := w.modelChild(t, sessionID, name)
	id := s.childID(c)
	if c.mode == perMessage || c.exited {
		w.fatalf(t, "script: end_process on %s (%s, exited %t): only a running interactive or terminal agent", id, c.mode, c.exited)
	}
	pid := w.childInfo(t, sessionID, name).PID
	if pid == 0 {
		w.fatalf(t, "agent %s shows no process", id)
	}
	w.process(t, pid).Finish(code)
	reached("end_process", c.mode)
	c.exited, c.stuck, c.exitCode = true, false, &code
	if c.mode == terminal {
		c.saved = c.typed
	}
	var last messages.ChildInfo
	w.poll(t, "the exit of "+id, func() bool {
		last = w.childInfo(t, sessionID, name)
		return last.Status == messages.AgentExited
	}, func() string { return jsonString(last) })
	if last.ExitCode == nil || *last.ExitCode != code {
		w.fatalf(t, "get_session: agent %s exited with code %s, want %d", id, jsonString(last.ExitCode), code)
	}
}

// checkScreen checks a terminal agent's screen: its size as created, the last line typed on a
// row while it runs, and its state.
func (w *world) checkScreen(t tb, c *mChild, what string, r *messages.ScreenResult) {
	t.Helper()
	if r.Size != (messages.TermSize{Rows: c.rows, Cols: c.cols}) || len(r.Lines) != c.rows {
		w.fatalf(t, "%s: size %+v with %d rows, want %dx%d", what, r.Size, len(r.Lines), c.rows, c.cols)
	}
	for _, l := range r.Lines {
		if utf8.RuneCountInString(l) > c.cols {
			w.fatalf(t, "%s: a row wider than %d columns: %q", what, c.cols, l)
		}
	}
	if c.typed != "" && !onRow(r.Lines, c.typed) {
		w.fatalf(t, "%s: the last line typed, %q, is not on %q", what, c.typed, r.Lines)
	}
	if why := stateDisagrees(terminal, r.Status, r.State, false); why != "" {
		w.fatalf(t, "%s: status %s state %s: %s", what, r.Status, r.State, why)
	}
	if (r.State == messages.StateExited) != c.exited {
		w.fatalf(t, "%s: state %s, want %s", what, r.State, c.state())
	}
	if c.exitCode != nil && (r.ExitCode == nil || *r.ExitCode != *c.exitCode) {
		w.fatalf(t, "%s: exit code %s, want %d", what, jsonString(r.ExitCode), *c.exitCode)
	}
}

// inputOf is everything an agent's process was written so far (nil without a process): a
// refused call must not add to it.
func (w *world) inputOf(t tb, sessionID, name string) []byte {
	t.Helper()
	pid := w.childInfo(t, sessionID, name).PID
	if pid == 0 {
		return nil
	}
	return w.process(t, pid).Input()
}

// onRow says whether a row starts with text (a key such as "q" pressed after it follows it).
func onRow(rows []string, text string) bool {
	return slices.ContainsFunc(rows, func(r string) bool { return strings.HasPrefix(r, text) })
}

// agentStates are the states of DESIGN §13.
var agentStates = []string{messages.StateRunning, messages.StateWaitingForInput, messages.StateIdle, messages.StateExited}

// stateDisagrees says how an agent's state disagrees with its status and mode (DESIGN §13), ""
// when it agrees: a per-message agent is running while busy and idle otherwise; another is
// exited exactly when its process is gone (exited, failed, stopping) and never idle.
func stateDisagrees(mode, status, state string, busy bool) string {
	gone := status == messages.AgentExited || status == messages.AgentFailed || status == messages.AgentStopping
	switch {
	case !slices.Contains(agentStates, state):
		return "not one of the states " + strings.Join(agentStates, ", ")
	case mode == perMessage && busy && state != messages.StateRunning:
		return "a busy per-message agent is running"
	case mode == perMessage && !busy && state != messages.StateIdle:
		return "a per-message agent with no run is idle"
	case mode != perMessage && state == messages.StateIdle:
		return "only a per-message agent is idle"
	case mode != perMessage && gone != (state == messages.StateExited):
		return "an agent is exited exactly when its process is gone"
	}
	return ""
}

// outputClass is the state class (stateClass) of an agent's output answer.
func outputClass(o *messages.AgentOutput) string {
	return stateClass(messages.ChildInfo{State: o.State, Busy: o.Busy})
}
