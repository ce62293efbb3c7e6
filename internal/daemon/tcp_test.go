package daemon

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/internal/tokens"
)

func TestTCPAuthentication(t *testing.T) {
	d := startTCP(t, Options{})
	good := d.token(t, "ci", tokens.ScopeWrite)
	gone := d.token(t, "old", tokens.ScopeRead)
	if err := d.store.Revoke("old"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		headers    map[string]string
		wantStatus int
		wantAuth   string // WWW-Authenticate
		wantBody   string
	}{
		{"no token", nil, 401, `Bearer realm="troupe"`, "troupe token create"},
		{"malformed", map[string]string{"Authorization": "Basic abc"}, 401, `Bearer realm="troupe", error="invalid_token"`, "malformed"},
		{"unknown", bearer("trp_nope"), 401, `Bearer realm="troupe", error="invalid_token"`, "unknown token"},
		{"revoked", bearer(gone), 401, `Bearer realm="troupe", error="invalid_token"`, "revoked"},
		{"good", bearer(good), 200, "", `"Name":"ci","Scope":"write"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := call(t, nil, "POST", d.url+MCPPath, tc.headers)
			if status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", status, tc.wantStatus, body)
			}
			if got := h.Get("WWW-Authenticate"); got != tc.wantAuth {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.wantAuth)
			}
			if !strings.Contains(body, tc.wantBody) {
				t.Errorf("body = %s, want it to contain %q", body, tc.wantBody)
			}
		})
	}
}

func TestTCPRevokedTokenRefusedWithinASecond(t *testing.T) {
	d := startTCP(t, Options{})
	tok := d.token(t, "soon-gone", tokens.ScopeAdmin)
	if status, _, body := call(t, nil, "POST", d.url+MCPPath, bearer(tok)); status != 200 {
		t.Fatalf("before revoking: %d %s", status, body)
	}
	if err := d.store.Revoke("soon-gone"); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	testutil.Eventually(t, 5*time.Second, "the revoked token is refused", func() bool {
		status, _, _ := call(t, nil, "POST", d.url+MCPPath, bearer(tok))
		return status == http.StatusUnauthorized
	})
	if took := time.Since(revoked); took > time.Second {
		t.Fatalf("revocation took %s to apply, want within 1s", took)
	}
}

func TestTCPHostAndOrigin(t *testing.T) {
	d := startTCP(t, Options{AllowedOrigins: []string{"https://app.example"}, AllowedHosts: []string{"troupe.example"}})
	tok := d.token(t, "web", tokens.ScopeRead)
	port := d.url[strings.LastIndex(d.url, ":")+1:]
	with := func(kv ...string) map[string]string {
		h := bearer(tok)
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"own address", with(), 200},
		{"localhost with the port", with("Host", "localhost:"+port), 200},
		{"[::1] with the port", with("Host", "[::1]:"+port), 200},
		{"bad host", with("Host", "evil.example:"+port), 403},
		{"localhost on another port", with("Host", "localhost:1"), 403},
		{"allowed_hosts, any port", with("Host", "troupe.example:8443"), 200},
		{"own origin", with("Origin", "http://127.0.0.1:"+port), 200},
		{"bad origin", with("Origin", "http://evil.example"), 403},
		{"null origin", with("Origin", "null"), 403},
		{"allowed_origins", with("Origin", "https://app.example"), 200},
		{"bad host before auth", map[string]string{"Host": "evil.example"}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := call(t, nil, "POST", d.url+MCPPath, tc.headers)
			if status != tc.want {
				t.Fatalf("status = %d, want %d (body %s)", status, tc.want, body)
			}
			if tc.want == 403 && !strings.Contains(body, "allowed_") {
				t.Errorf("403 body %s does not say which setting allows it", body)
			}
		})
	}
}

func TestTCPNoAuthIsLocal(t *testing.T) {
	d := startTCP(t, Options{NoAuth: true})
	status, _, body := call(t, nil, "POST", d.url+MCPPath, nil)
	if status != 200 || !strings.Contains(body, `"Name":"local","Scope":"admin"`) {
		t.Fatalf("--no-auth: %d %s, want 200 as local admin", status, body)
	}
	if status, _, _ := call(t, nil, "POST", d.url+MCPPath, map[string]string{"Host": "evil.example"}); status != 403 {
		t.Fatalf("--no-auth with a bad Host: %d, want 403 (Host/Origin still checked)", status)
	}
}

func TestTCPRefusedSettings(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string // in the error; "" accepted
	}{
		{"no-auth on all interfaces", Options{Listen: "0.0.0.0:0", NoAuth: true}, "--no-auth is accepted only on a loopback"},
		{"non-loopback without TLS", Options{Listen: "0.0.0.0:0"}, "--tls-cert FILE --tls-key FILE, or --allow-insecure-http"},
		{"a host name is not loopback", Options{Listen: "example.invalid:0"}, "not a loopback address"},
		{"cert without key", Options{Listen: "127.0.0.1:0", TLSCert: "c.pem"}, "go together"},
		{"non-loopback metrics", Options{MetricsListen: "0.0.0.0:0"}, "--metrics-listen 0.0.0.0:0 is not a loopback address"},
		{"no-auth without listen", Options{NoAuth: true}, "add --listen"},
		{"allow-insecure-http accepted", Options{Listen: "0.0.0.0:0", AllowInsecureHTTP: true}, ""},
		{"localhost accepted", Options{Listen: "localhost:0", NoAuth: true}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkNetwork(tc.o)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want it accepted", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// Serve itself refuses before it takes the lock or opens the socket.
	dir := testutil.ShortDir(t)
	err := Serve(context.Background(), Options{DataDir: dir, Listen: "0.0.0.0:0", NoAuth: true, MCP: echoPrincipal(), Logger: zerolog.Nop()})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Serve with --no-auth on 0.0.0.0: %v, want refused", err)
	}
	if _, err := os.Stat(SocketPath(dir)); !os.IsNotExist(err) {
		t.Fatalf("a refused Serve left a socket: %v", err)
	}
}

func TestTCPAllInterfacesWithAllowInsecureHTTP(t *testing.T) {
	d := startTCP(t, Options{Listen: "0.0.0.0:0", AllowInsecureHTTP: true})
	tok := d.token(t, "proxy", tokens.ScopeRead)
	if status, _, body := call(t, nil, "POST", d.url+MCPPath, bearer(tok)); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
}

func TestTCPTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	d := startTCP(t, Options{TLSCert: certFile, TLSKey: keyFile})
	if !strings.HasPrefix(d.url, "https://127.0.0.1:") {
		t.Fatalf("status URL = %s, want https://127.0.0.1:PORT", d.url)
	}
	tok := d.token(t, "tls", tokens.ScopeAudit)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer c.CloseIdleConnections()
	status, _, body := call(t, c, "POST", d.url+MCPPath, bearer(tok))
	if status != 200 || !strings.Contains(body, `"Name":"tls"`) {
		t.Fatalf("over TLS: %d %s", status, body)
	}
	if _, err := http.Get(d.url + HealthPath); err == nil {
		t.Fatal("a client not trusting the certificate connected")
	}
}

func TestTCPBadTokenRateLimitPerIP(t *testing.T) {
	d := startTCP(t, Options{})
	good := d.token(t, "good", tokens.ScopeRead)
	for i := 0; i < 2*failBurst; i++ {
		if status, _, _ := call(t, nil, "POST", d.url+MCPPath, nil); status != http.StatusUnauthorized {
			t.Fatalf("request %d without a token: %d, want 401 (no token is no guess: not limited)", i, status)
		}
	}
	var got429 bool
	var retryAfter string
	for i := 0; i < failBurst+2; i++ {
		status, h, _ := call(t, nil, "POST", d.url+MCPPath, bearer("trp_guess"+strconv.Itoa(i)))
		if status == http.StatusTooManyRequests {
			got429, retryAfter = true, h.Get("Retry-After")
			if i < failBurst {
				t.Fatalf("429 after %d failures, want the first %d let through", i, failBurst)
			}
			break
		}
	}
	if !got429 || retryAfter == "" {
		t.Fatalf("no 429 with Retry-After after %d bad tokens (got429 %v, Retry-After %q)", failBurst+2, got429, retryAfter)
	}
	// Over its limit, the IP is refused even with a good token: checked before the token.
	if status, _, _ := call(t, nil, "POST", d.url+MCPPath, bearer(good)); status != http.StatusTooManyRequests {
		t.Fatalf("good token from the limited IP: %d, want 429", status)
	}
	// Another client IP (127.0.0.2 reaches 127.0.0.1 on Linux's lo) is not affected.
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	defer other.CloseIdleConnections()
	status, _, body := call(t, other, "POST", d.url+MCPPath, bearer(good))
	if status != 200 {
		t.Fatalf("good token from another IP: %d %s, want 200", status, body)
	}
}

func TestTCPHealthzAndMetrics(t *testing.T) {
	d := startTCP(t, Options{})
	if status, _, body := call(t, nil, "GET", d.url+HealthPath, nil); status != 200 || body != "ok\n" {
		t.Fatalf("/healthz without auth: %d %q, want 200 ok", status, body)
	}
	admin := d.token(t, "admin", tokens.ScopeAdmin)
	if status, _, _ := call(t, nil, "GET", d.url+MetricsPath, bearer(admin)); status != 404 {
		t.Fatalf("/metrics with no Metrics handler: %d, want 404", status)
	}
	if status, _, _ := call(t, nil, "GET", d.url+StatusPath, bearer(admin)); status != 404 {
		t.Fatalf("%s on TCP: %d, want 404 (socket only)", StatusPath, status)
	}
	if status, _, _ := call(t, nil, "POST", d.url+StopPath, bearer(admin)); status != 404 {
		t.Fatalf("%s on TCP: %d, want 404 (socket only)", StopPath, status)
	}

	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "troupe_up 1\n") })
	// A free port for the unauthenticated metrics listener.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := l.Addr().String()
	_ = l.Close()
	m := startTCP(t, Options{Metrics: metrics, MetricsListen: metricsAddr})
	read := m.token(t, "reader", tokens.ScopeRead)
	audit := m.token(t, "auditor", tokens.ScopeAudit)
	admin = m.token(t, "admin", tokens.ScopeAdmin)
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    int
	}{{"no token", nil, 401}, {"read", bearer(read), 403}, {"audit", bearer(audit), 200}, {"admin", bearer(admin), 200}} {
		if status, _, body := call(t, nil, "GET", m.url+MetricsPath, tc.headers); status != tc.want {
			t.Errorf("/metrics with %s: %d %s, want %d", tc.name, status, body, tc.want)
		}
	}
	st, err := GetStatus(context.Background(), HTTPClient(m.dir))
	if err != nil || st.Metrics != "http://"+metricsAddr+MetricsPath {
		t.Errorf("status metrics = %q (%v), want http://%s%s", st.Metrics, err, metricsAddr, MetricsPath)
	}
	if status, _, body := call(t, nil, "GET", "http://"+metricsAddr+MetricsPath, nil); status != 200 || body != "troupe_up 1\n" {
		t.Fatalf("--metrics-listen /metrics: %d %q, want 200 without auth", status, body)
	}
	if status, _, _ := call(t, nil, "POST", "http://"+metricsAddr+MCPPath, nil); status != 404 {
		t.Fatalf("/mcp on --metrics-listen: %d, want 404", status)
	}
}

func TestTCPSessionBoundToItsPrincipal(t *testing.T) {
	d := startTCP(t, Options{})
	alice, bob := d.token(t, "alice", tokens.ScopeWrite), d.token(t, "bob", tokens.ScopeAdmin)
	status, h, _ := call(t, nil, "POST", d.url+MCPPath, bearer(alice))
	sid := h.Get("Mcp-Session-Id")
	if status != 200 || sid == "" {
		t.Fatalf("initialize: %d, session %q", status, sid)
	}
	withSID := func(tok string) map[string]string { m := bearer(tok); m["Mcp-Session-Id"] = sid; return m }
	if status, _, _ := call(t, nil, "POST", d.url+MCPPath, withSID(alice)); status != 200 {
		t.Fatalf("alice in her session: %d, want 200", status)
	}
	if status, _, _ := call(t, nil, "POST", d.url+MCPPath, withSID(bob)); status != 404 {
		t.Fatalf("bob in alice's session: %d, want 404 as if unknown", status)
	}
	// A session of the socket (the principal local) is not reachable with a token either.
	resp, err := HTTPClient(d.dir).Post(BaseURL+MCPPath, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sid = resp.Header.Get("Mcp-Session-Id")
	if status, _, _ := call(t, nil, "POST", d.url+MCPPath, withSID(bob)); sid == "" || status != 404 {
		t.Fatalf("bob (admin) in the socket's session %q: %d, want 404", sid, status)
	}
}

func TestSessionOwnersForgetUnusedSessionsAfterTheirTTL(t *testing.T) {
	clock := testutil.NewClock()
	s := newSessionOwners(time.Hour)
	s.now = clock.Now
	s.record("old", "alice")
	clock.Advance(2 * time.Hour)
	s.record("new", "bob")
	if _, ok := s.owner["old"]; ok {
		t.Fatal("a session unused for longer than the TTL is still remembered")
	}
	if s.use("new", "alice") {
		t.Fatal("alice may use bob's session")
	}
	if !s.use("new", "bob") || !s.use("never-seen", "alice") {
		t.Fatal("the owner, or a session not recorded here, is refused")
	}
}

func TestTCPDrain(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{}, 1)
	slow := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		started <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	d := startTCP(t, Options{MCP: slow})
	tok := d.token(t, "drain", tokens.ScopeWrite)
	inFlight := make(chan string, 1)
	go func() {
		status, _, body := call(t, nil, "POST", d.url+MCPPath, bearer(tok))
		inFlight <- strconv.Itoa(status) + " " + body
	}()
	<-started
	d.cancel() // as SIGTERM does
	testutil.Eventually(t, 5*time.Second, "/healthz says stopping", func() bool {
		status, _, _ := call(t, nil, "GET", d.url+HealthPath, nil)
		return status == http.StatusServiceUnavailable
	})
	status, _, body := call(t, nil, "POST", d.url+MCPPath, bearer(tok))
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "stopping") {
		t.Fatalf("a new call while draining: %d %s, want 503", status, body)
	}
	close(release)
	if got := <-inFlight; got != "200 finished" {
		t.Fatalf("the call in flight: %s, want 200 finished", got)
	}
	if err := d.wait(t, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
