package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/internal/approval"
	"github.com/troupe-dev/troupe/internal/daemon"
)

// approvalHelp says what approvals are, for both commands.
const approvalHelp = "Tools named in require_approval (troupe.toml, or TROUPE_REQUIRE_APPROVAL=delete_session,delete_agent)\n" +
	"wait for a person before they run: the client asks you itself when it supports MCP elicitation;\n" +
	"otherwise the call waits (at most max_wait_seconds, then it answers with the approval's id) until\n" +
	"`troupe approve ID` or the live view grants it, and the model makes the same call again. Nothing\n" +
	"changes before a yes. Every decision is in the audit log with who took it. Approvals are kept by\n" +
	"the daemon for an hour; they are refused from inside troupe's own agents, where the model types."

func newApprovalsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List the calls waiting for a person's approval (require_approval)",
		Long: "List the calls of the data dir's daemon that wait for approval, oldest first: id, session, tool,\n" +
			"who asked and when, and the arguments. --json prints an array of {id, session_id, tool, arguments,\n" +
			"requested_at, principal}.\n\n" + approvalHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := daemonDataDir(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			list, err := daemon.ListApprovals(ctx, daemon.HTTPClient(dir))
			if errors.Is(err, daemon.ErrNotRunning) {
				return fmt.Errorf("no troupe daemon is running for %s, so no call waits for approval", dir)
			}
			if err != nil {
				return fmt.Errorf("troupe approvals: %w", err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			printApprovals(cmd.OutOrStdout(), list)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func printApprovals(w io.Writer, list []approval.Request) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no call waits for approval")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSESSION\tTOOL\tASKED BY\tWAITING\tARGUMENTS")
	for _, r := range list {
		args, _ := json.Marshal(r.Arguments)
		a := string(args)
		if len(a) > 80 {
			a = a[:77] + "..."
		}
		session := r.SessionID
		if session == "" {
			session = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, session, r.Tool, r.Principal,
			time.Since(r.RequestedAt).Round(time.Second), a)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\ntroupe approve ID runs one (the model makes the call again); troupe approve --deny ID refuses it")
}

func newApproveCmd() *cobra.Command {
	var deny bool
	cmd := &cobra.Command{
		Use:   "approve [--deny] ID",
		Short: "Approve (or with --deny refuse) a call waiting for a person",
		Long: "Approve the waiting call ID (from `troupe approvals`, or the call's answer), or refuse it with\n" +
			"--deny. Exit status 0 when the decision was taken; 1 with the reason otherwise (no such approval,\n" +
			"already decided, no daemon, run from inside one of troupe's agents).\n\n" + approvalHelp,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return errors.New("give one approval id: troupe approve [--deny] ID (troupe approvals lists them)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := daemonDataDir(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			ans, err := daemon.Decide(ctx, daemon.HTTPClient(dir), args[0], !deny)
			if errors.Is(err, daemon.ErrNotRunning) {
				return fmt.Errorf("no troupe daemon is running for %s, so no call waits for approval", dir)
			}
			if err != nil {
				return fmt.Errorf("troupe approve %s: %w", args[0], err)
			}
			verb := "approved"
			if deny {
				verb = "refused"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s by %s", verb, ans.Request.ID, ans.Request.Tool, ans.Request.Principal)
			if ans.Request.SessionID != "" {
				fmt.Fprintf(cmd.OutOrStdout(), " on %s", ans.Request.SessionID)
			}
			if deny {
				fmt.Fprintln(cmd.OutOrStdout(), " (nothing changed)")
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), " (it runs now if the call still waits, or when the model makes it again)")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&deny, "deny", false, "refuse the call instead")
	return cmd
}
