package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/config"
)

// Exit codes of `troupe audit verify`.
const (
	auditExitDamaged    = 1 // the log was tampered with or is torn
	auditExitUnreadable = 2 // the log could not be read at all
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check and read the tamper-evident audit log of what troupe did",
	}
	cmd.AddCommand(newAuditVerifyCmd(), newAuditQueryCmd(), newAuditTailCmd())
	return cmd
}

// auditDir resolves <data>/audit from --data-dir and the environment.
func auditDir(cmd *cobra.Command) (string, error) {
	flag := ""
	if f := cmd.Flag("data-dir"); f != nil {
		flag = f.Value.String()
	}
	data, err := config.ResolveDataDir(flag)
	if err != nil {
		return "", err
	}
	return filepath.Join(data, audit.DirName), nil
}

func newAuditVerifyCmd() *cobra.Command {
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the hash chain of the whole audit log",
		Long: "Check every line of every segment: its keyed hash (the key is <data>/audit.key, outside the\n" +
			"audit directory), the chain of hashes and seq numbers across segments, a torn last line, lines\n" +
			"cut from the end, and a log emptied, removed or shorter than what troupe's store recorded.\n\n" +
			"In a cluster (a [cluster] table in troupe.toml) this node's chain in the blob dir is checked,\n" +
			"against the head it published to etcd; --cluster checks every node's chain, a dead node's too:\n" +
			"a chain that does not reach its published head was cut, one with another hash at that seq was\n" +
			"rewritten, a published head without its chain is a chain removed.\n\n" +
			"Exit status: 0 intact; 1 damaged (the first bad segment and line are named); 2 unreadable.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := resolveAuditSource(cmd, all)
			if err != nil {
				return err
			}
			if src.clustered {
				only := src.cfg.Cluster.Node
				if all {
					only = ""
				}
				return verifyCluster(cmd, src, only, asJSON)
			}
			dir := src.dir()
			anchor, err := storeAnchor(filepath.Dir(dir), cmd.ErrOrStderr())
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "troupe:", err)
				return exitError{code: auditExitUnreadable}
			}
			r, err := audit.VerifyWith(dir, audit.VerifyOptions{Anchor: anchor})
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "troupe:", err)
				return exitError{code: auditExitUnreadable}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), r.String())
			}
			if !r.OK {
				return exitError{code: auditExitDamaged}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVar(&all, "cluster", false, "check every node's chain in the blob dir against the heads published to etcd")
	return cmd
}

func newAuditQueryCmd() *cobra.Command {
	var f audit.Filter
	var since, until string
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Show the audit events that match filters, oldest first",
		Example: "  troupe audit query --session research --since 2h\n" +
			"  troupe audit query --action 'session.*' --outcome error --json\n" +
			"  troupe audit query --principal ci-bot --since 24h\n" +
			"  troupe audit query --cluster --session research   # every node's chain, merged by time",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := resolveAuditSource(cmd, all)
			if err != nil {
				return err
			}
			now := time.Now()
			if f.Since, err = parseAuditTime("since", since, now); err != nil {
				return err
			}
			if f.Until, err = parseAuditTime("until", until, now); err != nil {
				return err
			}
			if f.Limit < 0 {
				return fmt.Errorf("--limit %d: want 0 (no limit) or more", f.Limit)
			}
			if all {
				evs, err := cluster.QueryAudit(src.cfg.Cluster.BlobDir, f)
				if err := printNodeEvents(cmd, newAuditPrinter(cmd.OutOrStdout(), asJSON, true), evs, err); err != nil {
					return err
				}
				if len(evs) == 0 && !asJSON {
					fmt.Fprintln(cmd.ErrOrStderr(), "no matching events")
				}
				return nil
			}
			evs, err := audit.Query(src.dir(), f)
			var damage *audit.DamageError
			if err != nil && !errors.As(err, &damage) {
				return err
			}
			p := newAuditPrinter(cmd.OutOrStdout(), asJSON, false)
			for _, e := range evs {
				if err := p.print(e); err != nil {
					return err
				}
			}
			if len(evs) == 0 && !asJSON {
				fmt.Fprintln(cmd.ErrOrStderr(), "no matching events")
			}
			if damage != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "troupe: warning:", damage)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Session, "session", "", "only events of this session id")
	fl.StringVar(&f.Principal, "principal", "", "only events of this principal: a token's name, local, or troupe (what troupe did by itself)")
	fl.StringVar(&f.Action, "action", "", "only this action (end with * for a prefix: 'session.*')")
	fl.StringVar(&f.Stage, "stage", "", "only this stage: requested, completed or failed")
	fl.StringVar(&f.Outcome, "outcome", "", "only this outcome (ok, error, …)")
	fl.StringVar(&since, "since", "", "only events at or after this: a duration ago (90m, 2h) or an RFC 3339 time")
	fl.StringVar(&until, "until", "", "only events before this: a duration ago or an RFC 3339 time")
	fl.IntVar(&f.Limit, "limit", 0, "show only the most recent N matching events (0: all)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object per event instead of a table")
	fl.BoolVar(&all, "cluster", false, "every node's chain in the blob dir, merged by time, each event marked with its node")
	return cmd
}

