package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/internal/tokens"
)

// Paths served on the TCP listener (besides MCPPath).
const (
	// HealthPath answers 200 "ok" (503 while stopping), without auth and without detail.
	HealthPath = "/healthz"
	// MetricsPath serves Options.Metrics: behind an audit or admin token on --listen, without
	// auth on --metrics-listen (loopback only).
	MetricsPath = "/metrics"
)

// tcpSide is the daemon's TCP listener: /mcp (the socket's handler, drain and client counting),
// /healthz and /metrics; never the /daemon/* endpoints, which stay on the socket.
type tcpSide struct {
	d       *server
	ln      net.Listener
	url     string
	noAuth  bool
	auth    Authenticator
	hosts   *hostGuard
	limiter *failLimiter
	// signins are the browsers signed in to the live view; secure marks their cookies Secure.
	signins *signins
	secure  bool
}

// listenTCP opens --listen (TLS when tlsCfg is set) and builds its guard.
func (d *server) listenTCP(tlsCfg *tls.Config) (*tcpSide, error) {
	o := d.o
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", o.Listen, err)
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsCfg)
	}
	auth := o.Auth
	if auth == nil {
		auth = tokens.NewVerifier(o.DataDir, tokens.WithErrorLog(func(err error) {
			o.Logger.Error().Err(err).Msg("daemon: token file")
		}))
	}
	host, _, _ := net.SplitHostPort(o.Listen)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if isAllInterfaces(host) {
		host = "127.0.0.1" // a URL one can use from this machine
	}
	t := &tcpSide{d: d, ln: ln, url: scheme + "://" + net.JoinHostPort(host, port), noAuth: o.NoAuth, auth: auth,
		hosts:   newHostGuard(o.Listen, ln.Addr(), tlsCfg != nil, o.AllowedHosts, o.AllowedOrigins),
		limiter: newFailLimiter(nil), signins: newSignins(), secure: tlsCfg != nil}
	return t, nil
}

// startNetwork starts the TCP and metrics listeners the options ask for; on an error, those
// already started are in the returned slice for the caller to close.
func (d *server) startNetwork(tlsCfg *tls.Config) ([]*extraServer, error) {
	o := d.o
	var extras []*extraServer
	if o.Listen != "" {
		t, err := d.listenTCP(tlsCfg)
		if err != nil {
			return extras, err
		}
		d.listen = append(d.listen, t.url)
		extras = append(extras, startExtra(t.ln, t.routes(), d.netFailed))
		if o.NoAuth {
			o.Logger.Warn().Str("url", t.url).Msg("daemon: --no-auth: every TCP client is the admin principal local; use it on a single-user machine only")
		}
		o.Logger.Info().Str("url", t.url+MCPPath).Msg("daemon serving MCP over TCP")
	}
	if o.MetricsListen != "" {
		mln, err := net.Listen("tcp", o.MetricsListen)
		if err != nil {
			return extras, fmt.Errorf("--metrics-listen %s: %w", o.MetricsListen, err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc(MetricsPath, d.serveMetrics)
		extras = append(extras, startExtra(mln, mux, d.netFailed))
		d.metricsURL = "http://" + mln.Addr().String() + MetricsPath
		o.Logger.Info().Str("url", d.metricsURL).Msg("daemon serving metrics")
	}
	return extras, nil
}

func (t *tcpSide) routes() http.Handler {
	guarded := http.NewServeMux()
	guarded.Handle(MCPPath, t.d.sessions.bind(http.HandlerFunc(t.d.serveMCP)))
	guarded.HandleFunc(MetricsPath, func(w http.ResponseWriter, r *http.Request) {
		if !principal.From(r.Context()).SeesAll() {
			writeJSONError(w, http.StatusForbidden, "forbidden", "/metrics needs a token with scope audit or admin")
			return
		}
		t.d.serveMetrics(w, r)
	})
	mux := http.NewServeMux()
	mux.HandleFunc(HealthPath, t.d.serveHealth)
	t.viewRoutes(guarded, mux)
	mux.Handle("/", t.guard(guarded))
	return mux
}

func (d *server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	if d.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("stopping\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (d *server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if d.o.Metrics == nil {
		http.NotFound(w, r)
		return
	}
	d.o.Metrics.ServeHTTP(w, r)
}

// extraServer is an HTTP server beside the socket's (TCP, metrics) that Serve shuts down with it.
type extraServer struct {
	srv    *http.Server
	served chan error
}

// startExtra serves h on ln; a failure other than a shutdown is also sent to failed (the daemon
// then stops, as when its socket's server fails).
func startExtra(ln net.Listener, h http.Handler, failed chan<- error) *extraServer {
	e := &extraServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, served: make(chan error, 1)}
	go func() {
		err := e.srv.Serve(ln)
		e.served <- err
		if !errors.Is(err, http.ErrServerClosed) {
			select {
			case failed <- fmt.Errorf("%s: %w", ln.Addr(), err):
			default:
			}
		}
	}()
	return e
}

func (e *extraServer) shutdown(ctx context.Context) error {
	if err := e.srv.Shutdown(ctx); err != nil {
		_ = e.srv.Close()
	}
	if err := <-e.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
