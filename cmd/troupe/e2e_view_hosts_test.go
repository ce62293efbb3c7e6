package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
