package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/testutil"
)

// auditNode is a node writing its chain in the test cluster's blob dir and publishing its head.
type auditNode struct {
	name string
	*testNode
	log *audit.Log
	pub *AuditHeadPublisher
}

// startAuditNode joins node and opens its chain, in 1 KiB segments so that it has closed ones.
func startAuditNode(t *testing.T, c *testCluster, name string, clock *testutil.Clock) *auditNode {
	t.Helper()
	n := &auditNode{name: name, testNode: c.join(t, name)}
	var err error
	n.log, err = audit.OpenAt(AuditDir(c.blobDir, name), AuditKeyPath(c.blobDir, name), audit.Options{SegmentSize: 1 << 10, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	n.pub = PublishAuditHeads(n.Member, n.log.DurableHead, 10*time.Millisecond)
	t.Cleanup(func() { n.die(t) })
	return n
}

func (n *auditNode) append(t *testing.T, session string) {
	t.Helper()
	if _, err := n.log.Append(context.Background(), audit.Event{Action: "session.create", Stage: audit.StageRequested,
		Session: session, Principal: "local"}); err != nil {
		t.Fatal(err)
	}
}

// die closes the chain, publishes its last head and leaves: the node is gone, its chain and
// head stay. Later calls do nothing.
func (n *auditNode) die(t *testing.T) {
	t.Helper()
	if err := n.log.Close(); err != nil {
		t.Errorf("close %s's log: %v", n.name, err)
	}
	if err := n.pub.Stop(); err != nil {
		t.Errorf("stop %s's publisher: %v", n.name, err)
	}
	if n.Err() == nil {
		_ = n.Leave()
	}
}

// auditCluster is three nodes whose events interleave in time, two of them at once now and then
// (a tie broken by node name), all heads published and the nodes gone.
func auditCluster(t *testing.T) (*testCluster, []*auditNode) {
	t.Helper()
	c := newTestCluster(t, 2)
	clock := testutil.NewClock()
	var nodes []*auditNode
	for _, name := range []string{"n1", "n2", "n3"} {
		nodes = append(nodes, startAuditNode(t, c, name, clock))
	}
	for i := 0; i < 30; i++ {
		n := nodes[i%3]
		n.append(t, fmt.Sprintf("s%02d", i))
		if i%5 == 0 {
			nodes[(i+1)%3].append(t, fmt.Sprintf("tie%02d", i))
		}
		clock.Advance(time.Millisecond)
	}
	for _, n := range nodes {
		n.die(t)
	}
	return c, nodes
}

func verifyAll(t *testing.T, c *testCluster) AuditReport {
	t.Helper()
	rep, err := VerifyAudit(context.Background(), c.config("verifier"), "")
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// chainOf returns node's report.
func chainOf(rep AuditReport, node string) AuditChainReport {
	for _, n := range rep.Nodes {
		if n.Node == node {
			return n
		}
	}
	return AuditChainReport{Node: node, Problem: "not in the report"}
}

func TestVerifyAuditIntact(t *testing.T) {
	c, nodes := auditCluster(t)
	rep := verifyAll(t, c)
	if !rep.OK || len(rep.Nodes) != 3 {
		t.Fatalf("report %+v; want 3 intact chains", rep)
	}
	for _, n := range nodes {
		r := chainOf(rep, n.name)
		seq, hash := n.log.DurableHead()
		if !r.OK || r.Published == nil || r.Published.Seq != seq || r.Published.Hash != hash || r.Report.Segments < 2 {
			t.Errorf("%s: %+v; want intact, in several segments, reaching its published head %d", n.name, r, seq)
		}
	}
	if one, err := VerifyAudit(context.Background(), c.config("n2"), "n2"); err != nil || !one.OK || len(one.Nodes) != 1 {
		t.Fatalf("only n2: %+v, %v; want n2 alone, intact", one, err)
	}
}

// Each way of tampering with one node's chain is found, and named on that node only.
func TestVerifyAuditDetects(t *testing.T) {
	for _, tc := range []struct {
		name, node, want string
		tamper           func(t *testing.T, blobDir string)
	}{
		{"edited line of a closed segment", "n2", "the line was edited", func(t *testing.T, blobDir string) {
			seg := filepath.Join(AuditDir(blobDir, "n2"), audit.SegmentName(1))
			b := readFile(t, seg)
			edited := bytes.Replace(b, []byte(`"session":"s01"`), []byte(`"session":"s99"`), 1)
			if bytes.Equal(edited, b) {
				t.Fatal("s01 is not in n2's first segment")
			}
			writeFile(t, seg, edited)
		}},
		{"dead node's chain cut, head file rewritten to match", "n3", "the head it published to etcd recorded seq", func(t *testing.T, blobDir string) {
			cutChain(t, AuditDir(blobDir, "n3"), 4)
			r, err := audit.VerifyWith(AuditDir(blobDir, "n3"), audit.VerifyOptions{KeyPath: AuditKeyPath(blobDir, "n3")})
			if err != nil || !r.OK {
				t.Fatalf("the cut chain alone: %v, %v; want it to pass (only the published head can tell)", r, err)
			}
		}},
		{"whole chain removed", "n1", "is gone, but it published a head", func(t *testing.T, blobDir string) {
			if err := os.RemoveAll(AuditDir(blobDir, "n1")); err != nil {
				t.Fatal(err)
			}
		}},
		{"chain replaced by a longer one (forked)", "n1", "differs from the one the head it published to etcd recorded", func(t *testing.T, blobDir string) {
			if err := os.RemoveAll(AuditDir(blobDir, "n1")); err != nil {
				t.Fatal(err)
			}
			l, err := audit.OpenAt(AuditDir(blobDir, "n1"), AuditKeyPath(blobDir, "n1"), audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 40; i++ {
				if _, err := l.Append(context.Background(), audit.Event{Action: "session.create", Session: "x"}); err != nil {
					t.Fatal(err)
				}
			}
			l.Close()
		}},
		{"key removed", "n1", "its key", func(t *testing.T, blobDir string) {
			if err := os.Remove(AuditKeyPath(blobDir, "n1")); err != nil {
				t.Fatal(err)
			}
		}},
		{"a chain nobody published", "n4", "no head for it was ever published", func(t *testing.T, blobDir string) {
			l, err := audit.OpenAt(AuditDir(blobDir, "n4"), AuditKeyPath(blobDir, "n4"), audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := auditCluster(t)
			tc.tamper(t, c.blobDir)
			rep := verifyAll(t, c)
			if rep.OK {
				t.Fatalf("report %+v; want damage", rep)
			}
			for _, n := range rep.Nodes {
				t.Logf("%s", n)
				switch {
				case n.Node == tc.node && (n.OK || !strings.Contains(n.String(), tc.want)):
					t.Errorf("%s: %q; want it damaged: %q", n.Node, n, tc.want)
				case n.Node != tc.node && !n.OK:
					t.Errorf("%s: %q; want it intact", n.Node, n)
				}
			}
		})
	}
}

// The merged query holds every node's events in time order, ties by node then seq, each marked
// with its node.
func TestQueryAuditMergesByTime(t *testing.T) {
	c, nodes := auditCluster(t)
	evs, err := QueryAudit(c.blobDir, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, n := range nodes {
		seq, _ := n.log.DurableHead()
		want += int(seq)
	}
	if len(evs) != want {
		t.Fatalf("%d events; want %d, every node's", len(evs), want)
	}
	ties := 0
	for i := 1; i < len(evs); i++ {
		a, b := evs[i-1], evs[i]
		switch {
		case b.Time.Before(a.Time):
			t.Fatalf("event %d (%s seq %d at %v) before event %d (%s seq %d at %v)", i, b.Node, b.Seq, b.Time, i-1, a.Node, a.Seq, a.Time)
		case b.Time.Equal(a.Time) && (b.Node < a.Node || b.Node == a.Node && b.Seq < a.Seq):
			t.Fatalf("tie at %v: %s seq %d after %s seq %d; want by node, then seq", a.Time, b.Node, b.Seq, a.Node, a.Seq)
		case b.Time.Equal(a.Time) && b.Node != a.Node:
			ties++
		}
	}
	if ties == 0 {
		t.Fatal("no events of two nodes at one time: the tie order went untested")
	}
	last, err := QueryAudit(c.blobDir, audit.Filter{Action: "session.create", Limit: 4})
	if err != nil || len(last) != 4 || last[3].Session != "s29" {
		t.Fatalf("last 4 session.create: %+v, %v; want 4 ending with s29", last, err)
	}
	recent, err := RecentAudit(c.blobDir, 3)
	if err != nil || len(recent) != 3 || recent[2].Action != audit.ActionClose {
		t.Fatalf("RecentAudit(3): %+v, %v; want the 3 audit.close", recent, err)
	}
}

// cutChain removes the last k lines of the chain in dir (whole segments when they empty) and
// rewrites its head file to match, as someone hiding what a dead node did last would.
func cutChain(t *testing.T, dir string, k int) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	var kept [][]byte
	for i := len(segs) - 1; i >= 0 && k > 0; i-- {
		lines := bytes.SplitAfter(readFile(t, segs[i]), []byte("\n"))
		lines = lines[:len(lines)-1] // the empty tail after the last "\n"
		if len(lines) <= k {
			k -= len(lines)
			if err := os.Remove(segs[i]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		kept, k = lines[:len(lines)-k], 0
		writeFile(t, segs[i], bytes.Join(kept, nil))
	}
	if len(kept) == 0 {
		t.Fatal("cut the whole chain; want some of it left")
	}
	var last struct {
		Seq  uint64 `json:"seq"`
		Hash string `json:"hash"`
	}
	if err := json.Unmarshal(kept[len(kept)-1], &last); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, audit.HeadName), fmt.Appendf(nil, "troupe-audit-head v1 seq=%020d hash=%64s\n", last.Seq, last.Hash))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
