package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"

	"github.com/troupe-dev/troupe/internal/bench"
)

// BenchmarkCluster measures three real daemons on an embedded etcd (DESIGN §16, lease 2 s):
// creates per second through all three nodes at once (each claim is an etcd transaction and each
// record a fenced write), and the failover of a node killed with SIGKILL: from the kill until
// every session it owned is owned by a survivor and answers there.
func BenchmarkCluster(b *testing.B) {
	const lease = 2
	for b.Loop() {
		nodes, _, _ := startClusterNodes(b, 3, lease)
		clients := make([]*client.Client, len(nodes))
		for i, n := range nodes {
			clients[i] = n.tcp.client(b, "", "bench-"+n.name)
		}
		ctx := context.Background()
		// Creates: 8 callers per node for a fixed count.
		const total = 600
		var next atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for i := range nodes {
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func(c *client.Client) {
					defer wg.Done()
					for {
						k := next.Add(1)
						if k > total {
							return
						}
						r, err := callHTTP(ctx, c, "create_session", map[string]any{"session_id": fmt.Sprintf("b%04d", k)})
						if err != nil || r.IsError {
							failed.Add(1)
						}
					}
				}(clients[i])
			}
		}
		wg.Wait()
		elapsed := time.Since(start)
		if failed.Load() > 0 {
			b.Fatalf("%d of %d creates failed", failed.Load(), total)
		}
		bench.ReportRounded("cluster_create_per_s_3_nodes", float64(total)/elapsed.Seconds(), 0, "sessions/s")

		// Failover: kill -9 of n2, which owns a third of them.
		var lost []string
		for sid, o := range clusterStatus(b, nodes[0].dir).Owners {
			if o == "n2" {
				lost = append(lost, sid)
			}
		}
		killDaemon9(b, nodes[1].dir, nodes[1].tcp.pid)
		killed := time.Now()
		byNode := map[string]*client.Client{"n1": clients[0], "n3": clients[2]}
		deadline := killed.Add(time.Minute)
		for {
			owners := clusterStatus(b, nodes[0].dir).Owners
			done := true
			for _, sid := range lost {
				c := byNode[owners[sid]]
				if c == nil {
					done = false
					break
				}
				if r, err := callHTTP(ctx, c, "get_session", map[string]any{"session_id": sid}); err != nil || r.IsError {
					done = false
					break
				}
			}
			if done {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d sessions of the killed node not taken over within a minute", len(lost))
			}
			time.Sleep(50 * time.Millisecond)
		}
		bench.ReportRounded("cluster_failover_s", time.Since(killed).Seconds(), 2, "s")
		b.Logf("failover of %d sessions with lease %d s (goal: lease + 5 s)", len(lost), lease)
	}
}
