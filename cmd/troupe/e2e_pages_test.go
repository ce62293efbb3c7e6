package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// webSite is the local site the page tests browse, served by the test process.
func webSite(t *testing.T) string {
	t.Helper()
	page := func(title, body string) string {
		return "<!doctype html><html><head><title>" + title + "</title></head><body>" + body + "</body></html>"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("Home", `<h1>Welcome</h1><p>See <a href="/about">about</a>.</p>
<table><thead><tr><th>Fruit</th><th>Qty</th></tr></thead><tbody><tr><td>apple</td><td>3</td></tr></tbody></table>`))
	})
	mux.HandleFunc("/about", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, page("About", "<p>about us</p>")) })
	mux.HandleFunc("/setcookie", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: r.FormValue("name"), Value: r.FormValue("value"), Path: "/"})
		fmt.Fprint(w, page("Set", "<p>cookie set</p>"))
	})
	mux.HandleFunc("/echo-cookies", func(w http.ResponseWriter, r *http.Request) {
		var names []string
		for _, c := range r.Cookies() {
			names = append(names, c.Name+"="+c.Value)
		}
		sort.Strings(names)
		fmt.Fprint(w, page("Cookies", "<p>cookies: "+html.EscapeString(strings.Join(names, ";"))+"</p>"))
	})
	mux.HandleFunc("/login-later", func(w http.ResponseWriter, r *http.Request) {
		// A login as many sites do it: the click starts a fetch a little later, whose response
		// sets the session cookie; the page does not change.
		fmt.Fprint(w, page("Login", `<button id="login" onclick="setTimeout(() => fetch('/api/login'), 800)">Log in</button>`))
	})
	mux.HandleFunc("/api/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "logged-in", Path: "/", MaxAge: 3600})
		fmt.Fprint(w, `{"ok":true,"token":"tok-42"}`)
	})
	mux.HandleFunc("/spa", func(w http.ResponseWriter, r *http.Request) {
		// A single-page app: the click logs in 0.8 s later with a fetch whose response sets the
		// session cookie and whose body's token the app keeps in localStorage. At load, before
		// anything else, it says whether it has both.
		fmt.Fprint(w, `<!doctype html><html><head><script>
document.title = localStorage.getItem('token') === 'tok-42' && document.cookie.includes('session=logged-in') ? 'logged in' : 'logged out';
</script></head><body><button id="login" onclick="setTimeout(() => fetch('/api/login').then(r => r.json()).then(j => localStorage.setItem('token', j.token)), 800)">Log in</button></body></html>`)
	})
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("Form", `<form action="/submit" method="post"><input id="q" name="q"><button id="go">Go</button></form>`))
	})
	mux.HandleFunc("/submit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("Thanks", "<p>Thanks, "+html.EscapeString(r.FormValue("q"))+"</p>"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// pageText reads a page's content in a format, failing the test on an error.
func (s *troupeProc) pageText(pageID, format string) string {
	s.t.Helper()
	return s.ok("page_content", map[string]any{"page_id": pageID, "format": format})["text"].(string)
}

// closedPort is a local port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestE2EPagesWithRealChromium(t *testing.T) {
	site := webSite(t)
	s := startServer(t, t.TempDir(), "TROUPE_LOG_LEVEL=warn")
	s.ok("create_session", map[string]any{"session_id": "alice"})
	s.ok("create_session", map[string]any{"session_id": "bob"})

	// A cookie the server sets is seen in its session only.
	p := s.ok("open_page", map[string]any{"session_id": "alice", "url": site + "/setcookie?name=login&value=alice"})
	if p["page_id"] != "alice/page-1" || p["title"] != "Set" {
		t.Fatalf("open_page = %v", p)
	}
	s.ok("navigate_page", map[string]any{"page_id": "alice/page-1", "url": site + "/echo-cookies"})
	if got := s.pageText("alice/page-1", "text"); got != "cookies: login=alice" {
		t.Fatalf("alice sends %q, want her login", got)
	}
	s.ok("open_page", map[string]any{"session_id": "bob", "name": "b", "url": site + "/echo-cookies"})
	if got := s.pageText("bob/b", "text"); got != "cookies:" {
		t.Fatalf("bob sends %q, want no cookie of alice's", got)
	}
	s.ok("set_cookies", map[string]any{"session_id": "bob", "cookies": []any{map[string]any{"name": "tok", "value": "b0b", "url": site + "/"}}})
	s.ok("navigate_page", map[string]any{"page_id": "bob/b", "url": site + "/echo-cookies"})
	if got := s.pageText("bob/b", "text"); got != "cookies: tok=b0b" {
		t.Fatalf("bob sends %q after set_cookies", got)
	}
	ck := s.ok("get_cookies", map[string]any{"session_id": "alice", "url": site + "/"})
	if cs := ck["cookies"].([]any); len(cs) != 1 || cs[0].(map[string]any)["value"] != "alice" {
		t.Fatalf("alice's cookies = %v", ck)
	}

	// Markdown keeps tables and makes links absolute.
	s.ok("navigate_page", map[string]any{"page_id": "alice/page-1", "url": site + "/"})
	md := s.pageText("alice/page-1", "markdown")
	if !strings.Contains(md, "| Fruit | Qty |") || !strings.Contains(md, "| apple | 3") || !strings.Contains(md, "("+site+"/about)") {
		t.Fatalf("markdown lost the table or the absolute link:\n%s", md)
	}

	// The screenshot is a PNG.
	shot := s.call("screenshot_page", map[string]any{"page_id": "alice/page-1"})
	var decoded bool
	for _, c := range shot.Content {
		if img, ok := c.(mcp.ImageContent); ok && img.MIMEType == "image/png" {
			data, err := base64.StdEncoding.DecodeString(img.Data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			decoded = true
		}
	}
	if shot.IsError || !decoded {
		t.Fatalf("screenshot_page = %s, want a PNG image", resultText(shot))
	}

	// A form filled and submitted.
	s.ok("open_page", map[string]any{"session_id": "alice", "name": "form", "url": site + "/form"})
	s.ok("page_action", map[string]any{"page_id": "alice/form", "action": "fill", "selector": "#q", "text": "troupe"})
	act := s.ok("page_action", map[string]any{"page_id": "alice/form", "action": "click", "selector": "#go"})
	if act["navigated"] != true || act["title"] != "Thanks" {
		t.Fatalf("submit = %v", act)
	}
	if got := s.pageText("alice/form", "text"); got != "Thanks, troupe" {
		t.Fatalf("after submit the page says %q", got)
	}

	// crawl_url in a session carries its cookies; without one it carries none.
	if cr := s.ok("crawl_url", map[string]any{"url": site + "/echo-cookies", "session_id": "alice", "format": "text"}); cr["text"] != "cookies: login=alice" {
		t.Fatalf("crawl in alice = %v", cr)
	}
	if cr := s.ok("crawl_url", map[string]any{"url": site + "/echo-cookies", "format": "text"}); cr["text"] != "cookies:" {
		t.Fatalf("throwaway crawl = %v", cr)
	}

	// close_page removes the page; the session keeps its cookies.
	s.ok("close_page", map[string]any{"page_id": "alice/form"})
	if kids := s.ok("get_session", map[string]any{"session_id": "alice"})["children"].([]any); len(kids) != 1 {
		t.Fatalf("children after close_page = %v", kids)
	}

	// Refused and unreachable URLs.
	for _, u := range []string{"file:///etc/passwd", "javascript:alert(1)", "data:text/html,<b>x</b>", "not a url", "chrome://settings"} {
		s.fails("open_page", map[string]any{"session_id": "alice", "url": u})
		s.fails("navigate_page", map[string]any{"page_id": "alice/page-1", "url": u})
	}
	// Link-local addresses (cloud metadata) are refused with a tool error that says why.
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/"} {
		for tool, args := range map[string]map[string]any{
			"open_page":     {"session_id": "alice", "url": u},
			"navigate_page": {"page_id": "alice/page-1", "url": u},
			"crawl_url":     {"url": u},
		} {
			if msg := s.fails(tool, args); !strings.Contains(msg, "link-local") {
				t.Fatalf("%s at %s: %q, want a refusal naming link-local", tool, u, msg)
			}
		}
	}
	down := fmt.Sprintf("http://127.0.0.1:%d/", closedPort(t))
	if msg := s.fails("open_page", map[string]any{"session_id": "alice", "url": down}); !strings.Contains(msg, "could not be loaded") {
		t.Fatalf("unreachable host: %q", msg)
	}
	if msg := s.fails("crawl_url", map[string]any{"url": down}); !strings.Contains(msg, "ERR_CONNECTION_REFUSED") {
		t.Fatalf("unreachable crawl: %q", msg)
	}
}

