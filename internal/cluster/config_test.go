package cluster

import (
	"strings"
	"testing"
)

func TestConfigValidateSaysWhatToFix(t *testing.T) {
	good := Config{Node: "n1", Advertise: "10.0.0.5:7946", Etcd: []string{"http://10.0.0.1:2379"}, BlobDir: "/srv/troupe-blobs"}
	if err := good.Validate(); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	if got := good.WithDefaults().LeaseSeconds; got != DefaultLeaseSeconds {
		t.Fatalf("default lease_seconds = %d, want %d", got, DefaultLeaseSeconds)
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no node", func(c *Config) { c.Node = "" }, "cluster.node is empty"},
		{"bad node", func(c *Config) { c.Node = "a/b" }, "cluster.node \"a/b\" is not a valid name"},
		{"no advertise", func(c *Config) { c.Advertise = "" }, "set the host:port other nodes reach"},
		{"advertise without port", func(c *Config) { c.Advertise = "10.0.0.5" }, "want host:port"},
		{"advertise on 0.0.0.0", func(c *Config) { c.Advertise = "0.0.0.0:7946" }, "cannot dial an unspecified host"},
		{"no etcd", func(c *Config) { c.Etcd = nil }, "cluster.etcd is empty"},
		{"etcd not a URL", func(c *Config) { c.Etcd = []string{"10.0.0.1"} }, "cluster.etcd[0] \"10.0.0.1\": want a URL like http://10.0.0.1:2379"},
		{"negative lease", func(c *Config) { c.LeaseSeconds = -1 }, "cluster.lease_seconds -1: want 1 to 3600"},
		{"no blob dir", func(c *Config) { c.BlobDir = "" }, "cluster.blob_dir is empty"},
		{"relative blob dir", func(c *Config) { c.BlobDir = "blobs" }, "give an absolute path"},
		{"s3 blob dir", func(c *Config) { c.BlobDir = "s3://bucket/troupe" }, "only a shared directory is supported yet"},
	}
	for _, tt := range tests {
		c := good
		tt.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	// Every problem is reported at once.
	if err := (Config{}).Validate(); err == nil || strings.Count(err.Error(), "cluster.") != 4 {
		t.Errorf("an empty config: got %v, want its 4 problems", err)
	}
}
