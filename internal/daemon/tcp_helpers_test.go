package daemon

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/internal/tokens"
)

// echoPrincipal stands in for MCP: it answers the principal of the request as JSON, and hands a
// new Mcp-Session-Id to a request without one (as an initialize gets).
func echoPrincipal() http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Mcp-Session-Id") == "" {
			w.Header().Set("Mcp-Session-Id", "s-"+strconv.FormatInt(n.Add(1), 10))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(principal.From(r.Context()))
	})
}

// tcpDaemon is a daemon with a TCP listener and the data dir's token store.
type tcpDaemon struct {
	*daemonRun
	url   string // scheme://host:port, from the status
	store *tokens.Store
}

// startTCP runs Serve with o (Listen defaults to 127.0.0.1:0, MCP to echoPrincipal) and reads
// the TCP URL from the status, as `troupe daemon status --json` shows it.
func startTCP(t *testing.T, o Options) *tcpDaemon {
	t.Helper()
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.MCP == nil {
		o.MCP = echoPrincipal()
	}
	if o.DataDir == "" {
		o.DataDir = testutil.ShortDir(t)
	}
	r := startDaemon(t, o)
	st, err := GetStatus(context.Background(), HTTPClient(r.dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Listen) != 2 || st.Listen[0] != "unix:"+SocketPath(r.dir) {
		t.Fatalf("status listen = %q, want the socket and a TCP URL", st.Listen)
	}
	return &tcpDaemon{daemonRun: r, url: st.Listen[1], store: tokens.Open(r.dir)}
}

func (d *tcpDaemon) token(t *testing.T, name string, scope tokens.Scope) string {
	t.Helper()
	tok, _, err := d.store.Create(name, scope)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// call sends method path with the headers (a "Host" entry sets the Host) and returns the status,
// headers and body.
func call(t *testing.T, c *http.Client, method, url string, headers map[string]string) (int, http.Header, string) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequest(method, url, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and returns their paths and
// a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "troupe test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
