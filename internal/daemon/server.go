package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/approval"
	"github.com/troupe-dev/troupe/internal/principal"
)

// Options configure Serve.
type Options struct {
	// DataDir holds the socket and the lock (it must exist, mode 0700).
	DataDir string
	// Lock is the data dir's lock, taken by the caller with Acquire (and released by it after
	// closing the store); nil: Serve takes it and releases it on return.
	Lock *Lock
	// MCP serves /mcp: mcp-go's StreamableHTTPServer (stateful), wrapped by mcpx.HTTPHandler.
	MCP http.Handler
	// Version is reported by /daemon/status.
	Version string
	// Logger receives the daemon's lifecycle lines.
	Logger zerolog.Logger
	// IdleExit stops the daemon after this long with no client connected and no running child;
	// 0 never.
	IdleExit time.Duration
	// Drain bounds how long calls in flight may run once a stop began (call_timeout + a margin).
	Drain time.Duration
	// Stats returns the sessions and the running children now (status, idle exit); nil: zeros.
	Stats func() (sessions, runningChildren int)

	// Listen adds a TCP listener (HOST:PORT; port 0 picks one) serving /mcp behind bearer
	// tokens, /healthz and /metrics (DESIGN §12); "" none.
	Listen string
	// TLSCert and TLSKey (PEM files) make Listen HTTPS. A non-loopback Listen needs them, or
	// AllowInsecureHTTP (a TLS-terminating proxy in front).
	TLSCert, TLSKey   string
	AllowInsecureHTTP bool
	// NoAuth makes every TCP client the principal local; refused unless Listen is loopback.
	NoAuth bool
	// AllowedHosts and AllowedOrigins extend the Host and Origin values the TCP listener accepts.
	AllowedHosts, AllowedOrigins []string
	// Auth checks bearer tokens; nil: a tokens.Verifier of DataDir.
	Auth Authenticator
	// Metrics serves /metrics (nil: 404).
	Metrics http.Handler
	// OnClients, when set, is given the count of connected clients once the server exists (for
	// the troupe_daemon_clients gauge).
	OnClients func(count func() int)
	// SessionTTL is how long mcp-go keeps an unused MCP session (WithSessionIdleTTL): the daemon
	// forgets the session's principal some time after; 0 keeps it until the session's DELETE.
	SessionTTL time.Duration
	// MetricsListen serves only /metrics, without auth, on a loopback HOST:PORT; "" none.
	MetricsListen string
	// Attach gives `troupe attach` a terminal agent (TerminalPath, on the socket only); nil: refused.
	Attach AttachFunc
	// Approvals are the calls waiting for a person (ApprovalsPath, ViewApprovalsPath); nil: none.
	Approvals *approval.Broker
	// View is the live view's HTML, served at / on the TCP listener after a token login (DESIGN
	// §15); nil: / answers 404.
	View []byte
}

// drainDefault bounds a drain when Options.Drain is 0.
const drainDefault = 30 * time.Second

