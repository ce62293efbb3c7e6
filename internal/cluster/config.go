package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/troupe-dev/troupe/internal/ids"
)

// DefaultLeaseSeconds is the lease TTL when Config.LeaseSeconds is 0 (DESIGN §16).
const DefaultLeaseSeconds = 10

// maxLeaseSeconds bounds the TTL: a node cut off keeps running its sessions for up to a TTL,
// so a long one only delays failover.
const maxLeaseSeconds = 3600

// Config is the [cluster] table of troupe.toml (DESIGN §16).
type Config struct {
	// Node names this daemon, unique among live members.
	Node string `toml:"node" json:"node"`
	// Advertise is the host:port other nodes reach this daemon's Proto.Actor remote on.
	Advertise string `toml:"advertise" json:"advertise"`
	// Etcd lists the etcd endpoints (http://host:port or https://host:port).
	Etcd []string `toml:"etcd" json:"etcd"`
	// LeaseSeconds is the membership lease TTL; 0 means DefaultLeaseSeconds.
	LeaseSeconds int `toml:"lease_seconds" json:"lease_seconds"`
	// BlobDir is a directory every node shares: archives, agent logs, closed audit segments, and
	// the parts of records too big for etcd.
	BlobDir string `toml:"blob_dir" json:"blob_dir"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.LeaseSeconds == 0 {
		c.LeaseSeconds = DefaultLeaseSeconds
	}
	return c
}

// Validate reports every problem of c (after defaults), each saying what to set.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("cluster."+format, args...)) }
	switch {
	case c.Node == "":
		bad("node is empty: name this daemon, uniquely in the cluster (the host name will do)")
	case !ids.Valid(c.Node):
		bad("node %q is not a valid name: use %s", c.Node, ids.Rule)
	}
	if err := checkAdvertise(c.Advertise); err != nil {
		bad("advertise %q: %v", c.Advertise, err)
	}
	if len(c.Etcd) == 0 {
		bad(`etcd is empty: list the etcd endpoints, e.g. ["http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379"]`)
	}
	for i, e := range c.Etcd {
		if err := checkEndpoint(e); err != nil {
			bad("etcd[%d] %q: %v", i, e, err)
		}
	}
	if c.LeaseSeconds < 1 || c.LeaseSeconds > maxLeaseSeconds {
		bad("lease_seconds %d: want 1 to %d (default %d); a node that cannot renew its lease within it stops its sessions", c.LeaseSeconds, maxLeaseSeconds, DefaultLeaseSeconds)
	}
	switch {
	case c.BlobDir == "":
		bad("blob_dir is empty: set a directory every node shares (archives, agent logs, audit segments and large records go there)")
	case strings.Contains(c.BlobDir, "://"):
		bad("blob_dir %q: only a shared directory is supported yet, not a URL; mount the store and give its path", c.BlobDir)
	case !filepath.IsAbs(c.BlobDir):
		bad("blob_dir %q: give an absolute path, the same on every node", c.BlobDir)
	}
	return errors.Join(errs...)
}

func checkAdvertise(addr string) error {
	if addr == "" {
		return errors.New("empty: set the host:port other nodes reach this daemon on")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, e.g. 10.0.0.5:7946")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q: want 1 to 65535", port)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return errors.New("other nodes cannot dial an unspecified host; give this machine's address or name")
	}
	return nil
}

func checkEndpoint(e string) error {
	u, err := url.Parse(e)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Port() == "" {
		return errors.New("want a URL like http://10.0.0.1:2379")
	}
	return nil
}
