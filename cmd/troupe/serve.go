package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/approval"
	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/cluster/route"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/mcpx"
	"github.com/troupe-dev/troupe/internal/metrics"
	"github.com/troupe-dev/troupe/internal/process"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/workspace"
	"github.com/troupe-dev/troupe/tools"
)

func newServeCmd() *cobra.Command {
	var f serveFlags
	var standalone bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve MCP over stdio (what Claude Desktop runs), through the data dir's daemon",
		Long: "Serve MCP over stdio: relay stdin/stdout to the data dir's troupe daemon over its unix socket\n" +
			"(<data dir>/troupe.sock), starting the daemon in the background when none runs (its log:\n" +
			"<data dir>/daemon.log). Sessions, agents and pages live in the daemon: they outlive this client,\n" +
			"and every client of the data dir shares them. `troupe daemon status` shows the daemon,\n" +
			"`troupe daemon stop` stops it. With --standalone the whole server runs in this process instead\n" +
			"(for scripts and tests): its agents end when it ends.\n\n" +
			"stdout carries only the MCP protocol; logs go to stderr as JSON lines.\n" +
			"Settings: flags > TROUPE_* environment > troupe.toml (in the data dir, or --config) > defaults.\n" +
			"A daemon this command starts gets its --config and setting flags; one already running keeps its own.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, f)
			if err != nil {
				return err
			}
			if standalone {
				return serveStdio(cmd.Context(), cfg, os.Stdin, os.Stdout, os.Stderr)
			}
			return serveBridge(cmd, cfg, os.Stdin, os.Stdout, os.Stderr)
		},
	}
	cmd.Flags().BoolVar(&standalone, "standalone", false, "serve in this process instead of through the daemon (its agents end with it)")
	addSettingFlags(cmd, &f)
	return cmd
}

type serveFlags struct {
	logLevel                          string
	maxSessions                       int
	sessionTimeout, cleanupInterval   float64
	workspaceRoot, browser, extraPath string
}

