package main

import (
	"context"
	"errors"
	"io"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/internal/bridge"
	"github.com/troupe-dev/troupe/internal/config"
)

// serveBridge runs `troupe serve`: the stdio bridge to the data dir's daemon (DESIGN §11).
func serveBridge(cmd *cobra.Command, cfg config.Config, in io.Reader, out, stderr io.Writer) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// A client that quits closes our pipes; the next answer must not kill us with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	log := newLogger(stderr, cfg.LogLevel)
	log.Info().Str("data_dir", cfg.DataDir).Str("version", version).Msg("troupe serve: bridging stdio to the daemon")
	err := bridge.Run(ctx, bridge.Options{DataDir: cfg.DataDir, In: in, Out: out, Logger: log, Version: version,
		Drain:   cfg.CallTimeout.D() + time.Minute,
		Starter: &bridge.Starter{DataDir: cfg.DataDir, Version: version, Logger: log, Args: daemonArgs(cmd)}})
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// daemonArgs are the flags a bridge passes on to a daemon it starts: --config and the settings
// given on its own command line (the environment is inherited).
func daemonArgs(cmd *cobra.Command) []string {
	var args []string
	if p, _ := cmd.Flags().GetString("config"); p != "" {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		args = append(args, "--config", p)
	}
	for _, name := range settingFlagNames {
		// An empty value means "not given" (optionalString): the daemon's default stands.
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed && f.Value.String() != "" {
			args = append(args, "--"+name, f.Value.String())
		}
	}
	return args
}
