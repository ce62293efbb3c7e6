package cluster

import (
	"slices"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func kv(key, value string, lease int64) *mvccpb.KeyValue {
	return &mvccpb.KeyValue{Key: []byte(key), Value: []byte(value), Lease: lease}
}

// The view counts each node's sessions through puts, moves and deletes, tells its subscribers
// of every owner key deleted, and on a re-read of the owners that vanished meanwhile.
func TestViewCountsLoadAndReportsReleasedOwners(t *testing.T) {
	v := newView()
	var told []string
	cancel := v.subscribe(func(sid string) { told = append(told, sid) })
	v.reset([]*mvccpb.KeyValue{kv(nodeKey("n1"), `{"node":"n1"}`, 7), kv(ownerKey("a"), "n1", 7), kv(ownerKey("b"), "n1", 7)}, 10)
	if nodes, load := v.candidates(); len(nodes) != 1 || nodes[0].LeaseID != 7 || load["n1"] != 2 {
		t.Fatalf("after the first read: %+v, %v; want n1 (lease 7) with 2", nodes, load)
	}
	v.apply([]*clientv3.Event{
		{Type: clientv3.EventTypePut, Kv: kv(ownerKey("b"), "n2", 8)},
		{Type: clientv3.EventTypeDelete, Kv: kv(ownerKey("a"), "", 0)},
	}, 11)
	if _, load := v.candidates(); load["n1"] != 0 || load["n2"] != 1 {
		t.Fatalf("after a move and a delete: %v; want n1 0, n2 1", load)
	}
	v.claimed("c", "n1", 11) // the watch has applied revision 11 already: nothing to do
	v.claimed("d", "n1", 12) // ahead of the watch: counted now
	if _, load := v.candidates(); load["n1"] != 1 {
		t.Fatalf("after claims at 11 and 12: %v; want n1 1", load)
	}
	v.reset([]*mvccpb.KeyValue{kv(nodeKey("n1"), `{"node":"n1"}`, 7)}, 20)
	// Each read ends with "" (look again at everything); the second read lost b and d.
	if len(told) == 5 {
		slices.Sort(told[2:4])
	}
	if want := []string{"", "a", "b", "d", ""}; !slices.Equal(told, want) {
		t.Fatalf("subscribers were told %q, want %q", told, want)
	}
	cancel()
	v.apply([]*clientv3.Event{{Type: clientv3.EventTypeDelete, Kv: kv(ownerKey("x"), "", 0)}}, 21)
	if len(told) != 5 {
		t.Fatalf("a cancelled subscriber was told %q", told[5:])
	}
}
