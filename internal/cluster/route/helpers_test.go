package route

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/cluster/etcdtest"
	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// The gateways of every test, started once, before anything else: Remote.Start writes gRPC's
// global logger, which every gRPC server and client reads without a lock (see StartGateway).
// After each start, a connection to the new gateway's gRPC server is opened and its first bytes
// read: the server wrote them after logging its start, and the race detector orders a write
// to a socket before a read from one (syscall.Write and Read, ioSync), so that log happens
// before the next Remote.Start. The connections stay open until every gateway has started.
var gateways = map[string]*pooled{}

// pooled is one started gateway and what its progress sink received.
type pooled struct {
	gw       *Gateway
	progress *steps
}

// gatewayNames are the nodes the tests use; x is the one a test stops.
var gatewayNames = []string{"a", "b", "c", "x", "intruder"}

// testSecret is the cluster secret of the test gateways but "intruder", which has another.
const testSecret = "the-test-cluster-secret"

func TestMain(m *testing.M) {
	var probes []net.Conn
	for _, name := range gatewayNames {
		p := &pooled{progress: &steps{}}
		secret := testSecret
		if name == "intruder" {
			secret = "not-the-secret"
		}
		gw, err := StartGateway(GatewayOptions{Node: name, Listen: "127.0.0.1:0", Progress: p.progress.report, Logger: zerolog.Nop(), Secret: secret})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		p.gw, gateways[name] = gw, p
		conn, err := net.DialTimeout("tcp", gw.Address(), 5*time.Second)
		if err == nil {
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.ReadFull(conn, make([]byte, 9)) // the server's SETTINGS frame header
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "probe the gateway %s: %v\n", name, err)
			os.Exit(1)
		}
		probes = append(probes, conn)
	}
	// A write to each connection before it closes: what its server does on reading it (it
	// logs, closing) comes after every start.
	for _, c := range probes {
		_, _ = c.Write([]byte("bye"))
		_ = c.Close()
	}
	code := m.Run()
	for _, name := range gatewayNames {
		gateways[name].stop()
	}
	if code == 0 {
		if err := goleak.Find(testutil.LeakOptions()...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// stop stops the gateway.
func (p *pooled) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p.gw.Stop(ctx)
}

// testNode is one node of a test cluster: its gateway, its membership of a real etcd, its
// router, fake actors and what its progress sink received.
type testNode struct {
	name     string
	gw       *Gateway
	member   *cluster.Member
	router   *Router
	actors   *fakeActors
	progress *steps
	pooled   *pooled
}

// startNodes makes a cluster of the named gateways on a new embedded etcd, each node with new
// fake actors and a new router.
func startNodes(t testing.TB, names ...string) []*testNode {
	t.Helper()
	return startNodesWith(t, nil, names...)
}

// startNodesWith is startNodes with the actors local returns for each node (nil: fakes).
func startNodesWith(t testing.TB, local func(*testNode) Requester, names ...string) []*testNode {
	t.Helper()
	etcd := etcdtest.Start(t)
	blobs := t.TempDir()
	nodes := make([]*testNode, len(names))
	for i, name := range names {
		p := gateways[name]
		p.progress.reset()
		nd := &testNode{name: name, gw: p.gw, progress: p.progress, pooled: p}
		nd.actors = &fakeActors{node: name, sessions: map[string]*messages.SessionInfo{}, report: p.gw.Report}
		m, err := cluster.Join(context.Background(), cluster.Config{Node: name, Advertise: p.gw.Address(), Etcd: etcd.Endpoints(), LeaseSeconds: 5, BlobDir: blobs},
			cluster.Options{Client: etcd.Client(t), Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		nd.member = m
		nodes[i] = nd
	}
	for _, nd := range nodes {
		testutil.Eventually(t, 10*time.Second, nd.name+" sees every node", func() bool { return len(nd.member.CachedNodes()) == len(names) })
		var actors Requester = nd.actors
		if local != nil {
			actors = local(nd)
		}
		nd.router = New(actors, Member(nd.member, snapshots), nd.gw, Options{FanoutTimeout: 2 * time.Second, Logger: zerolog.Nop()})
		t.Cleanup(func() { nd.gw.Serve(nil) })
	}
	return nodes
}

// ask sends msg through the node's router.
func (nd *testNode) ask(t testing.TB, msg any) any {
	t.Helper()
	res, err := nd.router.Request(context.Background(), msg, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %T: %v", nd.name, msg, err)
	}
	return res
}

// owner reads who owns sid from etcd.
func owner(t testing.TB, nd *testNode, sid string) string {
	t.Helper()
	o, err := nd.member.Owner(context.Background(), sid)
	if errors.Is(err, cluster.ErrNoOwner) {
		return ""
	}
	if err != nil {
		t.Fatalf("owner of %s: %v", sid, err)
	}
	return o
}

// snapshots is the snapshot store of every test node: one snapshot, "snap-1" of session "old".
var snapshots = snapshotsFake{"snap-1": {ID: "snap-1", SessionID: "old", Completed: true}}

type snapshotsFake map[string]store.Snapshot

func (s snapshotsFake) Snapshot(id string) (store.Snapshot, error) {
	if snap, ok := s[id]; ok {
		return snap, nil
	}
	return store.Snapshot{}, store.ErrNotFound
}

// steps records the progress reports a node's sink received.
type steps struct {
	mu  sync.Mutex
	got []string
}

func (s *steps) report(id string, done, total int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, fmt.Sprintf("%s %d/%d %s", id, done, total, message))
}

func (s *steps) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = nil
}

func (s *steps) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// fakeActors is a node's actor tree, reduced to sessions in a map: enough to see which node
// answered and what it was asked.
type fakeActors struct {
	node   string
	report func(id string, done, total int, message string)
	mu     sync.Mutex
	// sessions are the live sessions; a Name "refuse" makes a create fail.
	sessions map[string]*messages.SessionInfo
	asked    []string // "<type> <session>" of every call
	echo     bool     // answer every call with the message itself
}

func (f *fakeActors) Request(_ context.Context, msg any, _ time.Duration) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, fmt.Sprintf("%T %s", msg, targetSession(msg)))
	if f.echo {
		return msg, nil
	}
	switch m := msg.(type) {
	case *messages.CreateSession:
		return f.create(m.SessionID, m.Name), nil
	case *messages.RestoreSession:
		return f.create(m.SessionID, "restored from "+m.SnapshotID), nil
	case *messages.CloneSession:
		if f.sessions[m.SessionID] == nil {
			return noSession(m.SessionID), nil
		}
		return f.create(m.NewSessionID, "clone of "+m.SessionID), nil
	case *messages.GetSession:
		if s := f.sessions[m.SessionID]; s != nil {
			return &messages.SessionResult{Session: s}, nil
		}
		return noSession(m.SessionID), nil
	case *messages.ListSessions:
		out := &messages.ListSessionsResult{Sessions: []messages.SessionSummary{}}
		for _, s := range f.sessions {
			out.Sessions = append(out.Sessions, messages.SessionSummary{SessionID: s.SessionID, Name: s.Name, Status: s.Status})
		}
		sort.Slice(out.Sessions, func(i, j int) bool { return out.Sessions[i].SessionID < out.Sessions[j].SessionID })
		return out, nil
	case *messages.SessionMetrics:
		return &messages.SessionMetricsResult{TotalSessions: len(f.sessions), ActiveSessions: len(f.sessions), MaxSessions: 10,
			Sessions: map[messages.Status]int{messages.StatusActive: len(f.sessions)}, Created: int64(len(f.sessions))}, nil
	case *messages.DeleteSession:
		if f.sessions[m.SessionID] == nil {
			return noSession(m.SessionID), nil
		}
		children := []string{m.SessionID + "/page-2", m.SessionID + "/agent-1"}
		for i, c := range children {
			if m.ProgressID != "" {
				f.report(m.ProgressID, i+1, len(children)+1, "stopped "+c)
			}
		}
		delete(f.sessions, m.SessionID)
		return &messages.DeleteSessionResult{SessionID: m.SessionID, Stopped: children, SnapshotID: "snap-" + m.SessionID}, nil
	case *messages.ReadAgentOutput:
		if f.sessions[targetSession(m)] == nil {
			return noSession(targetSession(m)), nil
		}
		return &messages.ReadAgentOutputResult{Output: &messages.AgentOutput{AgentID: m.AgentID, Status: "read on " + f.node}}, nil
	}
	return messages.Errorf(messages.CodeInternal, "fake actors: %T", msg), nil
}

