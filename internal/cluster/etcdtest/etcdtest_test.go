package etcdtest

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A started member answers a put and a get; a stopped one refuses within a bounded time.
func TestStartPutGetStop(t *testing.T) {
	start := time.Now()
	s := Start(t)
	t.Logf("embedded etcd ready in %v at %v", time.Since(start), s.Endpoints())
	cli := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "/k", "v"); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, "/k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("Get = %v, %v; want v", resp, err)
	}
	s.Stop()
	s.Stop() // a second stop is a no-op
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if _, err := cli.Put(short, "/k", "w"); err == nil {
		t.Fatal("put after Stop succeeded, want an error")
	}
}