// Serve runs the daemon's HTTP server on <data>/troupe.sock (and on Listen and MetricsListen,
// whose settings are refused first when unsafe) until ctx ends, a stop is asked
// (POST /daemon/stop) or it was idle for IdleExit; then it drains (new calls are refused with
// 503, listening streams end, calls in flight finish within Drain), closes the listeners,
// removes the socket, releases the lock it took and returns. The caller then closes actors, store and
// audit log. A second daemon on the same data dir gets ErrAlreadyRunning naming the pid.
func Serve(ctx context.Context, o Options) error {
	if err := CheckSocketPath(o.DataDir); err != nil {
		return err
	}
	tlsCfg, err := checkNetwork(o)
	if err != nil {
		return err
	}
	if o.Lock == nil {
		lock, err := Acquire(o.DataDir)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	sock := SocketPath(o.DataDir)
	// Only the lock holder may remove the socket: a stale one is what a killed daemon left.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", sock, err)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", sock, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // removed below, after the drain
	defer os.Remove(sock)
	if err := os.Chmod(sock, 0o600); err != nil {
		_ = ln.Close()
		return fmt.Errorf("socket %s: %w", sock, err)
	}
	d := newServer(o)
	if o.OnClients != nil {
		o.OnClients(d.clients.count)
	}
	var extras []*extraServer
	defer func() {
		for _, e := range extras { // on an early return; after a stop they are already shut
			_ = e.srv.Close()
		}
	}()
	extras, err = d.startNetwork(tlsCfg)
	if err != nil {
		_ = ln.Close()
		return err
	}
	srv := &http.Server{Handler: d.routes(), ReadHeaderTimeout: 10 * time.Second, ConnContext: withConn}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(peerListener{Listener: ln, log: o.Logger}) }()

	var reason string
	var serveErr error
	idle := d.idleTicker()
	defer idle.stop()
	select {
	case <-ctx.Done():
		reason = "asked to stop (" + context.Cause(ctx).Error() + ")"
	case reason = <-d.stopped:
	case reason = <-idle.expired:
	case serveErr = <-served:
		reason = "the server failed"
	case serveErr = <-d.netFailed:
		reason = "a TCP listener failed"
	}
	o.Logger.Info().Str("reason", reason).Msg("daemon stopping: new calls are refused, calls in flight finish")
	d.drain()
	drainCtx, cancel := context.WithTimeout(context.Background(), d.drainBound())
	defer cancel()
	if !d.waitInFlight(drainCtx) {
		o.Logger.Warn().Int("in_flight", int(d.inFlight.Load())).Msg("daemon stop: calls still running after the drain bound; closing")
	}
	shutCtx, cancelShut := context.WithTimeout(context.Background(), time.Second)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		_ = srv.Close()
	}
	// Shutdown does not see hijacked connections: the attached terminals were closed by the
	// drain (their connections end with it); wait for their handlers to close the attachments.
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelClose()
	if !waitZero(closeCtx, &d.terminals) {
		o.Logger.Warn().Int64("attached", d.terminals.Load()).Msg("daemon stop: attached terminals still closing")
	}
	for _, e := range extras {
		if err := e.shutdown(shutCtx); err != nil {
			o.Logger.Warn().Err(err).Msg("daemon: a TCP listener failed")
		}
	}
	extras = nil
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("daemon: %w", serveErr)
	}
	o.Logger.Info().Msg("daemon stopped serving")
	return nil
}

// server is one running daemon's HTTP side.
type server struct {
	o        Options
	started  time.Time
	clients  *clients
	draining atomic.Bool
	inFlight atomic.Int64
	// terminals counts the /daemon/terminal requests being served (an attachment asked for or
	// held); Serve returns once they ended, so none outlives the actors.
	terminals atomic.Int64
	// streams ends the GET listening streams at a stop: they would keep Shutdown waiting.
	streams    context.Context
	endStreams context.CancelFunc
	stopped    chan string
	stopOnce   sync.Once
	// netFailed receives the error of a TCP or metrics server that stopped by itself.
	netFailed chan error
	// sessions binds MCP sessions to their principal (socket and TCP).
	sessions *sessionOwners
	// listen is what Status.Listen reports: the socket, then the TCP URL.
	listen []string
	// metricsURL is --metrics-listen's /metrics URL, once bound.
	metricsURL string
}

func newServer(o Options) *server {
	streams, end := context.WithCancel(context.Background())
	return &server{o: o, started: time.Now(), clients: newClients(), streams: streams, endStreams: end,
		stopped: make(chan string, 1), listen: []string{"unix:" + SocketPath(o.DataDir)},
		sessions: newSessionOwners(o.SessionTTL), netFailed: make(chan error, 1)}
}

