package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/approval"
	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/internal/tokens"
)

// browser is an HTTP client with a cookie jar that does not follow redirects (to see them).
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestViewNeedsASignIn(t *testing.T) {
	d := startTCP(t, Options{View: []byte("<!doctype html><title>the view</title>")})
	tok := d.token(t, "alice", tokens.ScopeAdmin)
	b := browser(t)

	// Without a sign-in, / sends a person to the form; the form is served without a token.
	code, h, _ := call(t, b, "GET", d.url+"/", nil)
	if code != http.StatusSeeOther || h.Get("Location") != LoginPath {
		t.Fatalf("GET / signed out: %d %q, want 303 to %s", code, h.Get("Location"), LoginPath)
	}
	code, h, body := call(t, b, "GET", d.url+LoginPath, nil)
	if code != 200 || !strings.Contains(body, `name="token"`) || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("GET /login: %d %s", code, body)
	}

	// A wrong token is refused, with the form again, and no cookie.
	resp, body := postForm(t, b, d.url+LoginPath, url.Values{"token": {"troupe_wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "refused: unknown token") || len(resp.Cookies()) != 0 {
		t.Fatalf("a wrong token: %d cookies %v body %s", resp.StatusCode, resp.Cookies(), body)
	}
	resp, _ = postForm(t, b, d.url+LoginPath, url.Values{"token": {""}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an empty token: %d", resp.StatusCode)
	}

	// The right one sets an HttpOnly, SameSite=Strict cookie that is not the token.
	resp, _ = postForm(t, b, d.url+LoginPath, url.Values{"token": {tok}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cs := resp.Cookies()
	if len(cs) != 1 || cs[0].Name != CookieName || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode || cs[0].Value == tok || strings.Contains(cs[0].Value, tok) {
		t.Fatalf("cookie: %+v", cs)
	}
	code, h, body = call(t, b, "GET", d.url+"/", nil)
	if code != 200 || !strings.Contains(body, "the view") || h.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("GET / signed in: %d %s", code, body)
	}
	// The cookie authenticates MCP calls as the token's principal.
	code, _, body = call(t, b, "POST", d.url+MCPPath, map[string]string{"Content-Type": "application/json"})
	var p principal.Principal
	if code != 200 || json.Unmarshal([]byte(body), &p) != nil || p.Name != "alice" || p.Scope != principal.Admin {
		t.Fatalf("/mcp with the cookie: %d %s", code, body)
	}

	// Revoking the token signs its browsers out.
	if err := d.store.Revoke("alice"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		code, _, _ := call(t, b, "POST", d.url+MCPPath, map[string]string{"Content-Type": "application/json"})
		return code == http.StatusUnauthorized
	})

	// Signing out forgets the sign-in.
	tok2 := d.token(t, "bob", tokens.ScopeRead)
	postForm(t, b, d.url+LoginPath, url.Values{"token": {tok2}})
	if code, _, _ := call(t, b, "GET", d.url+"/", nil); code != 200 {
		t.Fatalf("signed in as bob: %d", code)
	}
	resp, _ = postForm(t, b, d.url+LogoutPath, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if code, _, _ := call(t, b, "GET", d.url+"/", nil); code != http.StatusSeeOther {
		t.Fatalf("after logout GET / = %d, want the sign-in", code)
	}
}

func TestViewSignInRefusesOtherSites(t *testing.T) {
	d := startTCP(t, Options{View: []byte("v")})
	tok := d.token(t, "alice", tokens.ScopeAdmin)
	req, _ := http.NewRequest("POST", d.url+LoginPath, strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := browser(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("a sign-in posted by another site: %d %v", resp.StatusCode, resp.Cookies())
	}
}

func TestApprovalsOverTheViewAndTheSocket(t *testing.T) {
	broker := approval.New(0, nil)
	d := startTCP(t, Options{View: []byte("v"), Approvals: broker})
	adminTok := d.token(t, "root", tokens.ScopeAdmin)
	aliceTok := d.token(t, "alice", tokens.ScopeWrite)
	readTok := d.token(t, "watcher", tokens.ScopeRead)
	mine := broker.Open("alice-1", approval.Request{Tool: "delete_session", SessionID: "s1", Principal: "alice"})
	theirs := broker.Open("bob-1", approval.Request{Tool: "delete_agent", SessionID: "s2", Principal: "bob"})

	list := func(tok string) []approval.Request {
		code, _, body := call(t, nil, "GET", d.url+ViewApprovalsPath, bearer(tok))
		var out []approval.Request
		if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("GET /approvals: %d %s", code, body)
		}
		return out
	}
	if got := list(aliceTok); len(got) != 1 || got[0].ID != mine.ID() {
		t.Fatalf("alice sees %+v, want only her own", got)
	}
	if got := list(adminTok); len(got) != 2 {
		t.Fatalf("the admin sees %+v, want both", got)
	}
	if got := list(readTok); len(got) != 0 {
		t.Fatalf("a read token sees %+v", got)
	}
	decide := func(tok, id, decision string, withHeader bool) (int, string) {
		h := bearer(tok)
		if withHeader {
			h[ApprovalHeader] = "1"
		}
		req, _ := http.NewRequest("POST", d.url+ViewApprovalsPath+"/"+id, strings.NewReader(`{"decision":"`+decision+`"}`))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := decide(adminTok, mine.ID(), "approve", false); code != http.StatusForbidden {
		t.Fatalf("a decision without %s: %d", ApprovalHeader, code)
	}
	if code, body := decide(aliceTok, theirs.ID(), "approve", true); code != http.StatusNotFound {
		t.Fatalf("alice deciding bob's approval: %d %s", code, body)
	}
	if code, body := decide(readTok, mine.ID(), "approve", true); code != http.StatusNotFound {
		t.Fatalf("a read token deciding: %d %s", code, body)
	}
	if code, body := decide(aliceTok, mine.ID(), "maybe", true); code != http.StatusBadRequest || !strings.Contains(body, "approve") {
		t.Fatalf("a bad decision: %d %s", code, body)
	}
	if code, body := decide(aliceTok, mine.ID(), "deny", true); code != 200 {
		t.Fatalf("alice denying her own: %d %s", code, body)
	}
	if dec, ok := mine.Decision(); !ok || dec.Approve || dec.Approver != "view:alice" {
		t.Fatalf("decision %+v %v", dec, ok)
	}
	if code, body := decide(adminTok, mine.ID(), "approve", true); code != http.StatusConflict {
		t.Fatalf("deciding twice: %d %s", code, body)
	}

	// Over the socket, a list is answered; a decision from this very process (the daemon runs in
	// it here) is refused as one from the daemon's own tree. troupe approve from a terminal is
	// tested end to end in cmd/troupe.
	c := HTTPClient(d.dir)
	pending, err := ListApprovals(context.Background(), c)
	if err != nil || len(pending) != 1 || pending[0].ID != theirs.ID() {
		t.Fatalf("ListApprovals: %+v %v", pending, err)
	}
	if _, err := Decide(context.Background(), c, theirs.ID(), true); err == nil || !strings.Contains(err.Error(), "descends from the daemon") {
		t.Fatalf("a decision from the daemon's own process tree: %v", err)
	}
	if _, ok := theirs.Decision(); ok {
		t.Fatal("a refused decision counted")
	}
}

func TestDescendantsOfTheDaemonAreSeen(t *testing.T) {
	start := func(env ...string) int {
		cmd := exec.Command("sleep", "30")
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		// Until its execve, the child's /proc environ is still this process's.
		waitFor(t, func() bool {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
			return strings.HasPrefix(string(b), "sleep\x00")
		})
		return cmd.Process.Pid
	}
	plain := start("PATH=/usr/bin:/bin")
	if agent, why := descendsFromOrTagged(plain, os.Getpid(), "TROUPE_TEST_TOKEN"); !agent || !strings.Contains(why, "descends from") {
		t.Fatalf("a child of this process: %v %q", agent, why)
	}
	if agent, why := descendsFromOrTagged(plain, -1, "TROUPE_TEST_TOKEN"); agent {
		t.Fatalf("an untagged process under another ancestor: %v %q", agent, why)
	}
	tagged := start("PATH=/usr/bin:/bin", "TROUPE_TEST_TOKEN=abc")
	if agent, why := descendsFromOrTagged(tagged, -1, "TROUPE_TEST_TOKEN"); !agent || !strings.Contains(why, "carries TROUPE_TEST_TOKEN") {
		t.Fatalf("a tagged process: %v %q", agent, why)
	}
	empty := start("PATH=/usr/bin:/bin", "TROUPE_TEST_TOKEN=")
	if agent, _ := descendsFromOrTagged(empty, -1, "TROUPE_TEST_TOKEN"); agent {
		t.Fatal("an empty token counted")
	}
	if agent, _ := descendsFromOrTagged(1, os.Getpid(), "TROUPE_TEST_TOKEN"); agent {
		t.Fatal("init is nobody's descendant")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
