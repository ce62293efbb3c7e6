// Package etcdtest runs a real, embedded, single-member etcd for the tests of troupe's cluster
// code: on free loopback ports, in a test's temporary directory, stopped when the test ends.
// Only tests import it.
package etcdtest

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is one embedded etcd member.
type Server struct {
	tb       testing.TB
	e        *embed.Etcd
	endpoint string
	probe    *clientv3.Client // connected before Stop, like the tests' clients

	stopOnce sync.Once
	closed   chan struct{} // closed once etcd's Close returned
}

// Start starts an etcd member in tb.TempDir() and stops it when the test ends. It is tuned to
// start fast and to allow short leases: a 10 ms heartbeat and 100 ms election make etcd's
// smallest lease 1 s (its floor is 1.5 election timeouts, rounded up to a second) instead of
// 2 s; no fsync (a test's data need not survive the machine); a small snapshot count.
func Start(tb testing.TB) *Server {
	tb.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "troupe-test"
	cfg.Dir = tb.TempDir()
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.TickMs, cfg.ElectionMs = 10, 100
	cfg.SnapshotCount = 1000
	cfg.UnsafeNoFsync = true
	// Port 0: the kernel picks free ports; the bound addresses are read back below.
	local := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{local}, []url.URL{local}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{local}, []url.URL{local}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		tb.Fatalf("start embedded etcd: %v", err)
	}
	s := &Server{tb: tb, e: e, endpoint: "http://" + e.Clients[0].Addr().String(), closed: make(chan struct{})}
	tb.Cleanup(s.wait)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		s.Stop()
		tb.Fatalf("embedded etcd failed to start: %v", err)
	case <-time.After(30 * time.Second):
		s.Stop()
		tb.Fatal("embedded etcd not ready within 30 s")
	}
	if s.probe, err = clientv3.New(Config(s.Endpoints())); err != nil {
		s.Stop()
		tb.Fatalf("etcd client: %v", err)
	}
	return s
}

// Endpoints are the client URLs to dial.
func (s *Server) Endpoints() []string { return []string{s.endpoint} }

// Stop stops the member: it returns once a client connected before refuses requests, as
// every client then does, as if etcd's machine were down. Later calls do nothing.
//
// etcd's Close lets open watch streams run for up to its request timeout (5 s, embed/etcd.go
// stopServers) before it cuts them; new requests are refused from its start. So Stop lets
// Close finish in the background (the test's cleanup waits for it) and waits only until the
// probe client, connected like the tests' clients, is refused.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		go func() {
			defer close(s.closed)
			s.e.Close()
		}()
		if s.probe == nil {
			return
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			_, err := s.probe.Get(ctx, "probe")
			cancel()
			if err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		s.tb.Error("etcd still answered 10 s after Stop")
	})
}

// wait stops the member and waits until etcd's Close has returned.
func (s *Server) wait() {
	s.Stop()
	<-s.closed
	if s.probe != nil {
		_ = s.probe.Close()
	}
}

// Client returns a new client of the member, closed when the test ends (closing it earlier is
// fine: that is how a test cuts one node off etcd).
func (s *Server) Client(tb testing.TB) *clientv3.Client {
	tb.Helper()
	cli, err := clientv3.New(Config(s.Endpoints()))
	if err != nil {
		tb.Fatalf("etcd client: %v", err)
	}
	tb.Cleanup(func() { _ = cli.Close() })
	return cli
}

// Config is a client configuration for endpoints that logs nothing.
func Config(endpoints []string) clientv3.Config {
	return clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
}
