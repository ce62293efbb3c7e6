package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/config"
)

// auditSource is the log the audit commands read: <data>/audit on one machine; in a cluster
// (the data dir's troupe.toml has a [cluster] table) this node's chain in the blob dir, and with
// --cluster every node's.
type auditSource struct {
	cfg       config.Config
	clustered bool
}

// dir is this node's audit directory.
func (s auditSource) dir() string {
	dir, _ := auditLocation(s.cfg)
	return dir
}

// resolveAuditSource reads the data dir's config. With --cluster (all) it must have a [cluster]
// table. Without, a config that cannot be read is noted and the commands read <data>/audit: a
// broken troupe.toml must not keep anyone from checking a single machine's log.
func resolveAuditSource(cmd *cobra.Command, all bool) (auditSource, error) {
	cfg, err := loadConfig(cmd, serveFlags{})
	switch {
	case err != nil && all:
		return auditSource{}, err
	case err != nil:
		dir, derr := auditDir(cmd)
		if derr != nil {
			return auditSource{}, derr
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "troupe: note: the config could not be read (%v); reading %s\n", err, dir)
		return auditSource{cfg: config.Config{DataDir: filepath.Dir(dir)}}, nil
	case all && !cfg.Clustered():
		return auditSource{}, fmt.Errorf("--cluster: %s has no [cluster] table, so there is no cluster to read: "+
			"run it with the data dir (or --config) of a cluster node", cfg.DataDir)
	}
	return auditSource{cfg: cfg, clustered: cfg.Clustered()}, nil
}

// verifyCluster checks every node's chain against the heads in etcd (only one node's when only
// is set) and prints the report; the exit status is as for one log.
func verifyCluster(cmd *cobra.Command, src auditSource, only string, asJSON bool) error {
	rep, err := cluster.VerifyAudit(auditContext(cmd), src.cfg.Cluster.WithDefaults(), only)
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "troupe:", err)
		return exitError{code: auditExitUnreadable}
	}
	damaged, unreadable := 0, 0
	for _, n := range rep.Nodes {
		switch {
		case n.OK:
		case n.Unreadable:
			unreadable++
		default:
			damaged++
		}
	}
	if asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		for _, n := range rep.Nodes {
			fmt.Fprintln(cmd.OutOrStdout(), n.String())
		}
		if rep.OK {
			fmt.Fprintf(cmd.OutOrStdout(), "cluster audit: all %d chains intact and reaching their published heads\n", len(rep.Nodes))
		} else {
			msg := fmt.Sprintf("cluster audit: %d of %d chains damaged, cut, removed or unanchored", damaged, len(rep.Nodes))
			if unreadable > 0 {
				msg += fmt.Sprintf("; %d unreadable", unreadable)
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
		}
	}
	switch {
	case damaged > 0:
		return exitError{code: auditExitDamaged}
	case unreadable > 0:
		return exitError{code: auditExitUnreadable}
	}
	return nil
}

// printNodeEvents prints merged events, warning on stderr about damaged lines.
func printNodeEvents(cmd *cobra.Command, p *auditPrinter, evs []cluster.NodeEvent, err error) error {
	var damage *cluster.AuditDamageError
	if err != nil && !errors.As(err, &damage) {
		return err
	}
	for _, e := range evs {
		if err := p.printFrom(e.Node, e.Event); err != nil {
			return err
		}
	}
	if damage != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "troupe: warning:", damage, "; run `troupe audit verify --cluster`")
	}
	return nil
}

// followCluster prints the new events of every chain as they come, until interrupted; after
// holds the last seq already printed of each node (the others start at their end). Chains
// that appear later are not followed.
func followCluster(cmd *cobra.Command, src auditSource, p *auditPrinter, after map[string]uint64) error {
	blobDir := src.cfg.Cluster.BlobDir
	nodes, err := cluster.AuditNodes(blobDir)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(auditContext(cmd), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var mu sync.Mutex // one printer for every chain
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		dir := cluster.AuditDir(blobDir, n)
		from, ok := after[n]
		if !ok {
			if from, err = auditLastSeq(dir); err != nil {
				return err
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = audit.Follow(ctx, dir, from, 0, func(e audit.Event) error {
				mu.Lock()
				defer mu.Unlock()
				return p.printFrom(n, e)
			})
			if errs[i] != nil {
				stop() // one chain failing ends the others
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// tailCluster prints the last n events of every chain merged by time, then with follow the new
// ones as they come.
func tailCluster(cmd *cobra.Command, src auditSource, n int, follow, asJSON bool) error {
	p := newAuditPrinter(cmd.OutOrStdout(), asJSON, true)
	evs, err := cluster.RecentAudit(src.cfg.Cluster.BlobDir, n)
	if err := printNodeEvents(cmd, p, evs, err); err != nil || !follow {
		return err
	}
	after := map[string]uint64{}
	for _, e := range evs {
		after[e.Node] = max(after[e.Node], e.Seq)
	}
	return followCluster(cmd, src, p, after)
}