func TestE2EPagesAndCookiesSurviveRestart(t *testing.T) {
	site, dir := webSite(t), t.TempDir()
	s := startServer(t, dir, "TROUPE_LOG_LEVEL=warn")
	s.ok("create_session", map[string]any{"session_id": "w"})
	s.ok("open_page", map[string]any{"session_id": "w", "name": "p", "url": site + "/setcookie?name=login&value=yes"})
	s.ok("navigate_page", map[string]any{"page_id": "w/p", "url": site + "/echo-cookies?after=login"})
	s.stop()

	s = startServer(t, dir, "TROUPE_LOG_LEVEL=warn")
	var page map[string]any
	eventually(t, 30*time.Second, "the page re-opens", func() bool {
		kids := s.ok("get_session", map[string]any{"session_id": "w"})["children"].([]any)
		page = kids[0].(map[string]any)
		return len(kids) == 1 && page["status"] == "open" && page["busy"] == false
	})
	if page["url"] != site+"/echo-cookies?after=login" {
		t.Fatalf("page after restart = %v, want it at its last URL", page)
	}
	if got := s.pageText("w/p", "text"); got != "cookies: login=yes" {
		t.Fatalf("after restart the page sends %q, want the login cookie", got)
	}
}

// browserPID finds the Chromium that a server with this data dir runs: the process whose
// --user-data-dir lies under it and that is not one of Chromium's helpers (--type=…).
func browserPID(t *testing.T, dataDir string) int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		args := strings.Split(string(data), "\x00")
		var ours, helper bool
		for _, a := range args {
			ours = ours || strings.HasPrefix(a, "--user-data-dir="+dataDir)
			helper = helper || strings.HasPrefix(a, "--type=")
		}
		if ours && !helper {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			return pid
		}
	}
	return 0
}

