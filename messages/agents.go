package messages

import "time"

// Agent statuses (DESIGN §2, issue "Agents").
const (
	AgentStarting = "starting"
	AgentRunning  = "running"
	AgentBusy     = "busy"
	AgentIdle     = "idle"
	AgentExited   = "exited"
	AgentFailed   = "failed"
	AgentStopping = "stopping"
)

// AgentSpec is what it takes to (re-)create an agent: the resolved command of its preset or of
// a free-form call, in the session's workspace.
type AgentSpec struct {
	Preset  string   `json:"preset,omitempty"`
	Command string   `json:"command"`
	Args    []string `json:"args,omitempty"`
	// Env holds KEY=VALUE entries: the preset's, then the call's.
	Env     []string `json:"env,omitempty"`
	Mode    string   `json:"mode"`
	Restart string   `json:"restart"`
	// Rows and Cols are the terminal's size (mode terminal; 0: the default 40×120).
	Rows int `json:"rows,omitempty"`
	Cols int `json:"cols,omitempty"`
}

// CreateAgent asks a session for a new agent.
type CreateAgent struct {
	SessionID string
	Name      string
	Spec      AgentSpec
}

// AgentInfo describes an agent to clients.
type AgentInfo struct {
	AgentID   string   `json:"agent_id"`
	SessionID string   `json:"session_id"`
	Name      string   `json:"name"`
	Preset    string   `json:"preset,omitempty"`
	Command   string   `json:"command"`
	Args      []string `json:"args,omitempty"`
	Mode      string   `json:"mode"`
	Restart   string   `json:"restart"`
	Status    string   `json:"status"`
	// State is what the process is doing (DESIGN §13): running, waiting_for_input, idle, exited.
	State string `json:"state"`
	Busy  bool   `json:"busy"`
	PID   int    `json:"pid,omitempty"`
	// Size is the terminal's size (mode terminal).
	Size      *TermSize `json:"size,omitempty"`
	ExitCode  *int      `json:"exit_code,omitempty"`
	Signal    string    `json:"signal,omitempty"`
	Error     string    `json:"error,omitempty"`
	Restarts  int       `json:"restarts"`
	Queued    int       `json:"queued"`
	LastSeq   uint64    `json:"last_seq"`
	LogPath   string    `json:"log_path"`
	CreatedAt time.Time `json:"created_at"`
}

// AgentResult answers CreateAgent.
type AgentResult struct {
	Agent *AgentInfo
}

// SendToAgent gives an agent a message.
type SendToAgent struct {
	AgentID     string
	Message     string
	WaitSeconds float64
	// WaitFor, a regular expression, makes the wait last until the new output matches it (or
	// the agent waits for input again, or exits).
	WaitFor string
}

// OutputChunk is one piece of an agent's output.
type OutputChunk struct {
	Seq    uint64    `json:"seq"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
	Text   string    `json:"text"`
}

// AgentOutput is a stretch of an agent's output with the agent's state.
type AgentOutput struct {
	AgentID  string        `json:"agent_id"`
	Status   string        `json:"status"`
	State    string        `json:"state"`
	Busy     bool          `json:"busy"`
	ExitCode *int          `json:"exit_code,omitempty"`
	Signal   string        `json:"signal,omitempty"`
	Chunks   []OutputChunk `json:"chunks"`
	// Next is the sequence number to pass as `after` to read on.
	Next    uint64 `json:"next"`
	LastSeq uint64 `json:"last_seq"`
	More    bool   `json:"more"`
	// Missing counts chunks that could not be read back; Problem says why.
	Missing uint64 `json:"missing,omitempty"`
	Problem string `json:"problem,omitempty"`
	// TimedOut says that a wait ended at its deadline rather than on output or exit.
	TimedOut bool `json:"timed_out,omitempty"`
	// Capped says that deadline was the server's max_wait_seconds, shorter than asked.
	Capped bool `json:"capped,omitempty"`
	// Matched says that the wait_for pattern matched the new output; Match is what it matched.
	Matched bool   `json:"matched,omitempty"`
	Match   string `json:"match,omitempty"`
}

// SendToAgentResult answers SendToAgent.
type SendToAgentResult struct {
	AgentID string
	// FromSeq is the last sequence number before the message: its output starts after it.
	FromSeq uint64
	// Queued is how many messages wait before this one (per-message mode).
	Queued int
	// Output is set when the caller waited.
	Output *AgentOutput
	Status string
}

// ReadAgentOutput reads an agent's output after a sequence number, waiting up to WaitSeconds
// for some when there is none yet.
type ReadAgentOutput struct {
	AgentID     string
	After       uint64
	MaxBytes    int
	WaitSeconds float64
	WaitFor     string
}

// ReadAgentOutputResult answers ReadAgentOutput.
type ReadAgentOutputResult struct {
	Output *AgentOutput
}

// DeleteAgent stops and removes an agent; a busy one only with Force.
type DeleteAgent struct {
	AgentID string
	Force   bool
	Grace   time.Duration
}

// DeleteAgentResult answers DeleteAgent.
type DeleteAgentResult struct {
	AgentID  string
	Stopped  bool
	ExitCode *int
	Signal   string
}
