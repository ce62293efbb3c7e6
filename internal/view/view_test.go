package view

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// walk calls fn on every element of the page.
func walk(t *testing.T, fn func(n *html.Node)) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(HTML()))
	if err != nil {
		t.Fatal(err)
	}
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode {
			fn(n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(doc)
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// The page is one file: its script and style are inline, and nothing in it points outside it
// (an MCP Apps host gives it no network; served by the daemon it needs none but /mcp).
func TestPageIsSelfContained(t *testing.T) {
	scripts := 0
	walk(t, func(n *html.Node) {
		if n.Data == "script" {
			scripts++
			if src, ok := attr(n, "src"); ok {
				t.Errorf("<script src=%q>: the script must be inline", src)
			}
		}
		for _, key := range []string{"src", "href", "action", "srcset", "poster", "data"} {
			v, ok := attr(n, key)
			if !ok {
				continue
			}
			// Allowed: data: URLs, and the daemon's sign-in page (same origin).
			if !strings.HasPrefix(v, "data:") && v != "/login" {
				t.Errorf("<%s %s=%q>: no external reference is allowed", n.Data, key, v)
			}
		}
	})
	if scripts != 1 {
		t.Errorf("%d <script> elements, want 1", scripts)
	}
	if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).Find(HTML()); m != nil {
		t.Errorf("the page names an external address: %q", m)
	}
	if m := regexp.MustCompile(`@import|url\(`).Find(HTML()); m != nil {
		t.Errorf("the style loads something: %q", m)
	}
}

// Data reaches the page as text nodes only (DESIGN §15): nothing parses a string as HTML.
func TestScriptNeverParsesHTML(t *testing.T) {
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser",
		"createContextualFragment", "eval(", "new Function", "srcdoc"} {
		if bytes.Contains(HTML(), []byte(sink)) {
			t.Errorf("the page uses %s", sink)
		}
	}
}

// The page's own CSP: nothing remote, connections to its own origin only (/mcp and /approvals
// when the daemon serves it; nothing inside an MCP Apps sandbox, whose origin is not troupe's).
func TestPageDeclaresATightCSP(t *testing.T) {
	var csp string
	walk(t, func(n *html.Node) {
		if v, _ := attr(n, "http-equiv"); n.Data == "meta" && strings.EqualFold(v, "Content-Security-Policy") {
			csp, _ = attr(n, "content")
		}
	})
	if csp == "" {
		t.Fatal("no <meta http-equiv=Content-Security-Policy>")
	}
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	for name, want := range map[string]string{
		"default-src": "'none'", "script-src": "'unsafe-inline'", "style-src": "'unsafe-inline'", "img-src": "data:",
		"connect-src": "'self'", "base-uri": "'none'", "form-action": "'none'",
	} {
		if got := directives[name]; got != want {
			t.Errorf("CSP %s = %q, want %q (whole policy: %s)", name, got, want, csp)
		}
	}
}
