package main

import "github.com/spf13/cobra"

// addSettingFlags registers the setting flags that `troupe serve` and `troupe daemon` share
// (a bridge passes them on to the daemon it starts: settingFlagNames).
func addSettingFlags(cmd *cobra.Command, f *serveFlags) {
	cmd.Flags().StringVar(&f.logLevel, "log-level", "", "log level: trace, debug, info, warn, error (default info)")
	cmd.Flags().IntVar(&f.maxSessions, "max-sessions", 0, "maximum concurrent sessions (default 100, env TROUPE_MAX_SESSIONS)")
	cmd.Flags().Float64Var(&f.sessionTimeout, "session-timeout", 0, "idle seconds before a session expires (default 3600, env TROUPE_SESSION_TIMEOUT)")
	cmd.Flags().Float64Var(&f.cleanupInterval, "cleanup-interval", 0, "seconds between idle sweeps (default 60, env TROUPE_CLEANUP_INTERVAL)")
	cmd.Flags().Var(optionalString{&f.workspaceRoot}, "workspace-root", "absolute directory under which a session may use a workspace of yours (default your home directory, env TROUPE_WORKSPACE_ROOT)")
	cmd.Flags().Var(optionalString{&f.browser}, "browser", "the Chromium binary: a path, or a name found on PATH (default chromium, chromium-browser or google-chrome; env TROUPE_BROWSER)")
	cmd.Flags().Var(optionalString{&f.extraPath}, "extra-path", "absolute directories, separated by ':', searched before PATH for agent commands, git and Chromium (troupe.toml extra_path)")
}

// settingFlagNames are the setting flags a bridge passes on to the daemon it starts.
var settingFlagNames = []string{"log-level", "max-sessions", "session-timeout", "cleanup-interval",
	"workspace-root", "browser", "extra-path"}
