package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/daemon"
	"github.com/troupe-dev/troupe/internal/mcpx"
	"github.com/troupe-dev/troupe/internal/view"
	"github.com/troupe-dev/troupe/messages"
)

// mcpSessionIdleTTL is how long the daemon keeps an MCP session nobody uses.
const mcpSessionIdleTTL = time.Hour

func newDaemonCmd() *cobra.Command {
	var f serveFlags
	var idleExit float64
	var logFile string
	var nf netFlags
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the troupe daemon for a data dir in the foreground (owns sessions, agents, pages)",
		Long: "Run the troupe daemon in the foreground. The daemon is the one long-lived process per data dir:\n" +
			"it owns the sessions, their agents and pages, the store and the audit log, and serves MCP over\n" +
			"Streamable HTTP at /mcp on the unix socket <data dir>/troupe.sock (mode 0600). Clients come and go;\n" +
			"sessions and their children stay. `troupe serve` (what Claude Desktop runs) starts one in the\n" +
			"background when none runs, logging to <data dir>/daemon.log; run it yourself to watch it.\n\n" +
			"It logs to stderr. It exits on SIGTERM/SIGINT or `troupe daemon stop` (calls in flight finish,\n" +
			"new ones are refused), or by itself after daemon_idle_exit seconds (default 900; --idle-exit,\n" +
			"TROUPE_DAEMON_IDLE_EXIT) with no client connected and no running agent or page.\n\n" +
			"--listen HOST:PORT adds a TCP listener (port 0 picks a free one; `troupe daemon status --json`\n" +
			"shows the URL) serving /mcp, /healthz (no auth: 200 ok, 503 while stopping) and /metrics (an audit\n" +
			"or admin token). Every other request needs Authorization: Bearer <token> (`troupe token create`);\n" +
			"Host and Origin must name this daemon or be in allowed_hosts / allowed_origins (troupe.toml,\n" +
			"TROUPE_ALLOWED_HOSTS / TROUPE_ALLOWED_ORIGINS, comma-separated). A non-loopback address needs\n" +
			"--tls-cert and --tls-key, or --allow-insecure-http behind a TLS-terminating proxy. The /daemon/*\n" +
			"endpoints stay on the unix socket, which admits this OS user only.\n" +
			"Settings: flags > TROUPE_* environment > troupe.toml (in the data dir, or --config) > defaults.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, f)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("idle-exit") {
				if idleExit < 0 {
					return fmt.Errorf("--idle-exit %v: want 0 (never) or more seconds", idleExit)
				}
				cfg.DaemonIdleExit = config.Seconds(idleExit * float64(time.Second))
			}
			return runDaemon(cmd.Context(), cfg, os.Stderr, logFile, nf)
		},
	}
	addSettingFlags(cmd, &f)
	cmd.Flags().Float64Var(&idleExit, "idle-exit", 0, "seconds with no client and no running child before the daemon exits; 0 never (default 900, env TROUPE_DAEMON_IDLE_EXIT)")
	cmd.Flags().StringVar(&logFile, "log-file", "", "log to this file (rotated at 10 MiB, one .1 kept) instead of stderr")
	_ = cmd.Flags().MarkHidden("log-file")
	nf.register(cmd)
	cmd.AddCommand(newDaemonStatusCmd(), newDaemonStopCmd())
	return cmd
}

