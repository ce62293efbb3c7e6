package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/internal/view"
)

// The two hosts of the live view's tests (e2e_view_test.go): a page playing an MCP Apps host,
// and a stand-in for the daemon's TCP listener serving the view top-level.

// appsHost serves a page playing an MCP Apps host: it embeds the view in a sandboxed iframe
// (scripts only: an opaque origin), answers ui/initialize with a host context, sends the input
// and the result of a get_session call, and forwards the view's tools/call to the daemon through
// the test's MCP client (POST /call).
func appsHost(t *testing.T, s *troupeProc) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, appsHostPage)
	})
	mux.HandleFunc("GET /view.html", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(view.HTML()) })
	mux.HandleFunc("POST /call", func(w http.ResponseWriter, r *http.Request) {
		var req mcp.CallToolRequest
		if err := json.NewDecoder(r.Body).Decode(&req.Params); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
		defer cancel()
		res, err := s.c.CallTool(ctx, req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(res)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

const appsHostPage = `<!doctype html><html><head><title>MCP Apps host</title>
<style>html,body{margin:0;background:#0e1014;overflow:hidden}iframe{border:0;width:100%;height:600px;display:block}</style></head>
<body><iframe id="view" sandbox="allow-scripts"></iframe><script>
window.hostLog = [];
const frame = document.getElementById('view');
let initialized = false;
const send = (msg) => frame.contentWindow.postMessage(Object.assign({jsonrpc: '2.0'}, msg), '*');
async function callTool(params) {
  const r = await fetch('/call', {method: 'POST', body: JSON.stringify(params)});
  if (!r.ok) throw new Error(await r.text());
  return r.json();
}
window.addEventListener('message', async (e) => {
  if (e.source !== frame.contentWindow) return;
  const m = e.data;
  window.hostLog.push({method: m.method, initialized});
  if (m.method === 'ui/initialize') {
    window.viewLoaded = true; // the view's own document, not the iframe's first about:blank
    send({id: m.id, result: {protocolVersion: '2026-01-26', hostInfo: {name: 'test host', version: '1'},
      hostCapabilities: {serverTools: {}}, hostContext: {theme: 'dark', displayMode: 'inline', platform: 'desktop',
      containerDimensions: {width: 1200}, toolInfo: {tool: {name: 'get_session', inputSchema: {type: 'object'}}}}}});
  } else if (m.method === 'ui/notifications/initialized') {
    initialized = true;
    const args = {session_id: 'live'};
    send({method: 'ui/notifications/tool-input', params: {arguments: args}});
    send({method: 'ui/notifications/tool-result', params: await callTool({name: 'get_session', arguments: args})});
  } else if (m.method === 'ui/notifications/size-changed') {
    window.lastSize = m.params;
    frame.style.height = m.params.height + 'px';
  } else if (m.method === 'tools/call') {
    try { send({id: m.id, result: await callTool(m.params)}); }
    catch (err) { send({id: m.id, error: {code: -32603, message: String(err)}}); }
  } else if (m.id !== undefined) {
    send({id: m.id, error: {code: -32601, message: 'method not found'}});
  }
});
fetch('/view.html').then(r => r.text()).then(html => { frame.srcdoc = html; });
</script></body></html>`

// frontDoor stands in for the daemon's TCP listener serving the view at "/" (internal/daemon):
// the view, /mcp proxied to a real daemon, and approvals from a list of its own.
type frontDoor struct {
	srv       *httptest.Server
	signedOut atomic.Bool
	loggedOut atomic.Bool

	mu       sync.Mutex
	decision string
	mcp      []http.Header // the headers of the POSTs to /mcp
}

func newFrontDoor(t *testing.T, daemon string) *frontDoor {
	t.Helper()
	target, err := url.Parse(daemon)
	if err != nil {
		t.Fatal(err)
	}
	f := &frontDoor{}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Del("Origin") // the daemon checks Origin against its own address
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(view.HTML())
	})
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		if f.signedOut.Load() {
			http.Error(w, "sign in", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			f.mu.Lock()
			f.mcp = append(f.mcp, r.Header.Clone())
			f.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		f.loggedOut.Store(true)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>sign in</title><form method="post" action="/login"></form>`)
	})
	mux.HandleFunc("GET /approvals", func(w http.ResponseWriter, r *http.Request) {
		if f.signedOut.Load() {
			http.Error(w, "sign in", http.StatusUnauthorized)
			return
		}
		list := []map[string]any{}
		if f.decided() == "" {
			list = append(list, map[string]any{"id": "ap-1", "session_id": "live", "tool": "delete_agent",
				"arguments": map[string]any{"agent_id": "live/notes"}, "requested_at": time.Now().Add(-time.Minute).Format(time.RFC3339), "principal": "laptop"})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
	})
	mux.HandleFunc("POST /approvals/{id}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.decision = fmt.Sprintf("%s header %s type %s", body, r.Header.Get("X-Troupe-Approval"), r.Header.Get("Content-Type"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *frontDoor) decided() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.decision
}

// checkMCPHeaders checks what the view sent to /mcp: both answer types accepted, and after the
// initialize every request in the MCP session the daemon gave, at the negotiated version.
func (f *frontDoor) checkMCPHeaders(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.mcp) < 3 {
		t.Fatalf("%d POSTs to /mcp, want initialize, notifications/initialized and calls", len(f.mcp))
	}
	for i, h := range f.mcp {
		if a := h.Get("Accept"); !strings.Contains(a, "application/json") || !strings.Contains(a, "text/event-stream") {
			t.Errorf("POST %d: Accept %q", i, a)
		}
		if i == 0 {
			continue
		}
		if h.Get("Mcp-Session-Id") == "" || h.Get("MCP-Protocol-Version") != "2025-06-18" {
			t.Errorf("POST %d: Mcp-Session-Id %q MCP-Protocol-Version %q", i, h.Get("Mcp-Session-Id"), h.Get("MCP-Protocol-Version"))
		}
	}
}
