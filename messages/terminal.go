package messages

// Terminal agents (DESIGN §13): an agent whose process runs on a PTY, with a screen.

// ModeTerminal is the agent mode of a process on a PTY; the others are "interactive" (one
// process, messages on its stdin) and "per-message" (one process per message).
const ModeTerminal = "terminal"

// Agent states (DESIGN §13), on every agent beside its status: what its process is doing.
const (
	// StateRunning: the foreground process is working (computing, sleeping, writing), not
	// blocked on input.
	StateRunning = "running"
	// StateWaitingForInput: blocked reading its terminal or stdin, with its output quiet.
	StateWaitingForInput = "waiting_for_input"
	// StateIdle: a per-message agent with no run in progress.
	StateIdle = "idle"
	// StateExited: no process (ended, failed to start, or stopped).
	StateExited = "exited"
)

// Default terminal size (DESIGN §13) and the bounds a call may ask for.
const (
	DefaultTerminalRows = 40
	DefaultTerminalCols = 120
	MinTerminalRows     = 2
	MinTerminalCols     = 10
	MaxTerminalRows     = 500
	MaxTerminalCols     = 1000
)

// Screen is what a terminal agent shows.
type Screen struct {
	// Lines are the rows of the screen as text, trailing spaces trimmed; wide characters take
	// one string position but two cells.
	Lines []string `json:"screen"`
	// Scrollback are the lines that scrolled off the top (oldest first), when asked for.
	Scrollback []string `json:"scrollback,omitempty"`
	Cursor     Position `json:"cursor"`
	AltScreen  bool     `json:"alt_screen"`
	Size       TermSize `json:"size"`
	Title      string   `json:"title,omitempty"`
}

// Position is a cell on the screen, 0-based.
type Position struct {
	Row int `json:"row"`
	Col int `json:"col"`
}

// TermSize is a terminal's size in cells.
type TermSize struct {
	Rows int `json:"rows"`
	Cols int `json:"cols"`
}

// ReadAgentScreen reads a terminal agent's screen, waiting up to WaitSeconds (capped by the
// server's max_wait_seconds) for WaitFor to match it, or for the agent to wait for input or exit.
type ReadAgentScreen struct {
	AgentID     string
	Scrollback  int // lines of scrollback to include (0 none)
	WaitFor     string
	WaitSeconds float64
}

// SendKeys types Text literally, then presses Keys (names of DESIGN §13), on a terminal agent;
// then answers with the screen, after WaitFor matched or the wait ended as for ReadAgentScreen.
type SendKeys struct {
	AgentID     string
	Text        string
	Keys        []string
	WaitFor     string
	WaitSeconds float64
}

// ScreenResult answers ReadAgentScreen and SendKeys.
type ScreenResult struct {
	AgentID string `json:"agent_id"`
	Screen
	State    string `json:"state"`
	Status   string `json:"status"`
	ExitCode *int   `json:"exit_code,omitempty"`
	// Matched says that WaitFor matched; Match is the matched text.
	Matched bool   `json:"matched,omitempty"`
	Match   string `json:"match,omitempty"`
	// TimedOut: the wait ended at its deadline; Capped: that deadline was the server's
	// max_wait_seconds, shorter than asked.
	TimedOut bool `json:"timed_out,omitempty"`
	Capped   bool `json:"capped,omitempty"`
	// Next is the output sequence number to pass as `after` to read_agent_output from here.
	Next uint64 `json:"next"`
}

// AttachAgent asks a terminal agent for an Attachment: a person taking the terminal over
// (`troupe attach`). Rows and Cols are the person's window (0: leave the size as it is).
type AttachAgent struct {
	AgentID    string
	Rows, Cols int
}

// AttachAgentResult answers AttachAgent.
type AttachAgentResult struct {
	Attachment Attachment
}

// Attachment is a person's hold on a terminal agent. While it is open the PTY has the person's
// size; the model can still read the screen and send keys.
type Attachment interface {
	// Repaint is what draws the current screen on the person's terminal (ANSI), sent first.
	Repaint() []byte
	// Output delivers the PTY's output from the moment of attaching, in order; it is closed when
	// the agent's process ends, the agent stops, or Close is called. A person too slow to read
	// loses the oldest pieces (the screen stays right: Repaint again).
	Output() <-chan []byte
	// Write types p on the terminal, as a person's keystrokes.
	Write(p []byte) error
	// Resize gives the PTY the person's window size.
	Resize(rows, cols int) error
	// Close detaches: the PTY goes back to the agent's own size. Closing twice is harmless.
	Close()
}

// TargetChild implements ChildTargeted.
func (m *ReadAgentScreen) TargetChild() string { return m.AgentID }

// TargetKind implements ChildTargeted.
func (m *ReadAgentScreen) TargetKind() ChildKind { return KindAgent }

// TargetChild implements ChildTargeted.
func (m *SendKeys) TargetChild() string { return m.AgentID }

// TargetKind implements ChildTargeted.
func (m *SendKeys) TargetKind() ChildKind { return KindAgent }

// TargetChild implements ChildTargeted.
func (m *AttachAgent) TargetChild() string { return m.AgentID }

// TargetKind implements ChildTargeted.
func (m *AttachAgent) TargetKind() ChildKind { return KindAgent }

// TerminalEcho asks whether a terminal agent's terminal echoes input now; the audit log keeps
// only the HMAC of text typed while it does not (a password prompt).
type TerminalEcho struct {
	AgentID string
}

// TerminalEchoResult answers TerminalEcho; Echo is true for agents not on a terminal.
type TerminalEchoResult struct {
	Echo bool
}

// TargetChild implements ChildTargeted.
func (m *TerminalEcho) TargetChild() string { return m.AgentID }

// TargetKind implements ChildTargeted.
func (m *TerminalEcho) TargetKind() ChildKind { return KindAgent }
