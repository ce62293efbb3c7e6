// Package etcdtest runs a real, embedded, single-member etcd for the tests of troupe's cluster
// code: on free loopback ports, in a test's temporary directory, stopped when the test ends.
// Only tests import it.
package etcdtest

import (
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

	stopOnce sync.Once
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
	s := &Server{tb: tb, e: e, endpoint: "http://" + e.Clients[0].Addr().String()}
	tb.Cleanup(s.Stop)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		s.Stop()
		tb.Fatalf("embedded etcd failed to start: %v", err)
	case <-time.After(30 * time.Second):
		s.Stop()
		tb.Fatal("embedded etcd not ready within 30 s")
	}
	return s
}

// Endpoints are the client URLs to dial.
func (s *Server) Endpoints() []string { return []string{s.endpoint} }

// Stop stops the member and waits for it to be gone; later calls do nothing. Clients see a
// refused connection from then on, as if etcd's machine were down.
func (s *Server) Stop() { s.stopOnce.Do(s.e.Close) }

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
