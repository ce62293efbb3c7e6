package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/cluster/etcdtest"
)

// mcp returns a client of the node's TCP MCP endpoint (no auth in these tests).
func (n *clusterNode) mcp(t *testing.T) *troupeProc {
	t.Helper()
	return &troupeProc{t: t, c: n.tcp.client(t, "", "client-of-"+n.name), dir: n.dir}
}

// agentPID is the pid of a session's agent "cat" as get_session shows it (0: none running).
func agentPID(s *troupeProc, sid string) int {
	r := s.call("get_session", map[string]any{"session_id": sid})
	if r.IsError {
		return 0
	}
	for _, c := range s.ok("get_session", map[string]any{"session_id": sid})["children"].([]any) {
		m := c.(map[string]any)
		if pid, ok := m["pid"].(float64); ok && m["status"] == "running" {
			return int(pid)
		}
	}
	return 0
}

// TestE2EClusterNodeLoss, with three real daemons on an embedded etcd (lease 2 s): sessions
// created through different nodes are placed least-loaded first and owned once, and any node
// answers for any of them (two creates of one id through two nodes: exactly one wins); a fourth
// node joining moves nothing and stops no child; a node killed with SIGKILL loses its sessions to
// the survivors within lease + 5 s, restored with their state and agents; a node frozen (SIGSTOP)
// past its lease has its sessions run elsewhere, and on resume stops its children and its daemon.
func TestE2EClusterNodeLoss(t *testing.T) {
	const lease = 2
	nodes, etcd, blobs := startClusterNodes(t, 3, lease)
	clients := map[string]*troupeProc{}
	for _, n := range nodes {
		clients[n.name] = n.mcp(t)
	}
	c1 := clients["n1"] // n1 survives everything below: every later call goes through it
	state := map[string]string{}
	for i, n := range nodes {
		for j := 0; j < 3; j++ {
			sid := fmt.Sprintf("%s-%d", n.name, j)
			clients[n.name].ok("create_session", map[string]any{"session_id": sid, "state": map[string]any{"n": i*10 + j}})
			clients[n.name].ok("create_agent", map[string]any{"session_id": sid, "name": "cat", "preset": "keep"})
			state[sid] = fmt.Sprintf("map[n:%d]", i*10+j)
		}
	}
	st := clusterStatus(t, nodes[0].dir)
	perNode := map[string][]string{}
	for sid := range state {
		perNode[st.Owners[sid]] = append(perNode[st.Owners[sid]], sid)
		for _, via := range nodes { // any node answers for any session, naming its owner
			if got := clients[via.name].ok("get_session", map[string]any{"session_id": sid}); got["node"] != st.Owners[sid] {
				t.Fatalf("get_session %s through %s says node %v, etcd says %s", sid, via.name, got["node"], st.Owners[sid])
			}
		}
	}
	if len(perNode["n1"]) != 3 || len(perNode["n2"]) != 3 || len(perNode["n3"]) != 3 {
		t.Fatalf("placement %v, want 3 sessions on each node (least loaded first)", perNode)
	}
	// Two creates of one id through two nodes at once: exactly one wins.
	for round := 0; round < 8; round++ {
		id := fmt.Sprintf("race%d", round)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		for _, name := range []string{"n1", "n2"} {
			wg.Add(1)
			go func(name string) {
				defer wg.Done()
				if r := clients[name].call("create_session", map[string]any{"session_id": id}); !r.IsError {
					mu.Lock()
					won = append(won, name)
					mu.Unlock()
				} else if !strings.Contains(resultText(r), "exists") {
					t.Errorf("the losing create says %q, want that it exists", resultText(r))
				}
			}(name)
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("round %d: %v won the create of one id, want exactly one", round, won)
		}
	}
	before := map[string]int{}
	for sid := range state {
		if before[sid] = agentPID(c1, sid); before[sid] == 0 {
			t.Fatalf("%s has no running agent", sid)
		}
	}

	// A fourth node joins: no session moves, no child stops.
	n4 := startClusterNode(t, "n4", etcd, blobs, lease)
	clients[n4.name] = n4.mcp(t)
	after := clusterStatus(t, nodes[0].dir)
	for sid, o := range st.Owners {
		if after.Owners[sid] != o {
			t.Fatalf("after n4 joined %s is owned by %q, was %q", sid, after.Owners[sid], o)
		}
	}
	for sid, pid := range before {
		if !alive(pid) {
			t.Fatalf("after n4 joined the agent of %s (pid %d) is gone", sid, pid)
		}
	}

	// takenOver waits until sessions are owned by another node than from and run their agent,
	// answered through n1.
	takenOver := func(what, from string, sids []string, within time.Duration) {
		t.Helper()
		eventually(t, within, what, func() bool {
			owners := clusterStatus(t, nodes[0].dir).Owners
			for _, sid := range sids {
				if o := owners[sid]; o == "" || o == from || agentPID(c1, sid) == 0 {
					return false
				}
			}
			return true
		})
	}
	// kill -9 of n2: within lease + 5 s its sessions are owned by survivors and running again,
	// a page re-opened where it was with its cookies (browser state).
	lost := perNode["n2"]
	sort.Strings(lost)
	site := webSite(t)
	c1.ok("open_page", map[string]any{"session_id": lost[0], "name": "shop", "url": site + "/"})
	c1.ok("set_cookies", map[string]any{"session_id": lost[0], "cookies": []any{map[string]any{"name": "tok", "value": "n2-login", "url": site + "/"}}})
	c1.ok("update_session_state", map[string]any{"session_id": lost[0], "set": map[string]any{"n": 99}})
	state[lost[0]] = "map[n:99]"
	killDaemon9(t, nodes[1].dir, nodes[1].tcp.pid)
	killed := time.Now()
	takenOver("n2's sessions owned and running elsewhere", "n2", lost, time.Duration(lease+5)*time.Second)
	t.Logf("failover of n2's %d sessions took %v (lease %d s)", len(lost), time.Since(killed).Round(10*time.Millisecond), lease)
	spread := map[string]bool{}
	for _, sid := range lost {
		if got := c1.ok("get_session", map[string]any{"session_id": sid}); fmt.Sprint(got["state"]) != state[sid] {
			t.Fatalf("%s came back with state %v, want %s", sid, got["state"], state[sid])
		}
		spread[clusterStatus(t, nodes[0].dir).Owners[sid]] = true
		c1.ok("send_to_agent", map[string]any{"agent_id": sid + "/cat", "message": "still here"})
	}
	t.Logf("n2's sessions were taken over by %v", spread)
	eventually(t, 30*time.Second, "the page re-opened on the survivor", func() bool {
		for _, ch := range c1.ok("get_session", map[string]any{"session_id": lost[0]})["children"].([]any) {
			if m := ch.(map[string]any); m["kind"] == "page" && m["status"] == "open" && strings.HasPrefix(fmt.Sprint(m["url"]), site) {
				return true
			}
		}
		return false
	})
	if ck := fmt.Sprint(c1.ok("get_cookies", map[string]any{"session_id": lost[0], "url": site + "/"})["cookies"]); !strings.Contains(ck, "n2-login") {
		t.Fatalf("the taken-over session's cookies: %s", ck)
	}

	// SIGSTOP of n3 past its lease, then SIGCONT: the survivors run its sessions; on resume it
	// stops its children and its daemon, so each session runs once.
	frozen := perNode["n3"]
	if err := syscall.Kill(nodes[2].tcp.pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	crashed.Store(nodes[2].dir, true)
	takenOver("n3's sessions running elsewhere while it is frozen", "n3", frozen, time.Duration(lease+5)*time.Second)
	// Its watchdog (a process of its own) killed the frozen node's agents once the lease passed:
	// no session ran twice, even while the daemon could do nothing.
	eventually(t, 5*time.Second, "the frozen node's agents killed by its watchdog", func() bool {
		for _, sid := range frozen {
			if alive(before[sid]) {
				return false
			}
		}
		return true
	})
	if !alive(nodes[2].tcp.pid) {
		t.Fatal("the frozen daemon itself was killed; only its children should be")
	}
	if err := syscall.Kill(nodes[2].tcp.pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the frozen node stopped its children and its daemon", func() bool {
		for _, sid := range frozen {
			if alive(before[sid]) {
				return false
			}
		}
		return !alive(nodes[2].tcp.pid)
	})
	for _, sid := range frozen {
		if pid := agentPID(c1, sid); pid == 0 || pid == before[sid] || !alive(pid) {
			t.Fatalf("%s: agent pid %d (was %d on n3): want one new running agent", sid, pid, before[sid])
		}
	}

	// Every node's audit chain (the killed one's and the fenced one's too) checks out against
	// the heads published to etcd, and the merged query names the nodes.
	if out, code := troupeCLI(t, nodes[0].dir, "audit", "verify", "--cluster"); code != 0 {
		t.Fatalf("troupe audit verify --cluster: exit %d\n%s", code, out)
	}
	out, code := troupeCLI(t, nodes[0].dir, "audit", "query", "--cluster", "--json", "--action", "server.adopt")
	if code != 0 || !strings.Contains(out, `"node":"n4"`) && !strings.Contains(out, `"node":"n1"`) {
		t.Fatalf("troupe audit query --cluster: exit %d\n%s", code, out)
	}
}

