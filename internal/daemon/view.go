package daemon

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/troupe-dev/troupe/internal/approval"
	"github.com/troupe-dev/troupe/internal/principal"
)

// The live view in a browser (DESIGN §15): GET / on the TCP listener serves the same HTML the
// MCP App shows inside a chat, which then speaks MCP to /mcp itself. A browser signs in once
// with a token at /login; the daemon answers with an HttpOnly, SameSite=Strict cookie naming a
// sign-in it keeps in memory (the token never reaches the page's JavaScript). Each request with
// the cookie checks the token again, so a revoked token signs its browsers out.
const (
	// LoginPath shows the sign-in form (GET) and takes a token (POST, form field "token").
	LoginPath = "/login"
	// LogoutPath ends the browser's sign-in (POST).
	LogoutPath = "/logout"
	// CookieName is the sign-in cookie.
	CookieName = "troupe_signin"
	// signinTTL is how long a sign-in lasts.
	signinTTL = 12 * time.Hour
	// maxSignins bounds the sign-ins kept; the oldest goes first.
	maxSignins = 1024
)

// signins maps a cookie to the token it stands for.
type signins struct {
	mu sync.Mutex
	m  map[string]signin
}

type signin struct {
	token   string
	expires time.Time
}

func newSignins() *signins { return &signins{m: map[string]signin{}} }

func (s *signins) add(token string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	id := hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	if len(s.m) >= maxSignins {
		oldest := ""
		for k, v := range s.m {
			if oldest == "" || v.expires.Before(s.m[oldest].expires) {
				oldest = k
			}
		}
		delete(s.m, oldest)
	}
	s.m[id] = signin{token: token, expires: now.Add(signinTTL)}
	return id
}

func (s *signins) token(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok || time.Now().After(v.expires) {
		delete(s.m, id)
		return "", false
	}
	return v.token, true
}

func (s *signins) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// viewRoutes adds the view's routes: / and /approvals behind the guard, /login and /logout
// behind the host check and the bad-token rate limit only.
func (t *tcpSide) viewRoutes(guarded, open *http.ServeMux) {
	guarded.HandleFunc("GET /{$}", t.serveView)
	guarded.HandleFunc("GET "+ViewApprovalsPath, func(w http.ResponseWriter, r *http.Request) {
		p := principal.From(r.Context())
		t.d.servePending(w, func(req approval.Request) bool { return mayDecide(p, req) || p.SeesAll() })
	})
	guarded.HandleFunc("POST "+ViewApprovalsPath+"/{id}", t.d.serveViewDecision)
	open.Handle(LoginPath, t.preAuth(http.HandlerFunc(t.serveLogin)))
	open.Handle("POST "+LogoutPath, t.preAuth(http.HandlerFunc(t.serveLogout)))
}

func (t *tcpSide) serveView(w http.ResponseWriter, r *http.Request) {
	if t.d.o.View == nil {
		http.NotFound(w, r)
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(t.d.o.View)
}

// securityHeaders keeps the daemon's pages out of other sites' frames and off the network.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // "no-referrer" makes Chromium send Origin: null with the sign-in form
}

// preAuth is the part of the guard that comes before a token: the rate limit and Host/Origin.
func (t *tcpSide) preAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		if wait := t.limiter.retryAfter(ip); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			writeJSONError(w, http.StatusTooManyRequests, "too_many_failures", "too many bad tokens from "+ip+"; wait and retry")
			return
		}
		if why := t.hosts.check(r); why != "" {
			writeJSONError(w, http.StatusForbidden, "forbidden", why)
			return
		}
		next.ServeHTTP(w, r)
	})
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>troupe — sign in</title>
<style>
:root{color-scheme:light dark;font-family:system-ui,sans-serif}
body{display:grid;place-items:center;min-height:90vh;margin:0}
form{display:grid;gap:.7rem;width:min(26rem,90vw);padding:1.5rem;border:1px solid #8884;border-radius:10px}
h1{font-size:1.2rem;margin:0}
input{font:inherit;padding:.5rem;border-radius:6px;border:1px solid #8886}
button{font:inherit;padding:.5rem;border-radius:6px;border:0;background:#3a6df0;color:#fff;cursor:pointer}
.err{color:#d33;margin:0}.hint{opacity:.75;font-size:.9rem;margin:0}
code{font-size:.85rem}
</style></head><body>
<form method="post" action="/login">
<h1>troupe — sign in</h1>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
<p class="hint">On the daemon's machine, <code>troupe token create NAME --scope admin</code> prints a token
(scope read to look only). The token stays on this server: the browser keeps a sign-in cookie.</p>
</form></body></html>
`))

// serveLogin shows the form, or checks the token and signs the browser in.
func (t *tcpSide) serveLogin(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		_ = loginPage.Execute(w, map[string]string{})
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		w.WriteHeader(http.StatusBadRequest)
		_ = loginPage.Execute(w, map[string]string{"Error": "Paste a token."})
		return
	}
	if _, problem := t.check(token); problem != "" {
		if t.limiter.fail(clientIP(r)) {
			t.d.o.Logger.Warn().Str("ip", clientIP(r)).Msg("daemon: too many bad tokens from this address; answering 429 until it slows down")
		}
		w.WriteHeader(http.StatusUnauthorized)
		_ = loginPage.Execute(w, map[string]string{"Error": "That token was refused: " + problem + "."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: t.signins.add(token), Path: "/", HttpOnly: true,
		Secure: t.secure, SameSite: http.SameSiteStrictMode, MaxAge: int(signinTTL / time.Second)})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (t *tcpSide) serveLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		t.signins.remove(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: t.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, LoginPath, http.StatusSeeOther)
}