func (f *fakeActors) create(sid, name string) any {
	switch {
	case name == "refuse":
		return messages.Errorf(messages.CodeInvalidArgument, "refused")
	case f.sessions[sid] != nil:
		return messages.Errorf(messages.CodeAlreadyExists, "session %q already exists", sid)
	}
	s := &messages.SessionInfo{SessionID: sid, Name: name, Status: messages.StatusActive}
	f.sessions[sid] = s
	return &messages.SessionResult{Session: s}
}

func (f *fakeActors) has(sid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions[sid] != nil
}

func noSession(sid string) *messages.Error {
	return messages.Errorf(messages.CodeNotFound, "no session %q", sid)
}

// session reads a SessionResult answer, failing on anything else.
func session(t testing.TB, res any) *messages.SessionInfo {
	t.Helper()
	r := testutil.AsSession(res)
	if r.Err != nil {
		t.Fatalf("answer: %v", r.Err)
	}
	return r.Session
}

// sessionOn creates sessions through via until one is placed on node, and returns its id.
func sessionOn(t testing.TB, via *testNode, node string) string {
	t.Helper()
	for i := range 50 {
		sid := fmt.Sprintf("on-%s-%d", node, i)
		if session(t, via.ask(t, &messages.CreateSession{SessionID: sid})).Node == node {
			return sid
		}
	}
	t.Fatalf("no session was placed on %s", node)
	return ""
}
