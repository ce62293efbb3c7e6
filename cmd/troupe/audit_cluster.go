package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/config"
)

// auditHeadEvery is how often a cluster node publishes its audit head (DESIGN §16).
const auditHeadEvery = time.Second

// auditLocation is where cfg's audit log and its key live: <data>/audit and <data>/audit.key on
// one machine; in a cluster this node's chain in the shared blob dir, <blob_dir>/audit/<node>,
// keyed by <blob_dir>/audit-keys/<node>.key, so that every node can verify every chain (see
// internal/cluster/auditpaths.go for why the key is there).
func auditLocation(cfg config.Config) (dir, keyPath string) {
	if cfg.Clustered() {
		return cluster.AuditDir(cfg.Cluster.BlobDir, cfg.Cluster.Node), cluster.AuditKeyPath(cfg.Cluster.BlobDir, cfg.Cluster.Node)
	}
	return filepath.Join(cfg.DataDir, audit.DirName), filepath.Join(cfg.DataDir, audit.KeyName)
}

// openAuditLog opens the daemon's audit log where auditLocation puts it.
func openAuditLog(cfg config.Config, opts audit.Options) (*audit.Log, error) {
	dir, keyPath := auditLocation(cfg)
	return audit.OpenAt(dir, keyPath, opts)
}

// anchorAuditCluster is anchorAudit for a cluster node, whose anchor is the head it published
// to etcd rather than troupe.db: a chain that no longer reaches the head published before this
// start (cut, removed, or replaced by a new chain) is recorded as such in the chain itself, and
// from now on the head is published every second. Stop the publisher after the log's Close (so
// that its last events are published) and before the member's Close or Leave.
func anchorAuditCluster(m *cluster.Member, l *audit.Log, log zerolog.Logger) (*cluster.AuditHeadPublisher, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	published, err := m.AuditHead(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the audit head this node published: %w", err)
	}
	if published != nil {
		if err := checkPublishedHead(published, l, log); err != nil {
			return nil, err
		}
	}
	return cluster.PublishAuditHeads(m, l.DurableHead, auditHeadEvery), nil
}

// checkPublishedHead records audit.anchor_mismatch when the log no longer holds the head
// published before.
func checkPublishedHead(p *cluster.AuditHead, l *audit.Log, log zerolog.Logger) error {
	seq, hash := l.DurableHead()
	problem := ""
	switch hashThen, found, err := audit.HashAt(l.Dir(), p.Seq); {
	case p.Seq == 0:
	case err != nil:
		return fmt.Errorf("checking the audit chain against the head this node published: %w", err)
	case p.Seq > seq || !found:
		problem = "the chain ends before the head this node published to etcd: it was cut or removed"
	case hashThen != p.Hash:
		problem = "the chain's line at the seq of the head this node published to etcd has another hash: it was rewritten or replaced"
	}
	if problem == "" {
		return nil
	}
	log.Warn().Uint64("published_seq", p.Seq).Uint64("log_seq", seq).Msg("audit: " + problem)
	_, err := l.Append(context.Background(), audit.Event{Action: audit.ActionAnchorMismatch, Outcome: audit.OutcomeError,
		Details: map[string]any{"problem": problem, "anchor": "etcd", "published_seq": p.Seq, "published_hash": p.Hash,
			"published_time": p.Time.Format(time.RFC3339Nano), "log_seq": seq, "log_hash": hash}})
	return err
}
