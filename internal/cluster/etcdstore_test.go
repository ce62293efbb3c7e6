package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/internal/store/storetest"
)

// The etcd store keeps the same contract as the memory and bbolt stores; each session is
// claimed (by the one node, for itself) before it is written.
func TestEtcdStoreKeepsTheStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		n := newTestCluster(t, 5).join(t, "n1")
		return storetest.Harness{Store: n.store, Own: func(t *testing.T, sid string) { mustClaim(t, n, sid) }}
	})
}

// bigSession writes, on a one-node cluster, a session with size bytes of localStorage.
func bigSession(t *testing.T, size int) (*testCluster, *testNode, store.SessionRecord) {
	t.Helper()
	c := newTestCluster(t, 5)
	n := c.join(t, "n1")
	rec := storetest.Record(ownSome(t, n, 1, "s")[0])
	rec.LocalStorage = storetest.BigLocalStorage(size)
	if err := n.store.PutSession(rec); err != nil {
		t.Fatal(err)
	}
	return c, n, rec
}

// A record with 8 MiB of localStorage keeps it in the blob dir: etcd's value stays small and
// names the blob; a touch rewrites no blob; a sweep removes only the blobs nothing names.
func TestBigBrowserStateGoesToTheBlobDir(t *testing.T) {
	c, n, rec := bigSession(t, 8<<20)
	sid := rec.ID
	resp, err := n.cli.Get(context.Background(), sessionKey(sid))
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatal(resp, err)
	}
	v := string(resp.Kvs[0].Value)
	if len(v) > DefaultInlineMax || !strings.Contains(v, `"$blobs":{"local_storage":"sha256:`) {
		t.Fatalf("etcd holds %d bytes for the record; want under %d, naming its localStorage blob", len(v), DefaultInlineMax)
	}
	first := blobFiles(t, c.blobDir)
	if len(first) != 1 {
		t.Fatalf("blob files: %v, want one", first)
	}
	if err := n.store.TouchSessions(map[string]time.Time{sid: time.Now()}); err != nil {
		t.Fatal(err)
	}
	rec.LocalStorage["https://app0.example.com"]["key-0000"] = "changed"
	if err := n.store.PutSession(rec); err != nil {
		t.Fatal(err)
	}
	if got := blobFiles(t, c.blobDir); len(got) != 2 {
		t.Fatalf("blob files after a touch and a change: %v, want two", got)
	}
	removed, err := n.store.SweepBlobs(context.Background(), 0)
	if err != nil || removed != 1 {
		t.Fatalf("SweepBlobs = %d, %v; want 1 removed", removed, err)
	}
	if got := blobFiles(t, c.blobDir); len(got) != 1 || got[0] == first[0] {
		t.Fatalf("blob files after the sweep: %v, want only the new one", got)
	}
	got, err := n.store.LoadSessions()
	if err != nil || len(got) != 1 || got[0].LocalStorage["https://app0.example.com"]["key-0000"] != "changed" {
		t.Fatalf("the record after the sweep: %v", err)
	}
}

// blobFiles returns the paths of the files under dir.
func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A blob that does not hash to its name is refused on read, naming the file.
func TestACorruptBlobIsRefused(t *testing.T) {
	c, n, _ := bigSession(t, 1<<20)
	files := blobFiles(t, c.blobDir)
	if len(files) != 1 {
		t.Fatalf("blob files: %v, want one", files)
	}
	if err := os.WriteFile(files[0], []byte(`{"x":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := n.store.LoadSessions(); err == nil || !strings.Contains(err.Error(), "is corrupt") {
		t.Fatalf("LoadSessions over a corrupt blob: err = %v, want it refused", err)
	}
}

// LoadSessions returns what this node owns under its current lease; AllSessions, everyone's.
func TestLoadSessionsIsWhatThisNodeOwns(t *testing.T) {
	c := newTestCluster(t, 5)
	a, b := c.join(t, "n1"), c.join(t, "n2")
	mineA, mineB := ownSome(t, a, 3, "a"), ownSome(t, b, 2, "b")
	if _, err := a.Claim(context.Background(), "claimed-only"); err != nil { // owned, never written
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    *testNode
		want []string
	}{{a, mineA}, {b, mineB}} {
		got, err := tc.n.store.LoadSessions()
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("%s LoadSessions = %d, %v; want %v", tc.n.Node(), len(got), err, tc.want)
		}
		for i := range got {
			if got[i].ID != tc.want[i] {
				t.Fatalf("%s LoadSessions[%d] = %s, want %s", tc.n.Node(), i, got[i].ID, tc.want[i])
			}
		}
	}
	all, err := a.store.AllSessions(context.Background())
	if err != nil || len(all) != 5 {
		t.Fatalf("AllSessions = %d, %v; want 5", len(all), err)
	}
	// FinishDelete gives the ownership up with the record.
	if err := a.store.FinishDelete(mineA[0], store.Snapshot{ID: "snap-1", SessionID: mineA[0]}, store.Tombstone{SessionID: mineA[0]}); err != nil {
		t.Fatal(err)
	}
	if owner, err := a.Owner(context.Background(), mineA[0]); err == nil {
		t.Fatalf("owner after FinishDelete = %s; want none", owner)
	}
	resp, _ := a.cli.Get(context.Background(), sessionKey(mineA[0]), clientv3.WithCountOnly())
	if resp.Count != 0 {
		t.Fatal("the record is still there after FinishDelete")
	}
}

// PutSessions takes the same id twice (the later record wins), as the bbolt store does.
func TestPutSessionsTakesARepeatedID(t *testing.T) {
	n := newTestCluster(t, 5).join(t, "n1")
	mustClaim(t, n, "a")
	first, second := storetest.Record("a"), storetest.Record("a")
	second.Name = "second"
	if err := n.store.PutSessions([]store.SessionRecord{first, second}); err != nil {
		t.Fatal(err)
	}
	got, err := n.store.LoadSessions()
	if err != nil || len(got) != 1 || got[0].Name != "second" {
		t.Fatalf("LoadSessions = %+v, %v; want the second record", got, err)
	}
}
