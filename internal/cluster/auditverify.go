package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"time"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/ids"
)

// AuditReport is what `troupe audit verify --cluster` found: every node's chain, checked on its
// own and against the head its node published to etcd.
type AuditReport struct {
	OK    bool               `json:"ok"`
	Nodes []AuditChainReport `json:"nodes"`
}

// AuditChainReport is one node's chain. Problem says, for people, what is wrong when OK is
// false; Unreadable marks a chain that could not be read at all (rather than found damaged).
type AuditChainReport struct {
	Node       string        `json:"node"`
	OK         bool          `json:"ok"`
	Dir        string        `json:"dir"`
	Published  *AuditHead    `json:"published_head,omitempty"`
	Report     *audit.Report `json:"report,omitempty"`
	Problem    string        `json:"problem,omitempty"`
	Unreadable bool          `json:"unreadable,omitempty"`
}

// String renders the chain's result in one line.
func (r AuditChainReport) String() string {
	switch {
	case r.OK:
		return fmt.Sprintf("%s: %s; it reaches the head it published (seq %d at %s)", r.Node, r.Report,
			r.Published.Seq, r.Published.Time.Format(time.RFC3339))
	case r.Report != nil && !r.Report.OK:
		return fmt.Sprintf("%s: %s", r.Node, r.Report)
	default:
		return fmt.Sprintf("%s: %s", r.Node, r.Problem)
	}
}

// VerifyAudit checks the audit chain of every node in cfg's blob dir, and of every node with a
// published head, against the heads in etcd: each chain as `troupe audit verify` checks one
// (keyed hashes, links, seq, torn lines, its head file), and then that it reaches the head its
// node published: a chain that ends before it was cut; one whose line at that seq has another
// hash was rewritten or replaced; a published head without a chain is a chain removed; a chain
// without a published head was never anchored (written by a node that never reached etcd, or
// put there by hand). With only set, just that node's chain is checked. The error is for etcd
// or the blob dir being unreadable.
func VerifyAudit(ctx context.Context, cfg Config, only string) (AuditReport, error) {
	heads, err := ReadAuditHeads(ctx, cfg)
	if err != nil {
		return AuditReport{}, err
	}
	nodes, err := auditChains(cfg.BlobDir)
	if err != nil {
		return AuditReport{}, err
	}
	for n := range heads {
		nodes[n] = true
	}
	if only != "" {
		nodes = map[string]bool{only: true}
	}
	if len(nodes) == 0 {
		return AuditReport{}, fmt.Errorf("no audit chain in %s and no head published to etcd: has a node run with blob_dir %s?",
			AuditRoot(cfg.BlobDir), cfg.BlobDir)
	}
	rep := AuditReport{OK: true, Nodes: []AuditChainReport{}}
	for n := range nodes {
		var h *AuditHead
		if head, ok := heads[n]; ok {
			h = &head
		}
		c := verifyChain(cfg.BlobDir, n, h)
		rep.OK = rep.OK && c.OK
		rep.Nodes = append(rep.Nodes, c)
	}
	sort.Slice(rep.Nodes, func(i, j int) bool { return rep.Nodes[i].Node < rep.Nodes[j].Node })
	return rep, nil
}

// auditChains lists the nodes with a chain directory in the blob dir.
func auditChains(blobDir string) (map[string]bool, error) {
	entries, err := os.ReadDir(AuditRoot(blobDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the audit chains: %w (is the shared blob dir mounted on this machine?)", err)
	}
	nodes := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() && ids.Valid(e.Name()) {
			nodes[e.Name()] = true
		}
	}
	return nodes, nil
}

func verifyChain(blobDir, node string, head *AuditHead) AuditChainReport {
	c := AuditChainReport{Node: node, Dir: AuditDir(blobDir, node), Published: head}
	keyPath := AuditKeyPath(blobDir, node)
	_, err := os.Stat(c.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && head == nil:
		c.Problem, c.Unreadable = fmt.Sprintf("no chain in %s and no head published: has node %s run with this blob dir?", c.Dir, node), true
		return c
	case errors.Is(err, fs.ErrNotExist):
		c.Problem = fmt.Sprintf("its chain %s is gone, but it published a head at seq %d (%s): the chain was removed",
			c.Dir, head.Seq, head.Time.Format(time.RFC3339))
		return c
	}
	if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
		c.Problem = fmt.Sprintf("its key %s is missing, so its chain cannot be checked: restore the key from a backup", keyPath)
		return c
	}
	opts := audit.VerifyOptions{KeyPath: keyPath, AnchorSource: "the head it published to etcd"}
	if head != nil {
		opts.Anchor = &audit.Anchor{Seq: head.Seq, Hash: head.Hash}
	}
	r, err := audit.VerifyWith(c.Dir, opts)
	switch {
	case err != nil:
		c.Problem, c.Unreadable = err.Error(), true
	case !r.OK:
		c.Report, c.Problem = &r, r.String()
	case head == nil:
		c.Report = &r
		c.Problem = fmt.Sprintf("%s, but no head for it was ever published to etcd: it was written by a node that "+
			"never reached etcd, or put in %s by hand", r.String(), c.Dir)
	default:
		c.Report, c.OK = &r, true
	}
	return c
}
