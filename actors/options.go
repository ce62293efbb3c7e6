package actors

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/ids"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/workspace"
	"github.com/troupe-dev/troupe/messages"
)

// Clock tells the time; tests and property tests inject a fake one.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now().UTC() }

// Options configure the actor tree.
type Options struct {
	Store       store.Store
	Logger      zerolog.Logger
	Clock       Clock
	MaxSessions int
	MaxChildren int
	// MaxStateBytes bounds a session's state, serialized as JSON.
	MaxStateBytes int
	IdleTimeout   time.Duration
	// SweepInterval is the idle sweep's period; 0 disables the timer (tests send Sweep).
	SweepInterval time.Duration
	// SnapshotRetention is how long snapshots are kept; the sweep prunes older ones.
	SnapshotRetention time.Duration
	// PrepareWorkspace resolves a session's workspace: the requested path (validated) or a new
	// directory troupe owns. It must be safe to call from any goroutine.
	PrepareWorkspace func(sessionID, requested string) (path string, owned bool, err error)
	// Events receives internal events (expiry, recovery) for the audit log; may be nil.
	Events EventSink

	// Processes starts agents' processes; nil refuses agents with a clear error.
	Processes process.Driver
	// DataDir holds agents' output logs (<data>/agents/<session>/<name>.log).
	DataDir string
	// AgentOutputBytes bounds each agent's output kept in memory (default 1 MiB); the log has all.
	AgentOutputBytes int
	// AgentLogBytes bounds each agent's log files together (the newest output is kept);
	// 0 leaves them unbounded.
	AgentLogBytes int64
	// Progress is told of each step of a delete whose message names a ProgressID (the MCP
	// layer's progress sink); it is called from a session's goroutine and must not block.
	Progress func(id string, done, total int, message string)
	// AgentStopGrace is how long an agent gets between SIGTERM and SIGKILL (default 5 s).
	AgentStopGrace time.Duration
	// RestartBackoff is the first delay before an agent is restarted by its policy; it doubles
	// at each restart up to 30 s (default 1 s).
	RestartBackoff time.Duration
	// AgentQueueLimit bounds the messages waiting for a per-message agent (default 16).
	AgentQueueLimit int

	// background counts goroutines actors start that must end before the store closes
	// (resumed deletes, browser contexts being opened); System.Shutdown waits for them.
	background *sync.WaitGroup
	// stopping is cancelled by System.Shutdown once the actors have stopped: work running off
	// a mailbox for them (preserving a workspace, writing to an agent's stdin) gives up.
	stopping context.Context

	// preserveWork, planWork and removeWorkspace are DESIGN §4 step 5 and the removal of an
	// archived workspace (workspace.PreserveWork, Plan, RemoveOwned by default); tests make
	// them slow to show that they run off the mailboxes.
	preserveWork    func(ctx context.Context, dataDir, dir, sessionID, snapshotID string) (workspace.Preserved, error)
	planWork        func(ctx context.Context, dataDir, dir string) (workspace.Preserved, error)
	removeWorkspace func(dataDir, dir string) error

	// Browser drives the sessions' browser contexts and pages; nil refuses pages with a clear error.
	Browser browser.Driver
	// PageTimeout bounds one page call, re-opening a lost context and tab included (default 60 s);
	// the driver's own navigation and call deadlines are shorter.
	PageTimeout time.Duration
	// PageCloseTimeout bounds closing a page (default 10 s).
	PageCloseTimeout time.Duration
}

// EventSink records internal events; the audit log implements it.
type EventSink interface {
	Record(action, session, target, outcome string, details map[string]any)
}

func (o *Options) defaults() {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 100
	}
	if o.MaxChildren <= 0 {
		o.MaxChildren = 64
	}
	if o.MaxStateBytes <= 0 {
		o.MaxStateBytes = 1 << 20
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = time.Hour
	}
	if o.AgentOutputBytes <= 0 {
		o.AgentOutputBytes = 1 << 20
	}
	if o.AgentStopGrace <= 0 {
		o.AgentStopGrace = 5 * time.Second
	}
	if o.RestartBackoff <= 0 {
		o.RestartBackoff = time.Second
	}
	if o.AgentQueueLimit <= 0 {
		o.AgentQueueLimit = 16
	}
	if o.PageTimeout <= 0 {
		o.PageTimeout = 60 * time.Second
	}
	if o.PageCloseTimeout <= 0 {
		o.PageCloseTimeout = 10 * time.Second
	}
	if o.SnapshotRetention <= 0 {
		o.SnapshotRetention = 7 * 24 * time.Hour
	}
	if o.preserveWork == nil {
		o.preserveWork = workspace.PreserveWork
	}
	if o.planWork == nil {
		o.planWork = workspace.Plan
	}
	if o.removeWorkspace == nil {
		o.removeWorkspace = workspace.RemoveOwned
	}
}

// idleTimeoutOf is a session's idle timeout: its own when set, else the server's.
func (o *Options) idleTimeoutOf(seconds int64) time.Duration {
	if seconds > 0 {
		return time.Duration(seconds) * time.Second
	}
	return o.IdleTimeout
}

// MaxGraceSeconds bounds the grace period a delete gives each agent between SIGTERM and SIGKILL.
const MaxGraceSeconds = 300

// MaxIdleTimeoutSeconds bounds a session's idle timeout (ten years), well inside time.Duration.
const MaxIdleTimeoutSeconds = 10 * 365 * 24 * 3600

// ValidID reports whether id is a valid session id or child name (DESIGN §7, internal/ids).
func ValidID(id string) bool { return ids.Valid(id) }

// IDRule is the id rule in words, for error messages.
const IDRule = ids.Rule

const idAlphabet = "abcdefghijkmnpqrstuvwxyz23456789" // no l, o, 0, 1: readable aloud

// randomSuffix returns n readable random characters.
func randomSuffix(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

// newSessionID returns a short readable session id such as "s-k3fw9q".
func newSessionID() string { return "s-" + randomSuffix(6) }

// newSnapshotID returns a snapshot id such as "snap-20261121-080102-x7qa".
func newSnapshotID(now time.Time) string {
	return "snap-" + now.UTC().Format("20060102-150405") + "-" + randomSuffix(4)
}

// NewSessionID returns a fresh session id such as "s-x7qa2b" (a cluster claims it before the
// session is created).
func NewSessionID() string { return newSessionID() }

// storeCode classifies a failed store write: unavailable when the store says so (a cluster's
// etcd unreachable, or the session no longer this node's), otherwise an internal fault.
func storeCode(err error) messages.Code {
	if errors.Is(err, store.ErrUnavailable) {
		return messages.CodeUnavailable
	}
	return messages.CodeInternal
}
