package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/cluster/etcdtest"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// auditClusterNode is a cluster node's data dir, config, membership and audit chain, opened as
// the daemon opens them (openAuditLog, anchorAuditCluster), without the rest of a daemon.
type auditClusterNode struct {
	name   string
	cfg    config.Config
	member *cluster.Member
	log    *audit.Log
	pub    *cluster.AuditHeadPublisher
}

// newAuditClusterNode writes node's troupe.toml, joins and opens its chain.
func newAuditClusterNode(t *testing.T, etcd *etcdtest.Server, blobDir, node string, clock *testutil.Clock) *auditClusterNode {
	t.Helper()
	dir := t.TempDir()
	toml := fmt.Sprintf("[cluster]\nnode = %q\nadvertise = \"127.0.0.1:7946\"\netcd = [%q]\nlease_seconds = 2\nblob_dir = %q\n",
		node, etcd.Endpoints()[0], blobDir)
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"), []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n := &auditClusterNode{name: node, cfg: cfg}
	n.member, err = cluster.Join(context.Background(), cfg.Cluster, cluster.Options{Client: etcd.Client(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.member.Close() })
	n.start(t, clock)
	return n
}

// start opens the chain and starts publishing its head, as the daemon does at start.
func (n *auditClusterNode) start(t *testing.T, clock *testutil.Clock) {
	t.Helper()
	var err error
	if n.log, err = openAuditLog(n.cfg, audit.Options{SegmentSize: 1 << 10, Now: clock.Now}); err != nil {
		t.Fatal(err)
	}
	if n.pub, err = anchorAuditCluster(n.member, n.log, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
}

// stop closes the chain and publishes its last head, as the daemon does at stop.
func (n *auditClusterNode) stop(t *testing.T) {
	t.Helper()
	if err := errors.Join(n.log.Close(), n.pub.Stop()); err != nil {
		t.Fatalf("stop %s: %v", n.name, err)
	}
}

func (n *auditClusterNode) append(t *testing.T, session string) {
	t.Helper()
	if _, err := n.log.Append(context.Background(), audit.Event{Action: "session.create", Stage: audit.StageRequested,
		Session: session, Principal: "local"}); err != nil {
		t.Fatal(err)
	}
}

// troupeRun runs the built troupe with args on dataDir and returns stdout, stderr and the exit code.
func troupeRun(t *testing.T, dataDir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(troupeBinary(t), append([]string{"--data-dir", dataDir}, args...)...)
	cmd.Env = append(os.Environ(), e2eEnv(dataDir)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("troupe %v: %v", args, err)
	}
	return out.String(), errb.String(), 0
}

// DESIGN §16, issue 17 test 7, through the real binary: three nodes' chains and published heads
// verify; the merged query is in time order and marks each event's node; an edited segment and
// a removed chain are found and named, with exit 1; etcd down is exit 2.
func TestE2EAuditCluster(t *testing.T) {
	etcd := etcdtest.Start(t)
	blobDir := t.TempDir()
	clock := testutil.NewClock()
	var nodes []*auditClusterNode
	for _, name := range []string{"n1", "n2", "n3"} {
		nodes = append(nodes, newAuditClusterNode(t, etcd, blobDir, name, clock))
	}
	for i := 0; i < 24; i++ {
		nodes[i%3].append(t, fmt.Sprintf("s%02d", i))
		clock.Advance(time.Millisecond)
	}
	total := 0
	for _, n := range nodes {
		n.stop(t)
		seq, _ := n.log.DurableHead()
		total += int(seq)
	}
	n1 := nodes[0].cfg.DataDir

	out, errOut, code := troupeRun(t, n1, "audit", "verify", "--cluster")
	if code != 0 || !strings.Contains(out, "all 3 chains intact") || strings.Count(out, "reaches the head it published") != 3 {
		t.Fatalf("verify --cluster: exit %d\n%s%s\nwant 3 intact chains", code, out, errOut)
	}
	out, _, code = troupeRun(t, n1, "audit", "verify", "--cluster", "--json")
	var rep cluster.AuditReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.OK || len(rep.Nodes) != 3 {
		t.Fatalf("verify --cluster --json: exit %d, %v\n%s", code, err, out)
	}
	out, errOut, code = troupeRun(t, nodes[1].cfg.DataDir, "audit", "verify")
	if code != 0 || !strings.HasPrefix(out, "n2: audit log intact") || strings.Contains(out, "n1") {
		t.Fatalf("verify on n2: exit %d\n%s%s\nwant n2's chain alone, intact", code, out, errOut)
	}

	out, errOut, code = troupeRun(t, n1, "audit", "query", "--cluster", "--json")
	var evs []cluster.NodeEvent
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e cluster.NodeEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("query --cluster --json line %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	if code != 0 || len(evs) != total {
		t.Fatalf("query --cluster --json: exit %d, %d events; want %d\n%s", code, len(evs), total, errOut)
	}
	seen := map[string]int{}
	for i, e := range evs {
		seen[e.Node]++
		if i > 0 && e.Time.Before(evs[i-1].Time) {
			t.Fatalf("event %d (%s seq %d at %v) comes after a later one (%s seq %d at %v)", i, e.Node, e.Seq, e.Time,
				evs[i-1].Node, evs[i-1].Seq, evs[i-1].Time)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("events by node %v; want all 3 nodes marked", seen)
	}
	out, _, code = troupeRun(t, n1, "audit", "query", "--cluster", "--session", "s07")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "NODE") || !strings.HasPrefix(lines[1], "n2 ") {
		t.Fatalf("query --cluster --session s07: exit %d\n%s\nwant a header and n2's row", code, out)
	}
	out, _, code = troupeRun(t, n1, "audit", "tail", "--cluster", "-n", "3")
	if code != 0 || strings.Count(out, audit.ActionClose) != 3 {
		t.Fatalf("tail --cluster -n 3: exit %d\n%s\nwant the 3 nodes' audit.close", code, out)
	}

	seg := filepath.Join(cluster.AuditDir(blobDir, "n2"), audit.SegmentName(1))
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seg, bytes.Replace(b, []byte(`"session":"s01"`), []byte(`"session":"s00"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(cluster.AuditDir(blobDir, "n3")); err != nil {
		t.Fatal(err)
	}
	out, _, code = troupeRun(t, n1, "audit", "verify", "--cluster")
	if code != auditExitDamaged || !strings.Contains(out, "n1: audit log intact") ||
		!strings.Contains(out, "n2: audit log damaged: audit-000001.jsonl line") || !strings.Contains(out, "n3: its chain") ||
		!strings.Contains(out, "2 of 3 chains damaged") {
		t.Fatalf("verify --cluster after tampering: exit %d\n%s\nwant n2 edited and n3 removed named, exit 1", code, out)
	}
	t.Logf("verify --cluster after tampering (exit %d):\n%s", code, out)

	etcd.Stop()
	out, errOut, code = troupeRun(t, n1, "audit", "verify", "--cluster")
	if code != auditExitUnreadable || !strings.Contains(errOut, "etcd") {
		t.Fatalf("verify --cluster with etcd down: exit %d\n%s%s\nwant exit 2 naming etcd", code, out, errOut)
	}
}

// A node that comes back to find its chain no longer reaching the head it published (here: its
// chain was removed, so it starts a new one) records that in the new chain before it publishes
// the new head; an ordinary restart records nothing.
func TestAnchorAuditClusterRecordsALostChain(t *testing.T) {
	etcd := etcdtest.Start(t)
	blobDir := t.TempDir()
	clock := testutil.NewClock()
	n := newAuditClusterNode(t, etcd, blobDir, "n1", clock)
	for i := 0; i < 5; i++ {
		n.append(t, "s")
	}
	n.stop(t)

	n.start(t, clock) // an ordinary restart
	n.stop(t)
	published, _ := n.pub.Published()
	dir, _ := auditLocation(n.cfg)
	if evs, err := audit.Query(dir, audit.Filter{Action: audit.ActionAnchorMismatch}); err != nil || len(evs) != 0 {
		t.Fatalf("after a restart: %v, %v; want no anchor mismatch", evs, err)
	}

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	n.start(t, clock)
	n.stop(t)
	evs, err := audit.Query(dir, audit.Filter{Action: audit.ActionAnchorMismatch})
	if err != nil || len(evs) != 1 {
		t.Fatalf("after the chain was removed: %v, %v; want one audit.anchor_mismatch", evs, err)
	}
	if d := evs[0].Details; fmt.Sprint(d["anchor"]) != "etcd" || fmt.Sprint(d["published_seq"]) != fmt.Sprint(published.Seq) ||
		d["published_hash"] != published.Hash || !strings.Contains(fmt.Sprint(d["problem"]), "cut or removed") {
		t.Fatalf("details %v; want the head published before (seq %d) and the problem", d, published.Seq)
	}
	if r, err := cluster.VerifyAudit(context.Background(), n.cfg.Cluster, ""); err != nil || !r.OK {
		t.Fatalf("VerifyAudit after the new chain's head was published: %+v, %v; want intact (the loss is in the chain)", r, err)
	}
}

// A troupe.toml that cannot be read does not keep anyone from checking a single machine's log;
// --cluster, which needs the [cluster] table, says so.
func TestAuditVerifyWithABrokenConfig(t *testing.T) {
	data := auditData(t)
	if err := os.WriteFile(filepath.Join(data, "troupe.toml"), []byte("max_sessions = \"many\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := auditCLI(t, "--data-dir", data, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit log intact") || !strings.Contains(errOut, "the config could not be read") {
		t.Fatalf("verify: exit %d\n%s%s\nwant the log checked, with a note", code, out, errOut)
	}
	if _, errOut, code := auditCLI(t, "--data-dir", data, "audit", "verify", "--cluster"); code == 0 || !strings.Contains(errOut, "max_sessions") {
		t.Fatalf("verify --cluster: exit %d, %s; want the config's error", code, errOut)
	}
	os.Remove(filepath.Join(data, "troupe.toml"))
	if _, errOut, code := auditCLI(t, "--data-dir", data, "audit", "query", "--cluster"); code == 0 || !strings.Contains(errOut, "no [cluster] table") {
		t.Fatalf("query --cluster on a single machine: exit %d, %s; want no [cluster] table", code, errOut)
	}
}