// loadConfig merges flags over environment, file and defaults.
func loadConfig(cmd *cobra.Command, f serveFlags) (config.Config, error) {
	dataDir, _ := cmd.Flags().GetString("data-dir")
	cfgPath, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(config.LoadOptions{DataDir: dataDir, ConfigPath: cfgPath})
	if err != nil {
		return cfg, err
	}
	if f.logLevel != "" {
		cfg.LogLevel = f.logLevel
	}
	if f.maxSessions > 0 {
		cfg.MaxSessions = f.maxSessions
	}
	if f.sessionTimeout > 0 {
		cfg.SessionTimeout = config.Seconds(f.sessionTimeout * float64(time.Second))
	}
	if f.cleanupInterval > 0 {
		cfg.CleanupInterval = config.Seconds(f.cleanupInterval * float64(time.Second))
	}
	if f.workspaceRoot != "" {
		cfg.WorkspaceRoot = f.workspaceRoot
	}
	if f.browser != "" {
		cfg.Browser = f.browser
	}
	if dirs := config.SplitPath(f.extraPath); len(dirs) > 0 {
		cfg.ExtraPath = dirs
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, tools.CheckRequireApproval(cfg.RequireApproval)
}

// applyExtraPath puts cfg's extra_path before this process's PATH: agents, git and Chromium
// are found through it, and agents inherit it.
func applyExtraPath(cfg config.Config) error {
	if len(cfg.ExtraPath) == 0 {
		return nil
	}
	if err := os.Setenv("PATH", config.WithExtraPath(os.Getenv("PATH"), cfg.ExtraPath)); err != nil {
		return fmt.Errorf("extra_path: %w", err)
	}
	return nil
}

// newLogger returns zerolog JSON on w (stderr), or a console writer when w is a terminal.
func newLogger(w io.Writer, level string) zerolog.Logger {
	zerolog.MessageFieldName = "msg"
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		w = zerolog.ConsoleWriter{Out: f, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// serverRuntime is the server's running parts, shared by the transports.
type serverRuntime struct {
	cfg      config.Config
	log      zerolog.Logger
	store    store.Store
	bolt     *store.Bolt // the single-node store (nil in a cluster)
	cluster  *clusterSide
	actors   *actors.System
	browser  browser.Driver
	audit    *audit.Log
	progress *mcpx.Progress
	mcp      *server.MCPServer
	metrics  *metrics.Metrics
	// approvals are the calls of require_approval's tools waiting for a person.
	approvals *approval.Broker
	// auditHeads publishes this node's audit chain head to etcd (a cluster only; nil alone).
	auditHeads *cluster.AuditHeadPublisher
	stopOnce   sync.Once
	stopErr    error
	mu         sync.Mutex // rt.actors against a fence during the start
}

// startRuntime opens the store and starts the actor tree; transport names it in audit events
// ("stdio", "http"); pages may not open ownAddrs (the daemon's own TCP listeners). Close undoes it.
func startRuntime(cfg config.Config, stderr io.Writer, transport string, ownAddrs ...string) (*serverRuntime, error) {
	log := newLogger(stderr, cfg.LogLevel)
	if err := config.EnsureDataDir(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("data dir %s: %w; choose another with --data-dir or TROUPE_DATA_DIR", cfg.DataDir, err)
	}
	if err := applyExtraPath(cfg); err != nil {
		return nil, err
	}
	rt := &serverRuntime{cfg: cfg, log: log}
	progress := mcpx.NewProgress()
	var st store.Store
	if cfg.Clustered() {
		c, err := joinCluster(cfg, log, progress.Report, rt.fence)
		if err != nil {
			return nil, err
		}
		rt.cluster, st = c, c.store
	} else {
		b, err := store.Open(filepath.Join(cfg.DataDir, "troupe.db"))
		if err != nil {
			return nil, err
		}
		rt.bolt, st = b, b
	}
	// Alone: <data>/audit; in a cluster: this node's chain in the blob dir (DESIGN §16).
	auditLog, err := openAuditLog(cfg, audit.Options{Logger: log.With().Str("component", "audit").Logger()})
	if err != nil {
		_ = rt.closeStore(st)
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if rt.cluster != nil {
		if rt.auditHeads, err = anchorAuditCluster(rt.cluster.member, auditLog, log); err != nil {
			_ = auditLog.Close()
			_ = rt.closeStore(st)
			return nil, fmt.Errorf("audit log: %w", err)
		}
	}
	if rt.bolt != nil {
		if err := anchorAudit(rt.bolt, auditLog, log); err != nil {
			_ = auditLog.Close()
			_ = rt.closeStore(st)
			return nil, fmt.Errorf("audit log: %w", err)
		}
	}
	// The browser starts on first use: a server without Chromium serves everything but pages.
	policy := browser.Policy{AllowHosts: cfg.AllowHosts, DenyHosts: cfg.DenyHosts, DenyAddrs: ownAddrs}
	browserDir, _ := filepath.Abs(filepath.Join(cfg.DataDir, "browser"))
	drv, err := browser.New(browser.Options{Bin: cfg.Browser, DataDir: browserDir, NavTimeout: cfg.NavTimeout.D(),
		MaxContent: cfg.PageContentMax, Policy: policy, Logger: log})
	if err != nil {
		_ = auditLog.Close()
		_ = rt.auditHeads.Stop()
		_ = rt.closeStore(st)
		return nil, fmt.Errorf("browser: %w", err)
	}
	report := progress.Report
	if rt.cluster != nil {
		report = rt.cluster.gw.Report // a routed call's steps go back to the caller's node
	}
	sys, err := actors.Start(actors.Options{
		Progress: report,
		Browser:  drv, PageTimeout: 2 * cfg.NavTimeout.D(),
		Store: st, Logger: log, MaxSessions: cfg.MaxSessions, MaxChildren: cfg.MaxChildren,
		MaxStateBytes: cfg.MaxStateBytes, IdleTimeout: cfg.SessionTimeout.D(), SweepInterval: cfg.CleanupInterval.D(),
		SnapshotRetention: cfg.SnapshotRetention.D(),
		Processes:         process.Real(), DataDir: cfg.DataDir,
		Events: tools.EventSink{Log: auditLog, OnError: func(action string, err error) {
			log.Error().Err(err).Str("action", action).Msg("audit: an internal event was not recorded")
		}},
		AgentOutputBytes: cfg.AgentOutputBytes, AgentLogBytes: cfg.AgentLogBytes, AgentStopGrace: cfg.AgentStopGrace.D(),
		PrepareWorkspace: func(sessionID, requested string) (string, bool, error) {
			if requested != "" {
				p, err := workspace.ValidateUserWorkspace(requested, cfg.WorkspaceRoot, cfg.DataDir)
				return p, false, err
			}
			p, err := workspace.Create(cfg.DataDir, sessionID)
			return p, true, err
		},
	})
	if err != nil {
		_ = drv.Close()
		_ = auditLog.Close()
		_ = rt.auditHeads.Stop()
		_ = rt.closeStore(st)
		return nil, err
	}
	rt.mu.Lock()
	rt.store, rt.actors, rt.audit, rt.progress, rt.browser = st, sys, auditLog, progress, drv
	rt.mu.Unlock()
	rt.approvals = approval.New(0, tools.RecordDecision(auditLog))
	if rt.cluster != nil {
		rt.cluster.takeOver(sys)
	}
	rt.metrics = newRuntimeMetrics(rt)
	var requester tools.Requester = sys
	if rt.cluster != nil {
		// Only the tools ask the router; the daemon's own questions (load, status, idle exit,
		// adopting sessions) stay on this node's actors.
		requester = route.New(sys, route.Member(rt.cluster.member, rt.cluster.store), rt.cluster.gw, route.Options{Logger: log})
	}
	rt.mcp = tools.NewServer(tools.Deps{Actors: requester, Timeout: cfg.CallTimeout.D(), Logger: log,
		Presets: cfg.Presets, AllowAnyCommand: cfg.AllowAnyCommand, MaxMessageBytes: cfg.MaxMessageBytes,
		Audit: auditLog, Transport: transport, Progress: progress, URLPolicy: policy, Metrics: rt.metrics, MaxWait: cfg.MaxWait.D(),
		RequireApproval: cfg.RequireApproval, Approvals: rt.approvals}, version)
	return rt, nil
}

// Close stops the actors (flushing activity) and closes the store (in a cluster: then leaves
// it, so that the other nodes take the sessions over at once).
func (rt *serverRuntime) Close() error {
	if rt.cluster != nil {
		rt.cluster.gw.Stop(context.Background()) // other nodes' calls end before the actors do
	}
	errA := rt.stopActors()
	errB := rt.browser.Close() // after the sessions, which close their contexts as they stop
	errL := rt.audit.Close()
	errH := rt.auditHeads.Stop() // the final head (audit.close included), before the member leaves
	errS := rt.closeStore(rt.store)
	return errors.Join(errA, errB, errS, errL, errH)
}

// stopActors stops the actor tree and every child, once (a fenced node does it early).
func (rt *serverRuntime) stopActors() error {
	rt.stopOnce.Do(func() { rt.stopErr = rt.actors.Shutdown(context.Background()) })
	return rt.stopErr
}

// fence is called when this node's cluster lease was not renewed in time: the other nodes are
// about to claim its sessions, so its children stop now, before anything else.
func (rt *serverRuntime) fence(error) {
	rt.mu.Lock()
	started := rt.actors != nil
	rt.mu.Unlock()
	if started {
		_ = rt.stopActors()
	}
}

// closeStore closes the store, and in a cluster the membership after it.
func (rt *serverRuntime) closeStore(st store.Store) error {
	var err error
	if st != nil {
		err = st.Close()
	}
	if rt.cluster != nil {
		err = errors.Join(err, rt.cluster.Close())
	}
	return err
}

// serveStdio serves MCP on in/out until EOF or SIGTERM/SIGINT, then shuts down in order: the
// calls in flight finish, the actors stop, the store closes.
func serveStdio(ctx context.Context, cfg config.Config, in io.Reader, out, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rt, err := startRuntime(cfg, stderr, "stdio")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// A client that quits closes our pipes; without this the next log line or answer would kill
	// the process with SIGPIPE before the store is flushed and closed.
	signal.Ignore(syscall.SIGPIPE)
	rt.log.Info().Str("data_dir", cfg.DataDir).Str("transport", "stdio").Str("version", version).Msg("troupe serving")
	stdio := mcpx.Stdio{In: in, Out: out, Drain: rt.cfg.CallTimeout.D() + time.Minute, ErrorLog: stdLogger(rt.log)}
	err = stdio.Serve(ctx, rt.mcp, rt.progress)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	rt.log.Info().Msg("shutting down")
	if cerr := rt.Close(); cerr != nil {
		rt.log.Error().Err(cerr).Msg("shutdown")
		err = errors.Join(err, cerr)
	}
	return err
}