// runDaemon runs the daemon until it stops, then closes the runtime in order.
func runDaemon(ctx context.Context, cfg config.Config, stderr io.Writer, logFile string, nf netFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if logFile != "" {
		lf, err := daemon.OpenLog(logFile, daemon.LogMaxBytes, true)
		if err != nil {
			return err
		}
		defer lf.Close()
		stderr = lf
	}
	if err := config.EnsureDataDir(cfg.DataDir); err != nil {
		return fmt.Errorf("data dir %s: %w; choose another with --data-dir or TROUPE_DATA_DIR", cfg.DataDir, err)
	}
	if err := daemon.CheckSocketPath(cfg.DataDir); err != nil {
		return err
	}
	netOpts := daemon.Options{Listen: nf.listen, TLSCert: nf.tlsCert, TLSKey: nf.tlsKey,
		AllowInsecureHTTP: nf.allowInsecureHTTP, NoAuth: nf.noAuth, MetricsListen: nf.metricsListen,
		AllowedHosts: cfg.AllowedHosts, AllowedOrigins: cfg.AllowedOrigins}
	// Before the lock and the runtime: a refused listener starts nothing.
	if err := daemon.CheckNetwork(netOpts); err != nil {
		return err
	}
	// The lock before the store: a second daemon is refused naming the first, not by bbolt. One
	// still closing its store after it stopped serving is waited for.
	lock, err := daemon.AcquireWait(ctx, cfg.DataDir, cfg.CallTimeout.D()+15*time.Second)
	if err != nil {
		return err
	}
	defer lock.Release()
	// A page must not reach the daemon's own listeners (its MCP endpoint, /metrics). A port 0 is
	// only known once bound: such a listener (tests) is not covered.
	var own []string
	for _, a := range []string{nf.listen, nf.metricsListen} {
		if _, port, err := net.SplitHostPort(a); err == nil && port != "0" {
			own = append(own, a)
		}
	}
	rt, err := startRuntime(cfg, stderr, "http", own...)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	signal.Ignore(syscall.SIGPIPE)
	abs, _ := filepath.Abs(cfg.DataDir)
	rt.log.Info().Int("pid", os.Getpid()).Str("version", version).Str("socket", daemon.SocketPath(abs)).
		Str("data_dir", abs).Dur("idle_exit", cfg.DaemonIdleExit.D()).Msg("troupe daemon serving")
	// Every bridge (every Inspector call, every Claude Desktop restart) opens an MCP session; a
	// long-lived daemon forgets one unused for an hour (a bridge that comes back after that
	// initializes again, transparently: it answers 404 first).
	mcpHTTP := server.NewStreamableHTTPServer(rt.mcp, server.WithStateful(true), server.WithSessionIdleTTL(mcpSessionIdleTTL))
	defer func() { _ = mcpHTTP.Shutdown(context.Background()) }() // stops the session sweeper
	o := netOpts
	o.DataDir, o.Lock, o.MCP, o.Version = cfg.DataDir, lock, mcpx.HTTPHandler(mcpHTTP, rt.progress), version
	o.SessionTTL = 2 * mcpSessionIdleTTL // after mcp-go forgot the session: a later use is 404 anyway
	o.Logger, o.IdleExit, o.Drain, o.Stats = rt.log, cfg.DaemonIdleExit.D(), cfg.CallTimeout.D()+10*time.Second, rt.stats
	// /metrics, with the count of connected clients once the server has one.
	o.Metrics, o.OnClients = rt.metrics.Handler(), rt.metrics.SetClients
	o.Attach = rt.attachFunc()
	o.Approvals = rt.approvals
	o.View = view.HTML() // the live view at / on --listen (DESIGN §15)
	if rt.cluster != nil {
		// A fenced node has stopped its children; the daemon stops too (a new start joins anew).
		var cancelFenced context.CancelCauseFunc
		ctx, cancelFenced = context.WithCancelCause(ctx)
		defer cancelFenced(nil)
		go func() {
			select {
			case <-rt.cluster.fenced:
				cancelFenced(fmt.Errorf("fenced out of the cluster: %w", rt.cluster.fenceErr))
			case <-ctx.Done():
			}
		}()
	}
	err = daemon.Serve(ctx, o)
	rt.log.Info().Msg("shutting down")
	if cerr := rt.Close(); cerr != nil {
		rt.log.Error().Err(cerr).Msg("shutdown")
		err = errors.Join(err, cerr)
	}
	return err
}

// stats counts the sessions and their running children for the daemon's status and idle exit.
func (rt *serverRuntime) stats() (sessions, running int) {
	res, err := rt.actors.Request(context.Background(), &messages.SessionMetrics{}, 5*time.Second)
	m, ok := res.(*messages.SessionMetricsResult)
	if err != nil || !ok {
		// Unknown counts keep the daemon up: an idle exit must never end a running child.
		rt.log.Warn().Err(err).Msg("daemon: session metrics unavailable")
		return 0, 1
	}
	return m.TotalSessions, m.RunningChildren
}

func newDaemonStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say whether the data dir's daemon runs, and what it holds",
		Long: "Ask the data dir's daemon (over <data dir>/troupe.sock) for its pid, version, uptime, clients,\n" +
			"sessions and running children, and where it listens (listen: unix:<socket>, and http(s)://HOST:PORT\n" +
			"with the real port when it was started with --listen). Exit status 0 when a daemon answers, 3 when\n" +
			"none runs.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := daemonDataDir(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			st, err := daemon.GetStatus(ctx, daemon.HTTPClient(dir))
			out := cmd.OutOrStdout()
			if errors.Is(err, daemon.ErrNotRunning) {
				if asJSON {
					fmt.Fprintln(out, `{"running":false}`)
				} else {
					fmt.Fprintf(out, "no troupe daemon is running for %s (the next `troupe serve` starts one)\n", dir)
				}
				return exitError{code: 3}
			}
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printStatus(out, st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func printStatus(w io.Writer, st daemon.Status) {
	state := "running"
	if st.Draining {
		state = "stopping"
	}
	fmt.Fprintf(w, "troupe daemon %s: pid %d, version %s, up %s\n", state, st.PID, st.Version,
		(time.Duration(st.UptimeSeconds) * time.Second).String())
	fmt.Fprintf(w, "  data dir:         %s\n  socket:           %s\n", st.DataDir, st.Socket)
	for _, l := range st.Listen {
		fmt.Fprintf(w, "  listen:           %s\n", l)
	}
	if st.Metrics != "" {
		fmt.Fprintf(w, "  metrics:          %s (no token)\n", st.Metrics)
	}
	fmt.Fprintf(w, "  clients:          %d\n  sessions:         %d\n  running children: %d\n", st.Clients, st.Sessions, st.RunningChildren)
	if st.IdleExitSeconds > 0 {
		fmt.Fprintf(w, "  idle exit:        after %s with no client and no running child\n", time.Duration(st.IdleExitSeconds*float64(time.Second)))
	}
}

// daemonStopWait bounds how long `troupe daemon stop` waits for the daemon to be gone.
const daemonStopWait = 2 * time.Minute

func newDaemonStopCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the data dir's daemon gracefully and wait until it is gone",
		Long: "Ask the data dir's daemon to stop: calls in flight finish (within call_timeout), new calls are\n" +
			"refused, agents and pages end as at any shutdown, sessions stay on disk. Waits until the daemon\n" +
			"is gone (at most 2 minutes). Exit status 0 once it is gone, or when none was running (it says so).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := daemonDataDir(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), daemonStopWait)
			defer cancel()
			err = daemon.RequestStop(ctx, daemon.HTTPClient(dir))
			if errors.Is(err, daemon.ErrNotRunning) && !daemon.LockHeld(dir) {
				fmt.Fprintf(cmd.OutOrStdout(), "no troupe daemon is running for %s\n", dir)
				return nil
			}
			if err != nil && !errors.Is(err, daemon.ErrNotRunning) {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "troupe: waiting for the daemon to finish its calls in flight and exit…")
			if err := waitDaemonGone(ctx, dir); err != nil {
				return fmt.Errorf("the daemon of %s did not exit within %s; see %s", dir, daemonStopWait, filepath.Join(dir, daemon.LogName))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "troupe daemon for %s stopped\n", dir)
			return nil
		},
	}
}

// waitDaemonGone polls until the socket stops answering and the lock is free.
func waitDaemonGone(ctx context.Context, dir string) error {
	c := daemon.HTTPClient(dir)
	for {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := daemon.GetStatus(sctx, c)
		cancel()
		if errors.Is(err, daemon.ErrNotRunning) && !daemon.LockHeld(dir) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// daemonDataDir resolves the data dir as every command does (flag, environment, default).
func daemonDataDir(cmd *cobra.Command) (string, error) {
	dataDir, _ := cmd.Flags().GetString("data-dir")
	return config.ResolveDataDir(dataDir)
}
