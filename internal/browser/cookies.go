package browser

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-rod/rod/lib/proto"
)

// Cookie is a browser cookie as sessions store it and MCP clients see it.
type Cookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	Domain   string  `json:"domain,omitempty"` // ".example.com" also covers subdomains; "example.com" is host-only
	Path     string  `json:"path,omitempty"`
	Expires  float64 `json:"expires,omitempty"` // Unix seconds; 0 for a session cookie
	HTTPOnly bool    `json:"http_only,omitempty"`
	Secure   bool    `json:"secure,omitempty"`
	SameSite string  `json:"same_site,omitempty"` // Strict, Lax or None
	// URL, when setting, stands for Domain, Path and Secure: the cookie is set as that page would.
	URL string `json:"url,omitempty"`
}

// ValidateCookie checks what a browser needs to set a cookie and normalizes SameSite; its
// errors wrap ErrBadRequest and name the cookie and the fix.
func ValidateCookie(c *Cookie) error {
	if c.Name == "" {
		return fmt.Errorf("%w: a cookie needs a name", ErrBadRequest)
	}
	if strings.ContainsAny(c.Name, ";=, \t\r\n") || hasControl(c.Name) {
		return fmt.Errorf("%w: cookie name %q contains a character cookies cannot have (; = , space or a control character)", ErrBadRequest, c.Name)
	}
	if strings.ContainsRune(c.Value, ';') || hasControl(c.Value) {
		return fmt.Errorf("%w: the value of cookie %q contains a character cookies cannot have (; or a control character such as NUL or tab); "+
			"encode it, e.g. with percent-encoding", ErrBadRequest, c.Name)
	}
	if n := len(c.Name) + len(c.Value); n > MaxCookieBytes {
		return fmt.Errorf("%w: cookie %q has a name and value of %d bytes together, over the %d a browser keeps; keep large data elsewhere",
			ErrBadRequest, c.Name, n, MaxCookieBytes)
	}
	if err := checkCookieAttrs(c); err != nil {
		return err
	}
	if c.URL == "" && c.Domain == "" {
		return fmt.Errorf("%w: cookie %q needs a url or a domain, e.g. \"url\": \"https://example.com/\"", ErrBadRequest, c.Name)
	}
	if _, err := ParseCookieURL(c.URL); err != nil {
		return fmt.Errorf("%w: cookie %q has the url %q; give a full http or https URL", ErrBadRequest, c.Name, c.URL)
	}
	switch strings.ToLower(c.SameSite) {
	case "":
	case "strict":
		c.SameSite = "Strict"
	case "lax":
		c.SameSite = "Lax"
	case "none":
		c.SameSite = "None"
	default:
		return fmt.Errorf("%w: cookie %q has same_site %q; use Strict, Lax or None", ErrBadRequest, c.Name, c.SameSite)
	}
	return nil
}

// MaxCookieBytes is the most a cookie's name and value may hold together, and
// MaxCookieAttrBytes the most its path may hold: Chromium refuses more (RFC 6265bis, 5.6).
const (
	MaxCookieBytes     = 4096
	MaxCookieAttrBytes = 1024
)

// hasControl reports whether s holds a control character, which no cookie field may.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// checkCookieAttrs refuses a path and a domain a browser would refuse, or would take without
// keeping the cookie (a domain with a port, a scheme or a space; one not in ASCII).
func checkCookieAttrs(c *Cookie) error {
	if c.Path != "" && (!strings.HasPrefix(c.Path, "/") || len(c.Path) > MaxCookieAttrBytes || strings.ContainsRune(c.Path, ';') || hasControl(c.Path)) {
		return fmt.Errorf("%w: cookie %q has the path %q; give one that starts with \"/\", of at most %d bytes, without ';' or control characters",
			ErrBadRequest, c.Name, c.Path, MaxCookieAttrBytes)
	}
	if c.Domain == "" {
		return nil
	}
	host := strings.TrimPrefix(c.Domain, ".")
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return nil
	}
	ok := host != "" && len(host) <= 253
	for _, label := range strings.Split(host, ".") {
		ok = ok && label != "" && len(label) <= 63
		for _, r := range label {
			ok = ok && (r == '-' || r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
		}
	}
	if !ok {
		return fmt.Errorf("%w: cookie %q has the domain %q, which is not a host name; give one such as \"example.com\" "+
			"(or \".example.com\" for its subdomains too): no scheme, port, path or spaces, and an international name in its xn-- form",
			ErrBadRequest, c.Name, c.Domain)
	}
	return nil
}

