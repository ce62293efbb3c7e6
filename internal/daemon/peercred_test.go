package daemon

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestSocketClientsAreLocalAndTheSameUser(t *testing.T) {
	r := startDaemon(t, Options{MCP: echoPrincipal()})
	resp, err := HTTPClient(r.dir).Post(BaseURL+MCPPath, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"Name":"local","Scope":"admin"`) {
		t.Fatalf("socket /mcp: %d %s, want 200 as the principal local", resp.StatusCode, b)
	}
	// The peer check lets this process's own user in (another uid needs root to test).
	c, err := HTTPClient(r.dir).Transport.(*http.Transport).DialContext(t.Context(), "unix", SocketPath(r.dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, err := sameUser(c); !ok || err != nil {
		t.Fatalf("sameUser of our own connection = %v, %v; want true", ok, err)
	}
}
