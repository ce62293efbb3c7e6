package browser

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Policy says which URLs pages may open. The zero Policy allows http and https to any host.
//
// Host entries match the host and all its subdomains ("example.com" matches example.com and
// www.example.com; a leading "*." or "." is accepted and means the same); IP addresses match
// exactly; ports are not part of an entry. A host on DenyHosts is refused even when it is also
// on AllowHosts.
//
// Whatever the policy, link-local addresses (169.254.0.0/16, fe80::/10: cloud metadata) are
// refused, in every form a browser reads an IP address in, and so are the addresses on
// DenyAddrs: troupe's own listeners ("127.0.0.1:7777"; an entry on a loopback or unspecified
// address covers every loopback name at that port). Chromium's own control channel has no
// address at all: troupe drives it over a pipe (pipe.go).
//
// The policy is checked on the URL asked for and on where the page ends up after a navigation
// or an action (a redirect or a link to a refused host leaves the page at about:blank); it does
// not filter the page's subresources.
type Policy struct {
	AllowSchemes []string `json:"allow_schemes,omitempty" toml:"allow_schemes"` // default: http, https
	AllowHosts   []string `json:"allow_hosts,omitempty" toml:"allow_hosts"`     // empty: every host
	DenyHosts    []string `json:"deny_hosts,omitempty" toml:"deny_hosts"`
	// DenyAddrs are host:port addresses refused whatever the lists say: troupe adds the
	// addresses it listens on.
	DenyAddrs []string `json:"deny_addrs,omitempty" toml:"-"`
}

// blankURL is the empty page; it is always allowed.
const blankURL = "about:blank"

// CheckURL parses raw and checks it against the policy. It returns ErrBadURL for a URL that
// cannot be opened as written and ErrURLNotAllowed for one the policy refuses; both messages
// say what to do. about:blank is always allowed.
func CheckURL(raw string, p Policy) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, fmt.Errorf("%w: the URL is empty: give a full URL such as https://example.com/", ErrBadURL)
	}
	if s == blankURL {
		return &url.URL{Scheme: "about", Opaque: "blank"}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q cannot be parsed (%v): give a full URL such as https://example.com/", ErrBadURL, raw, unwrapURLError(err))
	}
	if u.Scheme == "" || looksLikeHostPort(u) {
		return nil, fmt.Errorf("%w: %q has no scheme: write it in full, e.g. https://%s", ErrBadURL, raw, strings.TrimPrefix(s, "//"))
	}
	scheme := strings.ToLower(u.Scheme)
	if !schemeAllowed(scheme, p.AllowSchemes) {
		return nil, fmt.Errorf("%w: %q uses the scheme %q, which is refused: only %s URLs can be opened",
			ErrURLNotAllowed, raw, scheme, strings.Join(allowedSchemes(p.AllowSchemes), " and "))
	}
	host := normalizeHost(u.Hostname())
	if host != "" {
		if err := checkAddr(u, host, p); err != nil {
			return nil, err // whatever the scheme
		}
	}
	if scheme != "http" && scheme != "https" {
		return u, nil // a scheme the operator allowed on purpose; no host rules apply
	}
	if host == "" {
		return nil, fmt.Errorf("%w: %q has no host: write it in full, e.g. https://example.com/", ErrBadURL, raw)
	}
	if hostListed(host, p.DenyHosts) {
		return nil, fmt.Errorf("%w: the host %q is on the browser deny list; ask the operator to change the policy if it is needed", ErrURLNotAllowed, host)
	}
	if len(p.AllowHosts) > 0 && !hostListed(host, p.AllowHosts) {
		return nil, fmt.Errorf("%w: the host %q is not on the browser allow list (%s)", ErrURLNotAllowed, host, strings.Join(p.AllowHosts, ", "))
	}
	return u, nil
}

// looksLikeHostPort catches "localhost:8080", which parses as the scheme "localhost".
func looksLikeHostPort(u *url.URL) bool {
	if u.Opaque == "" {
		return false
	}
	port, _, _ := strings.Cut(u.Opaque, "/")
	return port != "" && strings.Trim(port, "0123456789") == ""
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func allowedSchemes(list []string) []string {
	if len(list) == 0 {
		return []string{"http", "https"}
	}
	return list
}

func schemeAllowed(scheme string, list []string) bool {
	return slices.ContainsFunc(allowedSchemes(list), func(s string) bool {
		return strings.EqualFold(strings.TrimSuffix(s, ":"), scheme)
	})
}

func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// hostListed reports whether host matches an entry: the entry itself or, for names, a subdomain.
func hostListed(host string, list []string) bool {
	for _, e := range list {
		e = normalizeHost(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(e), "*"), "."))
		if e == "" {
			continue
		}
		if host == e {
			return true
		}
		if net.ParseIP(e) == nil && strings.HasSuffix(host, "."+e) {
			return true
		}
	}
	return false
}
