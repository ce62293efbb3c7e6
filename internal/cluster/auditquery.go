package cluster

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/troupe-dev/troupe/audit"
)

// NodeEvent is an audit event and the node whose chain holds it.
type NodeEvent struct {
	Node string `json:"node"`
	audit.Event
}

// AuditDamageError is returned by QueryAudit and RecentAudit, with the events that could be
// read, when lines of some chains could not be parsed.
type AuditDamageError struct {
	Nodes map[string]*audit.DamageError
}

// Error implements error.
func (e *AuditDamageError) Error() string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(e.Nodes)) {
		parts = append(parts, fmt.Sprintf("node %s: %v", n, e.Nodes[n]))
	}
	return strings.Join(parts, "; ")
}

// QueryAudit returns the events of every node's chain in blobDir that match f, merged by time
// (ties by node, then seq), oldest first; f.Limit keeps the most recent of the merged events.
func QueryAudit(blobDir string, f audit.Filter) ([]NodeEvent, error) {
	return mergeChains(blobDir, f.Limit, func(dir string) ([]audit.Event, error) { return audit.Query(dir, f) })
}

// RecentAudit returns the last n events of all the chains in blobDir, merged as by QueryAudit.
func RecentAudit(blobDir string, n int) ([]NodeEvent, error) {
	return mergeChains(blobDir, n, func(dir string) ([]audit.Event, error) { return audit.Recent(dir, n) })
}

// AuditNodes lists the nodes with a chain in blobDir, by name.
func AuditNodes(blobDir string) ([]string, error) {
	nodes, err := auditChains(blobDir)
	return slices.Sorted(maps.Keys(nodes)), err
}

// mergeChains reads each chain with read, merges the events by time and keeps the last limit
// (all when 0). Each chain's own last limit are enough: the merged last ones are among them.
func mergeChains(blobDir string, limit int, read func(dir string) ([]audit.Event, error)) ([]NodeEvent, error) {
	nodes, err := AuditNodes(blobDir)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w in %s: has a node run with this blob dir?", audit.ErrNoLog, AuditRoot(blobDir))
	}
	var out []NodeEvent
	damage := &AuditDamageError{Nodes: map[string]*audit.DamageError{}}
	for _, n := range nodes {
		evs, err := read(AuditDir(blobDir, n))
		var d *audit.DamageError
		switch {
		case errors.As(err, &d):
			damage.Nodes[n] = d
		case err != nil:
			return nil, fmt.Errorf("node %s: %w", n, err)
		}
		for _, e := range evs {
			out = append(out, NodeEvent{Node: n, Event: e})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		return a.Seq < b.Seq
	})
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	if len(damage.Nodes) > 0 {
		return out, damage
	}
	return out, nil
}
