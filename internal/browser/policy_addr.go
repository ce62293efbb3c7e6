package browser

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// linkLocal are the addresses no page may open, whatever the policy: 169.254.0.0/16 and
// fe80::/10 are where cloud metadata services answer (credentials for the machine).
var linkLocal = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
}

// checkAddr refuses a link-local host and one of the addresses on DenyAddrs (troupe's own
// listeners). host is normalized (lower case, no brackets, no trailing dot).
func checkAddr(u *url.URL, host string, p Policy) error {
	ip, isIP := webIP(host)
	if isIP {
		for _, pre := range linkLocal {
			if pre.Contains(ip) {
				return fmt.Errorf("%w: %s is a link-local address (%s), where cloud metadata services answer; pages may not open it",
					ErrURLNotAllowed, host, pre)
			}
		}
	}
	if len(p.DenyAddrs) == 0 {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443"}[strings.ToLower(u.Scheme)]
	}
	for _, a := range p.DenyAddrs {
		dh, dp, err := net.SplitHostPort(strings.TrimSpace(a))
		if err != nil || dp != port {
			continue
		}
		dh = normalizeHost(dh)
		dip, dIsIP := webIP(dh)
		switch {
		case dh == host,
			isIP && dIsIP && dip == ip,
			// A listener on a loopback or every address answers on every loopback name.
			dIsIP && (dip.IsLoopback() || dip.IsUnspecified()) && isLoopbackHost(host, ip, isIP):
			return fmt.Errorf("%w: %s is one of troupe's own listeners; pages may not open it", ErrURLNotAllowed, net.JoinHostPort(host, port))
		}
	}
	return nil
}

func isLoopbackHost(host string, ip netip.Addr, isIP bool) bool {
	if isIP {
		return ip.IsLoopback() || ip.IsUnspecified()
	}
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// webIP reads host as the browser does: an IPv6 address, or an IPv4 address in any of the
// forms the URL standard accepts (http://2852039166/ and http://0xa9.0xfe.0xa9.0xfe/ both
// open 169.254.169.254). IPv4-mapped IPv6 addresses are unmapped.
func webIP(host string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap(), true
	}
	parts := strings.Split(host, ".")
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, s := range parts {
		n, ok := webIPv4Number(s)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v += n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// webIPv4Number parses one part of an IPv4 address: decimal, octal (leading 0) or hex (0x).
func webIPv4Number(s string) (uint64, bool) {
	base := 10
	switch {
	case s == "":
		return 0, false
	case len(s) > 1 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
		if s == "" {
			return 0, true
		}
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	n, err := strconv.ParseUint(s, base, 32)
	return n, err == nil
}
