package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/cluster"
	"github.com/troupe-dev/troupe/internal/cluster/route"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/messages"
)

// clusterSide is a daemon's part in a cluster (DESIGN §16): its membership, the store on etcd,
// and the loop that takes over the sessions of lost nodes.
type clusterSide struct {
	member *cluster.Member
	store  *cluster.EtcdStore
	// gw runs other nodes' calls here and sends this node's calls to their owners.
	gw *route.Gateway
	// watchdog kills this daemon's children if its lease deadline passes while it is frozen.
	watchdog *fenceWatchdog
	log      zerolog.Logger
	// fenced is closed when the membership ended without a Close (the lease was not renewed
	// in time): the daemon has stopped its children and must stop.
	fenced    chan struct{}
	fenceErr  error
	fenceOnce sync.Once
	stopLoops context.CancelFunc
	loops     sync.WaitGroup
}

// joinCluster joins the cluster of cfg's [cluster] table. onFenced runs once when the lease was
// not renewed in time, before the daemon is told to stop: it must stop every child at once, as
// the survivors are about to claim and restart the sessions.
func joinCluster(cfg config.Config, log zerolog.Logger, progress func(id string, done, total int, message string), onFenced func(error)) (*clusterSide, error) {
	c := &clusterSide{log: log.With().Str("component", "cluster").Logger(), fenced: make(chan struct{})}
	// The gateway first: Proto.Actor's remote sets gRPC's process-wide logger as it starts,
	// which races with any gRPC client (etcd's) already running.
	secret, err := clusterSecret(cfg.Cluster.BlobDir)
	if err != nil {
		return nil, fmt.Errorf("the cluster's secret in blob_dir: %w", err)
	}
	gw, err := route.StartGateway(route.GatewayOptions{Node: cfg.Cluster.Node, Advertise: cfg.Cluster.Advertise,
		Progress: progress, Logger: c.log, Secret: secret})
	if err != nil {
		return nil, fmt.Errorf("cluster gateway on %s: %w", cfg.Cluster.Advertise, err)
	}
	c.gw = gw
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := cluster.Join(ctx, cfg.Cluster, cluster.Options{Logger: c.log, OnFenced: func(cause error) {
		c.log.Error().Err(cause).Msg("cluster: this node's lease was not renewed in time: stopping every session's children (the other nodes take them over)")
		onFenced(cause)
		c.fenceOnce.Do(func() { c.fenceErr = cause; close(c.fenced) })
	}})
	if err != nil {
		gw.Stop(context.Background())
		return nil, fmt.Errorf("join the cluster (node %q, etcd %v): %w", cfg.Cluster.Node, cfg.Cluster.Etcd, err)
	}
	c.member = m
	c.store = cluster.NewEtcdStore(m)
	// The deadline enforced from outside too: a frozen daemon cannot stop its children itself.
	if c.watchdog, err = startFenceWatchdog(m, c.log); err != nil {
		_ = m.Close()
		gw.Stop(context.Background())
		return nil, err
	}
	c.log.Info().Str("node", m.Node()).Dur("lease", m.TTL()).Msg("cluster: joined")
	return c, nil
}

// Requester is what the takeover loop asks (the actor system).
type adopter interface {
	Request(ctx context.Context, msg any, timeout time.Duration) (any, error)
}

// takeOver claims the sessions of lost nodes as they are orphaned (spread over the survivors by
// placement) and has this node's orchestrator bring up those it now owns; it also reports this
// node's load. It runs until Close.
func (c *clusterSide) takeOver(a adopter) {
	ctx, cancel := context.WithCancel(context.Background())
	c.stopLoops = cancel
	orphans := c.member.WatchOrphans(ctx)
	adopt := make(chan struct{}, 1)
	poke := func() {
		select {
		case adopt <- struct{}{}:
		default:
		}
	}
	c.loops.Add(2)
	go func() {
		defer c.loops.Done()
		for sid := range orphans {
			owner, err := c.member.Claim(ctx, sid)
			switch {
			case errors.Is(err, cluster.ErrAlreadyOwned):
				continue // another survivor was first
			case err != nil:
				c.log.Warn().Err(err).Str("session", sid).Msg("cluster: could not claim an orphaned session")
				continue
			}
			c.log.Info().Str("session", sid).Str("owner", owner).Msg("cluster: claimed an orphaned session")
			poke()
		}
	}()
	go func() {
		defer c.loops.Done()
		// Claims made by other nodes for this one come without a message: look every lease/3.
		t := time.NewTicker(c.member.TTL() / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.member.Fenced():
				return
			case <-adopt:
			case <-t.C:
			}
			// Asked of etcd here, off the orchestrator's mailbox (etcd may be slow or gone): the
			// orchestrator is asked to adopt only when this node owns more than it runs.
			owned, err := c.member.Owned(ctx, c.member.Node())
			if err != nil {
				continue
			}
			if n, err := a.Request(ctx, &messages.SessionMetrics{}, 5*time.Second); err == nil {
				if m, ok := n.(*messages.SessionMetricsResult); ok {
					_ = c.member.SetLoad(ctx, m.TotalSessions)
					if len(owned) <= m.TotalSessions {
						continue
					}
				}
			}
			res, err := a.Request(ctx, &messages.AdoptSessions{}, time.Minute)
			if err != nil {
				c.log.Warn().Err(err).Msg("cluster: adopt sessions")
				continue
			}
			if r, ok := res.(*messages.AdoptSessionsResult); ok && r.Err != nil {
				c.log.Warn().Str("error", r.Err.Message).Msg("cluster: adopt sessions")
			}
		}
	}()
}

// Close stops the loops and leaves the cluster: its lease is revoked, so that the other nodes
// take its sessions over at once (the children have stopped already). A fenced member only
// closes.
func (c *clusterSide) Close() error {
	if c == nil {
		return nil
	}
	c.gw.Stop(context.Background()) // idempotent: rt.Close stopped it before the actors already
	if c.stopLoops != nil {
		c.stopLoops()
	}
	c.loops.Wait()
	c.watchdog.Close()
	select {
	case <-c.fenced:
		return c.member.Close()
	default:
		return c.member.Leave()
	}
}

// clusterSecret returns the secret the cluster's gateways share, from blob_dir/cluster.secret
// (0600), made by the first node that needs it: written aside, then linked into place, so that
// two nodes starting at once read the same whole secret.
func clusterSecret(blobDir string) (string, error) {
	path := filepath.Join(blobDir, "cluster.secret")
	read := func() (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			return s, nil
		}
		return "", fmt.Errorf("%s is shorter than a secret: remove it and start a node again", path)
	}
	if s, err := read(); err == nil || !errors.Is(err, os.ErrNotExist) {
		return s, err
	}
	if err := os.MkdirAll(blobDir, 0o700); err != nil {
		return "", err
	}
	var buf [32]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(blobDir, ".cluster.secret-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(buf[:]) + "\n"); err != nil {
		_ = tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	return read()
}
