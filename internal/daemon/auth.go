package daemon

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/internal/tokens"
)

// Authenticator turns a bearer token into its record (tokens.Verifier).
type Authenticator interface {
	Authenticate(token string) (tokens.Record, error)
}

// tokenHint says what a client without a valid token can do.
const tokenHint = "send Authorization: Bearer <token>; on the daemon's machine, `troupe token create NAME --scope read|write|audit|admin` prints a new token (`troupe token list` shows the existing ones)"

// writeJSONError answers status with a JSON body {"error": code, "message": msg}.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "message": msg})
}

// clientIP is the address the request came from (without port).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// guard wraps every TCP handler but /healthz: first the bad-token rate limit (cheap, before any
// work), then Host/Origin, then the bearer token, whose principal goes into the request context.
func (t *tcpSide) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		if wait := t.limiter.retryAfter(ip); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			writeJSONError(w, http.StatusTooManyRequests, "too_many_failures",
				"too many requests with a bad token from "+ip+"; wait and retry with a valid token ("+tokenHint+")")
			return
		}
		if why := t.hosts.check(r); why != "" {
			writeJSONError(w, http.StatusForbidden, "forbidden", why)
			return
		}
		if t.noAuth {
			next.ServeHTTP(w, r.WithContext(principal.With(r.Context(), principal.Local)))
			return
		}
		p, problem := t.authenticate(r)
		if problem != "" && r.Method == http.MethodGet && r.URL.Path == "/" && r.Header.Get("Authorization") == "" {
			// A person opening the view: the sign-in form, not a JSON error.
			http.Redirect(w, r, LoginPath, http.StatusSeeOther)
			return
		}
		if problem != "" {
			challenge := `Bearer realm="troupe"`
			// Only a token given and wrong counts against the address: one sent without a token
			// (a probe, a client about to ask for one) guesses nothing.
			if r.Header.Get("Authorization") != "" {
				challenge += `, error="invalid_token"`
				if t.limiter.fail(ip) {
					t.d.o.Logger.Warn().Str("ip", ip).Msg("daemon: too many bad tokens from this address; answering 429 until it slows down")
				}
			}
			w.Header().Set("WWW-Authenticate", challenge)
			writeJSONError(w, http.StatusUnauthorized, "unauthorized", problem+"; "+tokenHint)
			return
		}
		next.ServeHTTP(w, r.WithContext(principal.With(r.Context(), p)))
	})
}

// authenticate returns the principal of r's bearer token, or of the browser sign-in its cookie
// names (the live view), or what is wrong.
func (t *tcpSide) authenticate(r *http.Request) (principal.Principal, string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if c, err := r.Cookie(CookieName); err == nil {
			token, ok := t.signins.token(c.Value)
			if !ok {
				return principal.Principal{}, "the browser's sign-in expired; sign in again at " + LoginPath
			}
			return t.check(token)
		}
		return principal.Principal{}, "no token"
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return principal.Principal{}, "malformed Authorization header (want: Bearer <token>)"
	}
	return t.check(token)
}

// check returns the principal of a token, or what is wrong with it.
func (t *tcpSide) check(token string) (principal.Principal, string) {
	rec, err := t.auth.Authenticate(token)
	switch {
	case errors.Is(err, tokens.ErrRevoked):
		return principal.Principal{}, "this token was revoked"
	case err != nil:
		return principal.Principal{}, "unknown token"
	}
	return principal.Principal{Name: rec.Name, Scope: principal.Scope(rec.Scope)}, ""
}
