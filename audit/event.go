package audit

import "time"

// Stages of a tool call: Requested before it runs, then Completed or Failed.
const (
	StageRequested = "requested"
	StageCompleted = "completed"
	StageFailed    = "failed"
)

// Actions the audit package records itself, and names for the internal events other packages
// record, so that every writer spells them the same way. Tool calls use their own action names
// (`session.create`, `session.delete`, …).
const (
	ActionOpen         = "audit.open"          // the writer started; details: pid, segment, last_seq
	ActionClose        = "audit.close"         // the writer stopped cleanly
	ActionTornTail     = "audit.torn_tail"     // a torn last line was moved aside at start-up
	ActionHeadMismatch = "audit.head_mismatch" // the log ends before the seq its head file records
	// ActionAnchorMismatch: at start-up the log no longer reached the seq troupe's store recorded
	// (in a cluster: the head the node published to etcd).
	ActionAnchorMismatch = "audit.anchor_mismatch"
	ActionIdleExpire     = "session.expire"   // a session was deleted for idle timeout
	ActionChildStop      = "child.stop"       // one child stopped during a cascade
	ActionRollback       = "session.rollback" // a cascade was rolled back
	ActionRecovery       = "server.recover"   // start-up recovery of sessions
)

// PrincipalTroupe is the principal of events troupe records on its own account: idle expiry,
// recovery at start-up, the steps of a cascade, the log opening and closing.
const PrincipalTroupe = "troupe"

// Outcomes that most events use; any short word is accepted.
const (
	OutcomeOK    = "ok"
	OutcomeError = "error"
)

// Actor is the MCP client on whose behalf troupe acted.
type Actor struct {
	Transport     string `json:"transport"`
	ClientName    string `json:"client_name"`
	ClientVersion string `json:"client_version"`
	// ProtocolVersion is the MCP protocol version the client speaks (negotiated at initialize,
	// or declared per request by 2026-07-28 clients).
	ProtocolVersion string `json:"protocol_version,omitempty"`
	HTTPSession     string `json:"http_session,omitempty"`
}

// Event is one audit record. The writer fills in Seq, Time, Prev and Hash; Details are stored
// after redaction (see Log.Append), normalized to JSON values.
type Event struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Stage  string    `json:"stage,omitempty"`
	Actor  *Actor    `json:"actor,omitempty"`
	// Principal is who the call ran for (DESIGN §12): a token's name, "local" (the unix socket,
	// stdio, --no-auth), or PrincipalTroupe for what troupe did by itself.
	Principal  string         `json:"principal,omitempty"`
	Session    string         `json:"session,omitempty"`
	Target     string         `json:"target,omitempty"`
	Outcome    string         `json:"outcome,omitempty"`
	DurationMS float64        `json:"duration_ms,omitempty"`
	Details    map[string]any `json:"details,omitempty"`
	Prev       string         `json:"prev"`
	Hash       string         `json:"hash"`
}
