package browser

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// indexHTML is the test site's home page; the Fake serves it too.
const indexHTML = `<!doctype html><html><head><title>Home</title></head><body>
<h1>Welcome home</h1>
<p>See <a href="/about">the about page</a> and <a href="sub/page?x=1">a relative link</a>.</p>
<table><thead><tr><th>Name</th><th>Qty</th></tr></thead>
<tbody><tr><td>apple</td><td>3</td></tr><tr><td>pear</td><td>5</td></tr></tbody></table>
<div class="note">first note</div><div class="note">second note</div>
<script>document.title = "Home";</script>
</body></html>`

const formHTML = `<!doctype html><html><head><title>Form</title></head><body>
<form action="/submit" method="post">
<input id="q" name="q" value="old">
<select id="color" name="color"><option value="r">Red</option><option value="g">Green</option></select>
<button id="go" type="submit">Go</button>
</form>
<button id="hidden" style="display:none">hidden</button>
<a id="slow" href="/hang">slow</a></body></html>`

// loginLaterBody logs in the way many sites do: a click starts a fetch a little later, and
// the fetch's response sets the session cookie; the page itself does not change.
const loginLaterBody = `<button id="login" onclick="setTimeout(() => fetch('/api/login'), 800)">Log in</button>`

// popupBody opens new tabs in the ways pages do, and counts clicks on a plain button.
const popupBody = `<a id="blank" target="_blank" href="/about">about, in a new tab</a>
<button id="open" onclick="window.open('/about?from=open')">open a window</button>
<button id="count" onclick="this.textContent = +this.textContent + 1">0</button>`

// site is the local web site the integration tests browse.
type site struct {
	*httptest.Server
	hangCanceled atomic.Int32 // requests to /hang the browser gave up on
}

func newSite(t testing.TB) *site {
	s := &site{}
	quit := make(chan struct{})
	mux := http.NewServeMux()
	page := func(title, body string) string {
		return "<!doctype html><html><head><title>" + title + "</title></head><body>" + body + "</body></html>"
	}
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, indexHTML) })
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
		fmt.Fprint(w, page("Cookies", "<p id=\"c\">cookies: "+html.EscapeString(strings.Join(names, ";"))+"</p>"))
	})
	mux.HandleFunc("/login-later", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("Login", loginLaterBody))
	})
	mux.HandleFunc("/api/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "logged-in", Path: "/", MaxAge: 3600})
		fmt.Fprint(w, `{"ok":true}`)
	})
	// A single-page app that keeps its token in localStorage: the title says what it found at
	// load, before any other script could write it.
	mux.HandleFunc("/spa", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><script>
document.title = 'token=' + (localStorage.getItem('token') || 'none');
</script></head><body><button id="login" onclick="localStorage.setItem('token', 'abc123')">log in</button>
<button id="logout" onclick="localStorage.clear()">log out</button></body></html>`)
	})
	mux.HandleFunc("/popup", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, page("Popups", popupBody)) })
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, formHTML) })
	mux.HandleFunc("/submit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("Thanks", "<p>Thanks, "+html.EscapeString(r.FormValue("q"))+" ("+html.EscapeString(r.FormValue("color"))+")</p>"))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.FormValue("n"))
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "<p>line %06d héllo wörld</p>\n", i)
		}
		fmt.Fprint(w, page("Big", b.String()))
	})
	mux.HandleFunc("/tall", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("Tall", `<div style="height:3000px;background:linear-gradient(red,blue)">tall</div>`))
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, page("Not here", "<p>nothing</p>"))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.FormValue("to"), http.StatusFound)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select { // never answers; the browser has to give up
		case <-r.Context().Done():
			s.hangCanceled.Add(1)
		case <-quit:
		}
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(quit) }) // runs first: unblocks /hang before Close waits for it
	return s
}

func (s *site) url(path string) string { return s.URL + path }
