package browser

import (
	"fmt"
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
	if strings.ContainsAny(c.Name, ";=, \t\r\n") {
		return fmt.Errorf("%w: cookie name %q contains a character cookies cannot have (; = , or space)", ErrBadRequest, c.Name)
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