func (d *server) routes() http.Handler {
	mux := http.NewServeMux()
	// The socket's clients are this OS user (peerListener): the principal local.
	bound := d.sessions.bind(http.HandlerFunc(d.serveMCP))
	mux.HandleFunc(MCPPath, func(w http.ResponseWriter, r *http.Request) {
		bound.ServeHTTP(w, r.WithContext(principal.With(r.Context(), principal.Local)))
	})
	mux.HandleFunc("GET "+AttachPath, d.serveAttach)
	mux.HandleFunc("GET "+TerminalPath, d.serveTerminal)
	mux.HandleFunc("GET "+StatusPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(d.status())
	})
	mux.HandleFunc("GET "+ApprovalsPath, func(w http.ResponseWriter, _ *http.Request) { d.servePending(w, nil) })
	mux.HandleFunc("POST "+ApprovalsPath+"/{id}", d.serveSocketDecision)
	mux.HandleFunc("POST "+StopPath, func(w http.ResponseWriter, _ *http.Request) {
		d.stop("asked by POST " + StopPath)
		w.WriteHeader(http.StatusAccepted)
	})
	return mux
}

// stop begins a graceful stop (once).
func (d *server) stop(reason string) {
	d.stopOnce.Do(func() { d.stopped <- reason })
}

// drain refuses new calls from now on and ends the listening streams.
func (d *server) drain() {
	d.draining.Store(true)
	d.endStreams()
}

func (d *server) drainBound() time.Duration {
	if d.o.Drain > 0 {
		return d.o.Drain
	}
	return drainDefault
}

// waitInFlight waits until no call runs or ctx ends; it reports whether none runs.
func (d *server) waitInFlight(ctx context.Context) bool { return waitZero(ctx, &d.inFlight) }

// waitZero waits until n is 0 or ctx ends; it reports whether n is 0.
func waitZero(ctx context.Context, n *atomic.Int64) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for n.Load() > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// stoppingMessage is the JSON-RPC error a call gets while the daemon drains.
const stoppingMessage = "the troupe daemon is stopping; this call was not run. The next call starts a new daemon (or run `troupe daemon` yourself)"

func (d *server) serveMCP(w http.ResponseWriter, r *http.Request) {
	// Counted before the draining check, so a call that passed it is one the drain waits for.
	if r.Method != http.MethodGet {
		d.inFlight.Add(1)
		defer d.inFlight.Add(-1)
	}
	if d.draining.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": nil,
			"error": map[string]any{"code": -32000, "message": stoppingMessage}})
		return
	}
	done := d.clients.enter(r)
	defer done()
	if r.Method == http.MethodGet {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stopAfter := context.AfterFunc(d.streams, cancel)
		defer stopAfter()
		r = r.WithContext(ctx)
	}
	d.o.MCP.ServeHTTP(w, r)
}

// stats asks the caller for sessions and running children.
func (d *server) stats() (int, int) {
	if d.o.Stats == nil {
		return 0, 0
	}
	return d.o.Stats()
}

func (d *server) status() Status {
	sessions, running := d.stats()
	return Status{PID: os.Getpid(), Version: d.o.Version, StartedAt: d.started,
		UptimeSeconds: time.Since(d.started).Seconds(), DataDir: d.o.DataDir, Socket: SocketPath(d.o.DataDir),
		Listen: d.listen, Metrics: d.metricsURL, Clients: d.clients.count(), Sessions: sessions,
		RunningChildren: running, Draining: d.draining.Load(), IdleExitSeconds: d.o.IdleExit.Seconds()}
}

// serveAttach holds a bridge's presence: the bridge counts as a connected client (one, however
// many requests and streams it has open) for as long as this request stays open, whatever the
// protocol era of its client (2026-07-28 clients keep no stream of their own between calls).
func (d *server) serveAttach(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(ClientHeader) == "" {
		http.Error(w, ClientHeader+" header required", http.StatusBadRequest)
		return
	}
	if d.draining.Load() {
		http.Error(w, stoppingMessage, http.StatusServiceUnavailable)
		return
	}
	done := d.clients.enter(r)
	defer done()
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	select {
	case <-r.Context().Done():
	case <-d.streams.Done():
	}
}