// TestE2EClusterEtcdDown: with etcd gone, a read of a local session still answers, a mutation
// fails closed saying etcd is unreachable, and a create places nothing; once the lease is over
// the node is fenced: it stops its children and its daemon.
func TestE2EClusterEtcdDown(t *testing.T) {
	const lease = 8
	etcd := etcdtest.Start(t)
	node := startClusterNode(t, "solo", etcd, t.TempDir(), lease)
	c := node.mcp(t)
	c.ok("create_session", map[string]any{"session_id": "here", "state": map[string]any{"k": 1}})
	c.ok("create_agent", map[string]any{"session_id": "here", "name": "cat", "preset": "keep"})
	pid := agentPID(c, "here")
	etcd.Stop()
	stopped := time.Now()
	if got := c.ok("get_session", map[string]any{"session_id": "here"}); fmt.Sprint(got["state"]) != "map[k:1]" {
		t.Fatalf("a local read with etcd down: %v", got["state"])
	}
	msg := c.fails("update_session_state", map[string]any{"session_id": "here", "set": map[string]any{"k": 2}})
	if !strings.Contains(msg, "etcd is unreachable") || !strings.Contains(msg, "nothing was changed") {
		t.Fatalf("a mutation with etcd down says %q, want that etcd is unreachable and nothing changed", msg)
	}
	if msg := c.fails("create_session", map[string]any{"session_id": "new"}); !strings.Contains(msg, "nothing was created") {
		t.Fatalf("a create with etcd down says %q", msg)
	}
	crashed.Store(node.dir, true)
	eventually(t, time.Duration(lease+10)*time.Second-time.Since(stopped), "the fenced node stops its agent", func() bool {
		return !alive(pid)
	})
	fenced := time.Since(stopped)
	eventually(t, 30*time.Second, "the fenced node's daemon exits", func() bool { return !alive(node.tcp.pid) })
	t.Logf("the agent stopped %v after etcd did (lease %d s), the daemon %v", fenced.Round(100*time.Millisecond), lease, time.Since(stopped).Round(100*time.Millisecond))
}
