package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// newRootCmd builds the command tree: every subcommand is listed here, once, and lives in
// its own file.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "troupe",
		Short:         "Long-lived sessions of agents and browser pages for AI clients, over MCP",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().Var(optionalString{new(string)}, "data-dir", "data directory (default $TROUPE_DATA_DIR, $XDG_STATE_HOME/troupe or ~/.local/state/troupe)")
	root.PersistentFlags().String("config", "", "config file (default <data dir>/troupe.toml when it exists)")
	root.AddCommand(
		newServeCmd(),
		newDaemonCmd(),
		newAuditCmd(),
		newConfigCmd(),
		newDoctorCmd(),
		newTokenCmd(),
		newAttachCmd(),
		newApprovalsCmd(),
		newApproveCmd(),
		newClusterCmd(),
		newFenceWatchdogCmd(),
		newVersionCmd(),
		newMcpbCmd(),
	)
	return root
}

// run executes the CLI with args and returns the process exit code.
func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(os.Stderr, "troupe:", err)
		return 1
	}
	return 0
}
