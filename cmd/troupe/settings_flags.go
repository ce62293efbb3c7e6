package main

import "github.com/spf13/cobra"

// addSettingFlags registers the setting flags that `troupe serve` and `troupe daemon` share
// (a bridge passes them on to the daemon it starts).
func addSettingFlags(cmd *cobra.Command, f *serveFlags) {
	cmd.Flags().StringVar(&f.logLevel, "log-level", "", "log level: trace, debug, info, warn, error (default info)")
	cmd.Flags().IntVar(&f.maxSessions, "max-sessions", 0, "maximum concurrent sessions (default 100, env TROUPE_MAX_SESSIONS)")
	cmd.Flags().Float64Var(&f.sessionTimeout, "session-timeout", 0, "idle seconds before a session expires (default 3600, env TROUPE_SESSION_TIMEOUT)")
	cmd.Flags().Float64Var(&f.cleanupInterval, "cleanup-interval", 0, "seconds between idle sweeps (default 60, env TROUPE_CLEANUP_INTERVAL)")
}
