package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/internal/tokens"
)

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the bearer tokens of clients that reach troupe over the network",
		Long: "A client that connects over TCP (troupe daemon --listen) sends a token in the header\n" +
			"\"Authorization: Bearer <token>\". Each token has a name, which is the principal recorded as the\n" +
			"owner of its sessions and in the audit log, and a scope:\n\n" +
			"  read   read-only tools on its own sessions\n" +
			"  write  every tool on its own sessions\n" +
			"  audit  read-only tools and audit_query on every session\n" +
			"  admin  everything\n\n" +
			"Only a hash of each token is kept, in <data dir>/" + tokens.FileName + ". A running daemon sees a\n" +
			"created or revoked token within a second; no restart is needed.",
	}
	cmd.AddCommand(newTokenCreateCmd(), newTokenListCmd(), newTokenRevokeCmd())
	return cmd
}

// tokenStore opens the token store of the data dir given by --data-dir or the environment.
func tokenStore(cmd *cobra.Command) (*tokens.Store, error) {
	dir, err := daemonDataDir(cmd)
	if err != nil {
		return nil, err
	}
	return tokens.Open(dir), nil
}

// oneName is cobra.ExactArgs(1) with a message that says what to type.
func oneName(usage string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("give one token name: %s", usage)
		}
		return nil
	}
}

func newTokenCreateCmd() *cobra.Command {
	var scope string
	const usage = "troupe token create NAME --scope read|write|audit|admin"
	cmd := &cobra.Command{
		Use:   "create NAME --scope read|write|audit|admin",
		Short: "Create a token and print it, once",
		Long: "Create a token called NAME with the given scope and print it alone on the first line of\n" +
			"stdout, so a script can capture it:  TOKEN=$(troupe token create ci --scope write)\n\n" +
			"The token is shown this once: troupe keeps only its hash. NAME is 1-64 characters of a-z, 0-9,\n" +
			"'.', '_' and '-', starting with a letter or digit; it must not belong to a token that is not\n" +
			"revoked (revoke that one first to reuse the name).",
		Example: "  troupe token create laptop --scope write\n  troupe token create auditor --scope audit",
		Args:    oneName(usage),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := tokens.ValidateName(args[0]); err != nil {
				return err
			}
			if scope == "" {
				return fmt.Errorf("--scope is required, one of read, write, audit, admin: %s", usage)
			}
			sc, err := tokens.ParseScope(scope)
			if err != nil {
				return err
			}
			store, err := tokenStore(cmd)
			if err != nil {
				return err
			}
			tok, rec, err := store.Create(args[0], sc)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			fmt.Fprintf(cmd.ErrOrStderr(), "troupe: token %q (scope %s) created; it is shown only this once, so store it now; "+
				"clients send it as the header \"Authorization: Bearer <token>\"\n", rec.Name, rec.Scope)
			return nil
		},
	}
	cmd.Flags().StringVar(&scope, "scope", "", "what the token may do: read, write, audit or admin (required)")
	return cmd
}

func newTokenListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the tokens: name, scope, when created and when revoked (never the token)",
		Long: "List every token, revoked ones included (their names stay meaningful in the audit log),\n" +
			"sorted by name. Neither the token nor its hash is shown. --json prints an array of objects\n" +
			"with name, scope, created_at and, once revoked, revoked_at.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := tokenStore(cmd)
			if err != nil {
				return err
			}
			recs, err := store.List()
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(recs)
			}
			if len(recs) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "troupe: no tokens yet; create one with troupe token create NAME --scope SCOPE")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSCOPE\tCREATED\tREVOKED")
			for _, r := range recs {
				revoked := "-"
				if r.RevokedAt != nil {
					revoked = r.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Scope, r.CreatedAt.Format(time.RFC3339), revoked)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func newTokenRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a token: clients using it are refused from then on",
		Long: "Revoke the token called NAME. A running daemon refuses it within a second. The name stays in\n" +
			"troupe token list, marked revoked, and can be given to a new token with troupe token create.",
		Example: "  troupe token revoke laptop",
		Args:    oneName("troupe token revoke NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := tokenStore(cmd)
			if err != nil {
				return err
			}
			if err := store.Revoke(args[0]); err != nil {
				if errors.Is(err, tokens.ErrNoSuchName) {
					return err
				}
				return fmt.Errorf("revoking %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %s revoked\n", args[0])
			return nil
		},
	}
}
