package daemon

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// hostGuard checks the Host and Origin headers of TCP requests against the listen address and
// the configured allow lists (DNS-rebinding protection, DESIGN §12): a page on another site whose
// name was rebound to this address sends its own name as Host and its own origin as Origin.
type hostGuard struct {
	hosts   map[string]bool // host:port, lower case
	anyPort map[string]bool // hosts from allowed_hosts given without a port
	origins map[string]bool // scheme://host[:port] from allowed_origins, lower case
	defPort string          // the port a Host header without one means (80 or 443)
}

// newHostGuard builds the guard for a listener bound to bound (the real address, with its port)
// and asked for as listen (which may name a host, e.g. localhost).
func newHostGuard(listen string, bound net.Addr, secure bool, allowedHosts, allowedOrigins []string) *hostGuard {
	g := &hostGuard{hosts: map[string]bool{}, anyPort: map[string]bool{}, origins: map[string]bool{}, defPort: "80"}
	if secure {
		g.defPort = "443"
	}
	host, _, _ := net.SplitHostPort(listen)
	port := "0"
	if tcp, ok := bound.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
	}
	add := func(h string) { g.hosts[strings.ToLower(net.JoinHostPort(strings.Trim(h, "[]"), port))] = true }
	if host != "" {
		add(host)
	}
	if isLoopbackHost(host) || isAllInterfaces(host) {
		add("localhost")
		add("127.0.0.1")
		add("::1")
	}
	if isAllInterfaces(host) {
		// Clients on the network name this machine by one of its addresses.
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok {
					add(ipn.IP.String())
				}
			}
		}
	}
	for _, h := range allowedHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, _, err := net.SplitHostPort(h); err == nil {
			g.hosts[h] = true
		} else {
			g.anyPort[strings.Trim(h, "[]")] = true
		}
	}
	for _, o := range allowedOrigins {
		g.origins[strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")] = true
	}
	return g
}

// hostAllowed reports whether hostport (a Host header, or an origin's host) names this daemon;
// without a port it means defPort.
func (g *hostGuard) hostAllowed(hostport, defPort string) bool {
	hostport = strings.ToLower(hostport)
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), defPort
	}
	if host == "" {
		return false
	}
	return g.hosts[net.JoinHostPort(host, port)] || g.anyPort[host]
}

// check returns "" when r's Host and Origin are acceptable, else why not.
func (g *hostGuard) check(r *http.Request) string {
	if !g.hostAllowed(r.Host, g.defPort) {
		return "Host " + strconv.Quote(r.Host) + " is not this daemon's address; add it to allowed_hosts in troupe.toml (or TROUPE_ALLOWED_HOSTS) if clients reach the daemon under that name"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	if g.origins[strings.TrimSuffix(strings.ToLower(origin), "/")] {
		return ""
	}
	u, err := url.Parse(origin)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Path == "" {
		def := "80"
		if u.Scheme == "https" {
			def = "443"
		}
		if g.hostAllowed(u.Host, def) {
			return ""
		}
	}
	return "Origin " + strconv.Quote(origin) + " is not allowed; add it to allowed_origins in troupe.toml (or TROUPE_ALLOWED_ORIGINS) if a web page there may call this daemon"
}
