package route

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/messages"
)

// The steps of a delete run on another node reach the sink of the node the call was made on,
// under its own progress id, before the answer; the owner's sink sees none of them.
func TestProgressOfARoutedDeleteComesBack(t *testing.T) {
	nodes := startNodes(t, "a", "b")
	sid := sessionOn(t, nodes[0], "b")
	// b runs a delete of its own with the same progress id at the same time: each call's steps
	// go to its own node.
	own := make(chan any, 1)
	go func() {
		session(t, nodes[1].ask(t, &messages.CreateSession{SessionID: "mine"}))
		res, _ := nodes[1].router.Request(context.Background(), &messages.DeleteSession{SessionID: "mine", ProgressID: "progress-1"}, 5*time.Second)
		own <- res
	}()
	res, err := nodes[0].router.Request(context.Background(), &messages.DeleteSession{SessionID: sid, ProgressID: "progress-1"}, 5*time.Second)
	got := nodes[0].progress.list() // read before anything else: the steps came before the answer
	if r, ok := res.(*messages.DeleteSessionResult); err != nil || !ok || r.SessionID != sid {
		t.Fatalf("delete through a of %s on b: %#v, %v", sid, res, err)
	}
	want := []string{"progress-1 1/3 stopped " + sid + "/page-2", "progress-1 2/3 stopped " + sid + "/agent-1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("a's sink got %q before the answer; want %q", got, want)
	}
	<-own
	for _, step := range nodes[1].progress.list() {
		if strings.Contains(step, sid+"/") {
			t.Fatalf("b's own sink got a step of a's call: %q", step)
		}
	}
	if n := len(nodes[1].progress.list()); n != 2 {
		t.Fatalf("b's sink got %d steps of its own delete, want 2: %q", n, nodes[1].progress.list())
	}
	if nodes[0].gw.relay.len()+nodes[1].gw.relay.len() != 0 {
		t.Fatal("a relay outlived its call")
	}
}

func (r *relay) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}
