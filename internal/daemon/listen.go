package daemon

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
)

// ErrUnsafeListen: a TCP listener the daemon refuses to open as configured (DESIGN §12); the
// error wrapping it says why and what to do.
var ErrUnsafeListen = errors.New("unsafe listen address")

// isLoopbackHost reports whether host (no port) only ever reaches this machine: localhost,
// 127.0.0.0/8 or ::1. Any other name counts as non-loopback: what it resolves to can change.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// isAllInterfaces reports whether host (no port) listens on every interface ("", 0.0.0.0, ::).
func isAllInterfaces(host string) bool {
	if host == "" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsUnspecified()
}

// CheckNetwork says why the TCP settings of o are refused (nil when they are fine), so a caller
// can refuse before it starts anything; Serve checks them again.
func CheckNetwork(o Options) error {
	_, err := checkNetwork(o)
	return err
}

// checkNetwork refuses TCP settings that would expose the daemon unsafely, before anything is
// opened, and loads the TLS certificate when one is given.
func checkNetwork(o Options) (*tls.Config, error) {
	if o.Listen == "" {
		if o.NoAuth || o.TLSCert != "" || o.TLSKey != "" || o.AllowInsecureHTTP {
			return nil, fmt.Errorf("--no-auth, --tls-cert, --tls-key and --allow-insecure-http apply to a TCP listener: add --listen ADDR (e.g. 127.0.0.1:7700)")
		}
	}
	if o.MetricsListen != "" {
		host, _, err := net.SplitHostPort(o.MetricsListen)
		if err != nil {
			return nil, fmt.Errorf("--metrics-listen %q: %w; want HOST:PORT, e.g. 127.0.0.1:9090", o.MetricsListen, err)
		}
		if !isLoopbackHost(host) {
			return nil, fmt.Errorf("%w: --metrics-listen %s is not a loopback address; /metrics there has no authentication, so it listens on 127.0.0.1, ::1 or localhost only (a remote scraper can read /metrics on --listen with an audit or admin token)",
				ErrUnsafeListen, o.MetricsListen)
		}
	}
	if o.Listen == "" {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w; want HOST:PORT, e.g. 127.0.0.1:7700", o.Listen, err)
	}
	loopback := isLoopbackHost(host)
	if o.NoAuth && !loopback {
		return nil, fmt.Errorf("%w: --no-auth is accepted only on a loopback --listen address (127.0.0.1, ::1, localhost), not %s: anyone who can reach it would be an admin. Listen on 127.0.0.1, or drop --no-auth and give clients tokens (`troupe token create NAME --scope ...`)",
			ErrUnsafeListen, o.Listen)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, fmt.Errorf("--tls-cert and --tls-key go together: give both (the certificate and its private key, PEM)")
	}
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert %s --tls-key %s: %w", o.TLSCert, o.TLSKey, err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	}
	if !loopback && !o.AllowInsecureHTTP {
		return nil, fmt.Errorf("%w: --listen %s is not a loopback address and bearer tokens would cross the network in clear text; give --tls-cert FILE --tls-key FILE, or --allow-insecure-http if (and only if) a TLS-terminating proxy is in front, or listen on 127.0.0.1",
			ErrUnsafeListen, o.Listen)
	}
	return nil, nil
}