func TestE2EChromiumKilledIsRelaunched(t *testing.T) {
	site, dir := webSite(t), t.TempDir()
	s := startServer(t, dir, "TROUPE_LOG_LEVEL=warn")
	s.ok("create_session", map[string]any{"session_id": "k"})
	s.ok("open_page", map[string]any{"session_id": "k", "name": "a", "url": site + "/setcookie?name=login&value=kept"})
	s.ok("navigate_page", map[string]any{"page_id": "k/a", "url": site + "/echo-cookies"})
	s.ok("open_page", map[string]any{"session_id": "k", "name": "b", "url": site + "/about"})

	pid := browserPID(t, dir)
	if pid == 0 {
		t.Fatal("no Chromium found with a user-data dir under the test's data dir")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "chromium gone", func() bool { return !alive(pid) })

	if got := s.pageText("k/a", "text"); got != "cookies: login=kept" {
		t.Fatalf("after the crash the page sends %q, want it re-opened with the login", got)
	}
	if again := browserPID(t, dir); again == 0 || again == pid {
		t.Fatalf("chromium not relaunched (pid %d, was %d)", again, pid)
	}
	eventually(t, 20*time.Second, "the other page re-opens", func() bool {
		for _, c := range s.ok("get_session", map[string]any{"session_id": "k"})["children"].([]any) {
			if m := c.(map[string]any); m["id"] == "k/b" {
				return m["status"] == "open" && m["busy"] == false && m["url"] == site+"/about"
			}
		}
		return false
	})
	if got := s.pageText("k/b", "text"); got != "about us" {
		t.Fatalf("page b after the crash says %q", got)
	}
}