func newAuditTailCmd() *cobra.Command {
	var n int
	var follow, asJSON, all bool
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Show the last audit events, and with -f the new ones as they come",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := resolveAuditSource(cmd, all)
			if err != nil {
				return err
			}
			if n < 0 {
				return fmt.Errorf("-n %d: want 0 or more", n)
			}
			if all {
				return tailCluster(cmd, src, n, follow, asJSON)
			}
			dir := src.dir()
			evs, err := audit.Recent(dir, n)
			var damage *audit.DamageError
			if err != nil && !errors.As(err, &damage) {
				return err
			}
			p := newAuditPrinter(cmd.OutOrStdout(), asJSON, false)
			var after uint64
			for _, e := range evs {
				if err := p.print(e); err != nil {
					return err
				}
			}
			if damage != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "troupe: warning:", damage)
			}
			if !follow {
				return nil
			}
			if len(evs) > 0 {
				after = evs[len(evs)-1].Seq
			} else if after, err = auditLastSeq(dir); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(auditContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return audit.Follow(ctx, dir, after, 0, p.print)
		},
	}
	cmd.Flags().IntVarP(&n, "lines", "n", 20, "how many of the last events to show")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per event instead of a table")
	cmd.Flags().BoolVar(&all, "cluster", false, "every node's chain in the blob dir, merged by time (with -f: the chains there at the start)")
	return cmd
}

// auditLastSeq returns the seq of the last event, 0 for an empty log.
func auditLastSeq(dir string) (uint64, error) {
	evs, err := audit.Recent(dir, 1)
	var damage *audit.DamageError
	if err != nil && !errors.As(err, &damage) {
		return 0, err
	}
	if len(evs) == 0 {
		return 0, nil
	}
	return evs[0].Seq, nil
}

// parseAuditTime reads a --since/--until value: a duration before now, or an RFC 3339 time.
func parseAuditTime(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			d = -d
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want a duration ago such as 90m or 2h, or an RFC 3339 time "+
		"such as 2026-11-21T07:00:00Z", name, v)
}

// auditPrinter prints events as a table (header first) or as JSON lines; with nodes, each
// event is marked with the node whose chain holds it (a NODE column, a "node" field).
type auditPrinter struct {
	w      io.Writer
	json   *json.Encoder
	header bool
	nodes  bool
}

func newAuditPrinter(w io.Writer, asJSON, nodes bool) *auditPrinter {
	p := &auditPrinter{w: w, nodes: nodes}
	if asJSON {
		p.json = json.NewEncoder(w)
		p.json.SetEscapeHTML(false)
	}
	return p
}

const auditRowFormat = "%-6s %-23s %-20s %-9s %-12s %-14s %-22s %-7s %8s  %-20s %s"

func (p *auditPrinter) print(e audit.Event) error { return p.printFrom("", e) }

// printFrom prints an event of node's chain.
func (p *auditPrinter) printFrom(node string, e audit.Event) error {
	switch {
	case p.json != nil && p.nodes:
		return p.json.Encode(cluster.NodeEvent{Node: node, Event: e})
	case p.json != nil:
		return p.json.Encode(e)
	}
	if !p.header {
		p.header = true
		if err := p.row("NODE", "SEQ", "TIME (UTC)", "ACTION", "STAGE", "PRINCIPAL", "SESSION", "TARGET", "OUTCOME", "MS", "CLIENT", "DETAILS"); err != nil {
			return err
		}
	}
	ms := ""
	if e.DurationMS != 0 {
		ms = fmt.Sprintf("%.1f", e.DurationMS)
	}
	return p.row(node, fmt.Sprint(e.Seq), e.Time.UTC().Format("2006-01-02 15:04:05.000"), e.Action, auditDash(e.Stage),
		auditDash(e.Principal), auditDash(e.Session), auditDash(e.Target), auditDash(e.Outcome), auditDash(ms), auditClient(e.Actor),
		auditDetails(e.Details))
}

// row prints one table row in fixed-width columns (rows print as they come, for tail -f); the
// node column only when the printer marks nodes.
func (p *auditPrinter) row(node string, cols ...any) error {
	line := fmt.Sprintf(auditRowFormat, cols...)
	if p.nodes {
		line = fmt.Sprintf("%-10s ", node) + line
	}
	_, err := fmt.Fprintln(p.w, strings.TrimRight(line, " "))
	return err
}

func auditDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// auditClient renders the MCP client: "stdio claude-ai/0.1.0", plus the HTTP session when there is one.
func auditClient(a *audit.Actor) string {
	if a == nil {
		return "-"
	}
	s := a.Transport + " " + a.ClientName
	if a.ClientVersion != "" {
		s += "/" + a.ClientVersion
	}
	if a.HTTPSession != "" {
		s += " (" + a.HTTPSession + ")"
	}
	return strings.TrimSpace(s)
}

// auditDetails renders details as compact JSON, cut to keep the row readable (--json shows all).
func auditDetails(d map[string]any) string {
	if len(d) == 0 {
		return ""
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "?"
	}
	const max = 100
	if s := []rune(string(b)); len(s) > max {
		return string(s[:max-1]) + "…"
	}
	return string(b)
}

// auditContext returns the command's context, or Background when it has none.
func auditContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
