package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/cluster/etcdtest"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// clusterNode is one real troupe daemon of a test cluster.
type clusterNode struct {
	name string
	dir  string
	tcp  *tcpDaemon
}

// startClusterNodes starts n daemons (named n1, n2, ...) with [cluster] tables on one embedded
// etcd, a shared blob dir and a lease of leaseSeconds; each listens on TCP without auth.
func startClusterNodes(t testing.TB, n, leaseSeconds int) ([]*clusterNode, *etcdtest.Server, string) {
	t.Helper()
	etcd := etcdtest.Start(t)
	blobs := t.TempDir()
	var nodes []*clusterNode
	for i := 1; i <= n; i++ {
		nodes = append(nodes, startClusterNode(t, fmt.Sprintf("n%d", i), etcd, blobs, leaseSeconds))
	}
	return nodes, etcd, blobs
}

func startClusterNode(t testing.TB, name string, etcd *etcdtest.Server, blobs string, leaseSeconds int) *clusterNode {
	t.Helper()
	dir := testutil.ShortDir(t)
	// Preset "keep" restarts always: a session taken over after its node was lost runs it again.
	toml := fmt.Sprintf("max_sessions = 1000\n\n[cluster]\nnode = %q\nadvertise = %q\netcd = [%q]\nlease_seconds = %d\nblob_dir = %q\n\n"+
		"[presets.keep]\ncommand = \"cat\"\nmode = \"interactive\"\nrestart = \"always\"\n",
		name, freeAddr(t), etcd.Endpoints()[0], leaseSeconds, blobs)
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return &clusterNode{name: name, dir: dir, tcp: startTCPDaemon(t, dir, "--no-auth")}
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// clusterStatus runs `troupe cluster status --json` on a node's data dir.
func clusterStatus(t testing.TB, dir string) cluster.Status {
	t.Helper()
	out, code := troupeCLI(t, dir, "cluster", "status", "--json")
	var st cluster.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("troupe cluster status --json (exit %d) printed %q: %v", code, out, err)
	}
	return st
}

func aliveNodes(st cluster.Status) string {
	var names []string
	for _, n := range st.Nodes {
		if n.Alive {
			names = append(names, n.Node)
		}
	}
	return strings.Join(names, " ")
}

// TestE2EClusterMembership: three daemons join one etcd; `troupe cluster status` lists them
// from any node's config; a daemon killed with SIGKILL is gone from the cluster within its lease
// and 5 seconds, and one stopped gracefully leaves at once.
func TestE2EClusterMembership(t *testing.T) {
	nodes, _, _ := startClusterNodes(t, 3, 2)
	if got := aliveNodes(clusterStatus(t, nodes[2].dir)); got != "n1 n2 n3" {
		t.Fatalf("alive nodes %q, want n1 n2 n3", got)
	}
	out, code := troupeCLI(t, nodes[0].dir, "cluster", "status")
	if code != 0 || !strings.Contains(out, "NODE") || !strings.Contains(out, "n3") {
		t.Fatalf("troupe cluster status: %d %s", code, out)
	}

	killDaemon9(t, nodes[1].dir, nodes[1].tcp.pid)
	killed := time.Now()
	eventually(t, 2*time.Second+5*time.Second, "the killed node leaves the cluster", func() bool {
		return aliveNodes(clusterStatus(t, nodes[0].dir)) == "n1 n3"
	})
	t.Logf("a killed node was gone from the cluster after %v (lease 2 s)", time.Since(killed).Round(10*time.Millisecond))

	stopDaemon(t, nodes[2].dir)
	eventually(t, 3*time.Second, "the stopped node leaves at once", func() bool {
		return aliveNodes(clusterStatus(t, nodes[0].dir)) == "n1"
	})

	// A data dir without the table says so.
	if out, code := troupeCLI(t, t.TempDir(), "cluster", "status"); code == 0 || !strings.Contains(out, "no [cluster] table") {
		t.Fatalf("cluster status alone: %d %s", code, out)
	}
}