// checkKept says what a set of cookies lost, which the browser does silently: Chromium keeps
// at most 180 cookies per site and evicts the oldest beyond (measured: 181 leave 150), the
// context's earlier cookies included, and drops a cookie whose domain does not fit its URL.
// before and after are the context's cookies around the set. A cookie set with a past expiry
// is a deletion and is not looked for; an earlier cookie with the name of one set may have
// been replaced and is not looked for either.
func checkKept(before, set, after []Cookie, now time.Time) error {
	live := func(c Cookie) bool { return c.Expires == 0 || c.Expires >= float64(now.Unix()) }
	have := make(map[[2]string]bool, len(after))
	kept := make(map[[3]string]bool, len(after))
	for _, c := range after {
		have[[2]string{c.Name, c.Value}] = true
		kept[[3]string{c.Name, c.Domain, c.Path}] = true
	}
	var lost []string
	setNames := make(map[string]bool, len(set))
	n := 0
	for _, c := range set {
		setNames[c.Name] = true
		if !live(c) {
			continue
		}
		n++
		if !have[[2]string{c.Name, c.Value}] {
			lost = append(lost, c.Name)
		}
	}
	evicted := 0
	for _, c := range before {
		if live(c) && !setNames[c.Name] && !kept[[3]string{c.Name, c.Domain, c.Path}] {
			lost = append(lost, c.Name)
			evicted++
		}
	}
	if len(lost) == 0 {
		return nil
	}
	names := strings.Join(lost[:min(len(lost), 5)], ", ")
	if len(lost) > 5 {
		names += ", …"
	}
	return fmt.Errorf("%w: the browser did not keep %d of the %d cookies set and evicted %d it held (%s): Chromium keeps at most "+
		"180 cookies per site (a domain and its subdomains) and evicts the oldest beyond, and drops a cookie whose domain does not "+
		"fit its url; set fewer cookies for one site (get_cookies shows what it holds)", ErrBadRequest, len(lost)-evicted, n, evicted, names)
}

// usableCookies returns normalized copies of the cookies ValidateCookie accepts and tells drop
// of the others. A session's saved cookies were checked when they were set, but one saved
// before a rule was added (a domain that is not a host name) must not lock the session out of
// its browser context at every start.
func usableCookies(in []Cookie, drop func(Cookie, error)) []Cookie {
	out := make([]Cookie, 0, len(in))
	for _, c := range in {
		if err := ValidateCookie(&c); err != nil {
			drop(c, err)
			continue
		}
		out = append(out, c)
	}
	return out
}

// validateCookies checks every cookie and returns normalized copies.
func validateCookies(in []Cookie) ([]Cookie, error) {
	out := make([]Cookie, len(in))
	for i, c := range in {
		if err := ValidateCookie(&c); err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func toCookieParams(cs []Cookie) []*proto.NetworkCookieParam {
	out := make([]*proto.NetworkCookieParam, 0, len(cs))
	for _, c := range cs {
		out = append(out, &proto.NetworkCookieParam{
			Name:     c.Name,
			Value:    c.Value,
			URL:      c.URL,
			Domain:   c.Domain,
			Path:     c.Path,
			Secure:   c.Secure,
			HTTPOnly: c.HTTPOnly,
			SameSite: proto.NetworkCookieSameSite(c.SameSite),
			Expires:  proto.TimeSinceEpoch(c.Expires),
		})
	}
	return out
}

func fromProtoCookies(cs []*proto.NetworkCookie) []Cookie {
	out := make([]Cookie, 0, len(cs))
	for _, c := range cs {
		exp := float64(c.Expires)
		if c.Session || exp < 0 {
			exp = 0
		}
		out = append(out, Cookie{
			Name:     c.Name,
			Value:    c.Value,
			Domain:   c.Domain,
			Path:     c.Path,
			Expires:  exp,
			HTTPOnly: c.HTTPOnly,
			Secure:   c.Secure,
			SameSite: string(c.SameSite),
		})
	}
	return out
}

// ParseCookieURL parses a URL cookies are set or read for: a full http or https URL. ""
// (none: every cookie, or a cookie given by its domain) gives nil. The one parser of cookie
// URLs: set_cookies, get_cookies and Context.Cookies all check with it. The error wraps
// ErrBadURL.
func ParseCookieURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: cannot read cookies for %q: give a full http or https URL, or none for every cookie", ErrBadURL, raw)
	}
	return u, nil
}

// cookiesFor returns the cookies a request to u would carry (RFC 6265 §5.4: domain, path,
// secure, expiry).
func cookiesFor(cs []Cookie, u *url.URL, now time.Time) []Cookie {
	host := normalizeHost(u.Hostname())
	reqPath := u.EscapedPath()
	if reqPath == "" {
		reqPath = "/"
	}
	var out []Cookie
	for _, c := range cs {
		if c.Secure && u.Scheme != "https" {
			continue
		}
		if c.Expires > 0 && float64(now.Unix()) >= c.Expires {
			continue
		}
		if !domainMatch(host, c.Domain) || !pathMatch(reqPath, c.Path) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func domainMatch(host, domain string) bool {
	d := normalizeHost(domain)
	if strings.HasPrefix(d, ".") {
		d = d[1:]
		return host == d || strings.HasSuffix(host, "."+d)
	}
	return host == d
}

func pathMatch(reqPath, cookiePath string) bool {
	if cookiePath == "" || cookiePath == "/" || reqPath == cookiePath {
		return true
	}
	if !strings.HasPrefix(reqPath, cookiePath) {
		return false
	}
	return strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
}

// defaultCookiePath is RFC 6265 §5.1.4's default path of a URL.
func defaultCookiePath(u *url.URL) string {
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		return "/"
	}
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
