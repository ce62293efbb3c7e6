package main

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// owners reads who owns each session, from any node's config.
func owners(t *testing.T, dir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, n := range clusterStatus(t, dir).Nodes {
		out[n.Node] = n.Sessions
	}
	return out
}

// TestE2EClusterPlacementAndRouting: 300 sessions created through different nodes are each owned
// once and spread within 20%; every node answers for every session (the same answers as one node), lists the
// whole cluster, and a delete on one node is restored through another.
func TestE2EClusterPlacementAndRouting(t *testing.T) {
	nodes, _, _ := startClusterNodes(t, 3, 3)
	clients := []*troupeProc{nodes[0].mcp(t), nodes[1].mcp(t), nodes[2].mcp(t)}
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan string, n)
	var next atomic.Int64
	for w := 0; w < 12; w++ { // 4 callers per node
		wg.Add(1)
		go func(c *troupeProc) {
			defer wg.Done()
			for i := next.Add(1) - 1; i < n; i = next.Add(1) - 1 {
				r := c.call("create_session", map[string]any{"session_id": fmt.Sprintf("s%03d", i), "state": map[string]any{"i": i}})
				if r.IsError {
					errs <- resultText(r)
				}
			}
		}(clients[w%3])
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("create: %s", e)
	}
	counts := owners(t, nodes[0].dir)
	total, lo, hi := 0, n, 0
	for _, c := range counts {
		total += c
		lo, hi = min(lo, c), max(hi, c)
	}
	if total != n || len(counts) != 3 || float64(hi-lo) > 0.2*float64(n)/3 {
		t.Fatalf("owners %v: want %d sessions spread over 3 nodes within 20%%", counts, n)
	}
	// Any node answers for any session, and lists all of them.
	for i, c := range clients {
		got := c.ok("get_session", map[string]any{"session_id": fmt.Sprintf("s%03d", (i+1)%n)})
		if got["session_id"] != fmt.Sprintf("s%03d", (i+1)%n) || got["node"] == "" || got["node"] == nil {
			t.Fatalf("get_session through %s: %v", nodes[i].name, got)
		}
		if l := c.ok("list_sessions", map[string]any{}); len(l["sessions"].([]any)) != n {
			t.Fatalf("list_sessions through %s: %d sessions, want %d", nodes[i].name, len(l["sessions"].([]any)), n)
		}
	}
	// An agent on one node, used through another.
	clients[0].ok("create_agent", map[string]any{"session_id": "s001", "name": "cat", "preset": "cat"})
	clients[2].ok("send_to_agent", map[string]any{"agent_id": "s001/cat", "message": "hello across nodes"})
	eventually(t, 10*time.Second, "the echo read through a third node", func() bool {
		return strings.Contains(fmt.Sprint(clients[1].ok("read_agent_output", map[string]any{"agent_id": "s001/cat"})), "hello across nodes")
	})
	// Delete on one node, restore through another, snapshots listed from any.
	del := clients[1].ok("delete_session", map[string]any{"session_id": "s001"})
	for _, c := range clients {
		if l := fmt.Sprint(c.ok("list_snapshots", map[string]any{"session_id": "s001"})); !strings.Contains(l, del["snapshot_id"].(string)) {
			t.Fatalf("list_snapshots: %s lacks %s", l, del["snapshot_id"])
		}
	}
	clients[2].ok("restore_session", map[string]any{"snapshot_id": del["snapshot_id"]})
	if st := clients[0].ok("get_session", map[string]any{"session_id": "s001"}); fmt.Sprint(st["state"]) != "map[i:1]" {
		t.Fatalf("the restored session's state: %v", st["state"])
	}
	// The same id created through two nodes at once: exactly one wins.
	for round := 0; round < 10; round++ {
		id := fmt.Sprintf("race%d", round)
		results := make(chan bool, 2)
		for _, c := range clients[:2] {
			go func(c *troupeProc) { results <- !c.call("create_session", map[string]any{"session_id": id}).IsError }(c)
		}
		if a, b := <-results, <-results; a == b {
			t.Fatalf("round %d: two creates of one id through two nodes: %v and %v, want exactly one success", round, a, b)
		}
	}
}
