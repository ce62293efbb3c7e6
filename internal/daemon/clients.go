package daemon

import (
	"net/http"
	"strconv"
	"sync"
)

// clients counts the MCP clients connected now: an Mcp-Session-Id with a request or GET stream
// open, and each 2026-07-28 request in flight (they carry no session). A bridge keeps a GET
// stream open for its life, so it counts until its connection closes.
type clients struct {
	mu     sync.Mutex
	open   map[string]int
	nextID uint64
}

func newClients() *clients { return &clients{open: make(map[string]int)} }

// enter records a request of r and returns the function that records its end.
func (c *clients) enter(r *http.Request) func() {
	c.mu.Lock()
	// A bridge names itself on all its requests: it is one client, whatever it has open.
	key := r.Header.Get(ClientHeader)
	if key != "" {
		key = "bridge\x00" + key
	} else {
		key = r.Header.Get("Mcp-Session-Id")
	}
	if key == "" {
		c.nextID++
		key = "\x00request-" + strconv.FormatUint(c.nextID, 10)
	}
	c.open[key]++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		if c.open[key]--; c.open[key] <= 0 {
			delete(c.open, key)
		}
		c.mu.Unlock()
	}
}

// count is the number of clients connected now.
func (c *clients) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}
