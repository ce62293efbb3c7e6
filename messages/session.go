package messages

import (
	"encoding/json"
	"time"

	"github.com/troupe-dev/troupe/internal/principal"
)

// Status is a session's lifecycle status (DESIGN §3).
type Status string

// Session statuses.
const (
	StatusActive   Status = "active"
	StatusDeleting Status = "deleting"
	// StatusRestoring: restore_session is unpacking the session's workspace.
	StatusRestoring Status = "restoring"
)

// Cookie is one browser cookie of a session.
type Cookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	Domain   string  `json:"domain,omitempty"`
	Path     string  `json:"path,omitempty"`
	URL      string  `json:"url,omitempty"`
	Expires  float64 `json:"expires,omitempty"`
	HTTPOnly bool    `json:"http_only,omitempty"`
	Secure   bool    `json:"secure,omitempty"`
	SameSite string  `json:"same_site,omitempty"`
}

// ChildInfo describes one child of a session (an agent or a page), as answered to clients.
type ChildInfo struct {
	ID     string    `json:"id"`
	Kind   ChildKind `json:"kind"`
	Name   string    `json:"name"`
	Status string    `json:"status"`
	// State is an agent's (DESIGN §13): running, waiting_for_input, idle, exited.
	State    string `json:"state,omitempty"`
	Busy     bool   `json:"busy"`
	URL      string `json:"url,omitempty"`
	Title    string `json:"title,omitempty"`
	PID      int    `json:"pid,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
	Signal   string `json:"signal,omitempty"`
	Restarts int    `json:"restarts,omitempty"`
	Error    string `json:"error,omitempty"`
	// LastScreen is what a terminal agent showed when its session was snapshotted, for a
	// restored session (its new process draws a new screen).
	LastScreen []string `json:"last_screen,omitempty"`
}

// SessionInfo is a session as answered to clients (DESIGN §7 field names).
type SessionInfo struct {
	SessionID          string                     `json:"session_id"`
	Name               string                     `json:"name"`
	Owner              string                     `json:"owner"`
	Status             Status                     `json:"status"`
	Workspace          string                     `json:"workspace"`
	WorkspaceOwned     bool                       `json:"workspace_owned"`
	State              map[string]json.RawMessage `json:"state"`
	Labels             map[string]string          `json:"labels"`
	CreatedAt          time.Time                  `json:"created_at"`
	LastActivity       time.Time                  `json:"last_activity"`
	ExpiresAt          time.Time                  `json:"expires_at"`
	IdleTimeoutSeconds int64                      `json:"idle_timeout_seconds"`
	Children           []ChildInfo                `json:"children"`
	// Node is the cluster node that owns the session (DESIGN §16); empty on a single node.
	Node string `json:"node,omitempty"`
}

// SessionSummary is one row of list_sessions.
type SessionSummary struct {
	SessionID    string            `json:"session_id"`
	Name         string            `json:"name"`
	Owner        string            `json:"owner"`
	Status       Status            `json:"status"`
	Labels       map[string]string `json:"labels"`
	CreatedAt    time.Time         `json:"created_at"`
	LastActivity time.Time         `json:"last_activity"`
	AgeSeconds   float64           `json:"age_seconds"`
	IdleSeconds  float64           `json:"idle_seconds"`
	Agents       int               `json:"agents"`
	Pages        int               `json:"pages"`
	// Node is the cluster node that owns the session (DESIGN §16); empty on a single node.
	Node string `json:"node,omitempty"`
}

// CreateSession asks the orchestrator for a new session. An empty SessionID is generated.
// Workspace is already validated and resolved by the caller's layer when set.
type CreateSession struct {
	SessionID string
	// Owner is the principal the session will belong to (DESIGN §12); empty: local.
	Owner     string
	Name      string
	Workspace string
	URL       string
	Cookies   []Cookie
	// LocalStorage is the browser context's localStorage per origin to start with.
	LocalStorage       map[string]map[string]string
	State              map[string]json.RawMessage
	Labels             map[string]string
	IdleTimeoutSeconds int64
}

// SessionResult answers CreateSession, GetSession and RestoreSession.
type SessionResult struct {
	Session *SessionInfo
}

// GetSession asks for one session.
type GetSession struct{ SessionID string }

// ListSessions asks for every live session, optionally filtered by a label ("key" or "key=value").
type ListSessions struct {
	Label string
	// Owner, when set, lists only the sessions of this principal (DESIGN §12).
	Owner string
}

// ListSessionsResult answers ListSessions; Sessions are sorted by id.
type ListSessionsResult struct {
	Sessions []SessionSummary
	// Unanswered says which cluster nodes did not answer and why (DESIGN §16): their sessions
	// are missing from Sessions. Empty on a single node.
	Unanswered []string
}

// UpdateSessionState sets and unsets keys of a session's state.
type UpdateSessionState struct {
	SessionID string
	Set       map[string]json.RawMessage
	Unset     []string
}

// UpdateSessionStateResult answers UpdateSessionState with the new state.
type UpdateSessionStateResult struct {
	SessionID string
	State     map[string]json.RawMessage
}

// DeleteSession deletes a session (DESIGN §4).
type DeleteSession struct {
	SessionID    string
	Force        bool
	PreserveWork bool
	DryRun       bool
	GraceSeconds float64
	// Reason is "deleted" for a client's call and "expired" for idle expiry.
	Reason string
	// ProgressID, when set, names the call to tell of each step: the session reports to the
	// server's progress sink (actors Options.Progress), which turns it into MCP notifications.
	ProgressID string
}

// Preserved says what delete_session kept of a session's workspace.
type Preserved struct {
	Kind    string `json:"kind"`
	Ref     string `json:"ref,omitempty"`
	Commit  string `json:"commit,omitempty"`
	Archive string `json:"archive,omitempty"`
	Files   int    `json:"files,omitempty"`
	Note    string `json:"note,omitempty"`
}

// StopFailure is one child that failed to stop during a delete.
type StopFailure struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// DeleteSessionResult summarises a delete (DESIGN §4 step 8).
type DeleteSessionResult struct {
	SessionID  string
	DryRun     bool
	Plan       []string
	Stopped    []string
	SnapshotID string
	Preserved  *Preserved
	Failures   []StopFailure
	Duration   time.Duration
}

// SessionMetrics asks for the metrics of DESIGN §3.
type SessionMetrics struct {
	// Owner, when set, counts only the sessions of this principal and leaves the server-wide
	// counters out (DESIGN §12).
	Owner string
}

// SessionMetricsResult answers SessionMetrics.
type SessionMetricsResult struct {
	TotalSessions    int
	ActiveSessions   int
	DeletingSessions int
	IdleSessions     int
	// Sessions counts the sessions by status (a status no session has is absent).
	Sessions  map[Status]int
	OldestAge time.Duration
	NewestAge time.Duration
	AvgAge    time.Duration
	// Children counts the live children by kind.
	Children map[ChildKind]int
	// ChildrenRunning counts, by kind, the children counted in RunningChildren; the others of
	// Children have ended (an exited or failed agent, kept for its output).
	ChildrenRunning map[ChildKind]int
	// RunningChildren counts the children whose process or page is live: an agent whose
	// process exited or failed (kept for its output) is not counted. The daemon's idle exit
	// waits for it to be 0.
	RunningChildren  int
	Created, Deleted int64
	Expired          int64
	Restored         int64
	Rollbacks        int64
	MaxSessions      int
	MaxChildren      int
	IdleTimeout      time.Duration
	// CountersSince is when the counters started: the server's start.
	CountersSince time.Time
	// Unanswered says which cluster nodes did not answer and why (DESIGN §16): their sessions
	// are not counted. Empty on a single node.
	Unanswered []string
}

// SweepIdle asks the orchestrator to expire idle sessions now and flush recorded activity. The
// server's timer sends it every cleanup interval; tests send it after advancing their clock.
type SweepIdle struct{}

// SweepIdleResult answers SweepIdle once the expiries have been started.
type SweepIdleResult struct {
	Expiring []string
}

// RestoreSession brings a deleted or expired session back from its snapshot.
type RestoreSession struct {
	SnapshotID string
	// SessionID restores under another id; empty means the snapshot's own.
	SessionID string
}

// ListSnapshots asks for the snapshots kept, of one session when SessionID is set.
type ListSnapshots struct {
	SessionID string
	// Owner, when set, lists only the snapshots of this principal's sessions (DESIGN §12).
	Owner string
}

// SnapshotInfo describes one snapshot to clients.
type SnapshotInfo struct {
	SnapshotID string     `json:"snapshot_id"`
	SessionID  string     `json:"session_id"`
	Owner      string     `json:"owner"`
	Reason     string     `json:"reason"`
	CreatedAt  time.Time  `json:"created_at"`
	Completed  bool       `json:"completed"`
	Children   []string   `json:"children"`
	Stopped    []string   `json:"stopped,omitempty"`
	Preserved  *Preserved `json:"preserved,omitempty"`
	ExpiresAt  time.Time  `json:"expires_at"`
}

// ListSnapshotsResult answers ListSnapshots, oldest first.
type ListSnapshotsResult struct {
	Snapshots []SnapshotInfo
}

// CheckAccess asks whether the principal Principal may use the session SessionID or the snapshot
// SnapshotID (one of them). The answer is nil (*Error)(nil) when it may or when neither exists
// (the call then answers as it always does), and when the session or snapshot belongs to someone
// else, the very error a missing one gets: no existence leak (DESIGN §12).
type CheckAccess struct {
	Principal  string
	SessionID  string
	SnapshotID string
	// Strict refuses a session that does not exist (or no longer has a tombstone) too: for
	// filtering what a principal may see rather than guarding a call.
	Strict bool
}

// CheckAccessResult answers CheckAccess: Err is nil when access is granted.
type CheckAccessResult struct{ Err *Error }

// OwnerOrLocal is the principal a session of this owner belongs to: records from before owners
// were kept belong to local.
func OwnerOrLocal(owner string) string {
	if owner == "" {
		return principal.LocalName
	}
	return owner
}
