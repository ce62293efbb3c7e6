package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// TestLiveViewSignInAndApprovals: the daemon's / in real Chromium with tokens. Without a sign-in
// it shows the form; a wrong token is refused; the right one opens the view, which calls tools
// with the token's scope; a delete waiting for a person (require_approval) is approved with the
// view's button, and the audit log names the token as approver; revoking the token signs the
// browser out, and Sign out ends the sign-in.
func TestLiveViewSignInAndApprovals(t *testing.T) {
	dir := testutil.ShortDir(t)
	if err := os.WriteFile(filepath.Join(dir, "troupe.toml"),
		[]byte("require_approval = [\"delete_session\"]\nmax_wait_seconds = 60\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startTCPDaemon(t, dir)
	person := d.token(t, "person", "admin")
	model := d.client(t, d.token(t, "model", "write"), "model-client")
	ctx := context.Background()
	for _, call := range []struct {
		tool string
		args map[string]any
	}{
		{"create_session", map[string]any{"session_id": "door", "name": "front door"}},
		{"create_agent", map[string]any{"session_id": "door", "name": "notes", "preset": "cat"}},
	} {
		if r, err := callHTTP(ctx, model, call.tool, call.args); err != nil || r.IsError {
			t.Fatalf("%s: %v %s", call.tool, err, resultText(r))
		}
	}
	b := testChromium(t)
	shots := artifactsDir(t)

	// Signed out: / is the sign-in form.
	p := openTab(t, b, d.base+"/")
	waitFor(t, p, "the sign-in form", `() => location.pathname === '/login' && !!document.querySelector('input[name=token]')`)
	save(t, filepath.Join(shots, "live-view-sign-in.png"), screenshot(t, p))

	signIn := func(token string) {
		t.Helper()
		p.MustElement(`input[name=token]`).MustInput(token)
		wait := p.MustWaitNavigation()
		p.MustElement(`button[type=submit]`).MustClick()
		wait()
	}
	// A wrong token: refused, still the form, no cookie.
	signIn("troupe_not-a-token")
	waitFor(t, p, "the refusal", `() => location.pathname === '/login' && (document.querySelector('.err') || {}).textContent.includes('refused')`)
	if cookies := p.MustCookies(d.base); len(cookies) != 0 {
		t.Fatalf("a wrong token left cookies: %v", cookies)
	}

	// The right token: the view, as principal person (an admin sees the model's session).
	signIn(person)
	waitFor(t, p, "the session list", `() => location.pathname === '/' && !!document.querySelector('[data-session="door"]')`)
	cookies := p.MustCookies(d.base)
	if len(cookies) != 1 || !cookies[0].HTTPOnly || cookies[0].SameSite != proto.NetworkCookieSameSiteStrict || strings.Contains(cookies[0].Value, person) {
		t.Fatalf("the sign-in cookie: %+v", cookies)
	}
	if got := eval(t, p, `() => document.cookie`); got != "" {
		t.Fatalf("the page's JavaScript sees cookies %q", got)
	}
	click(t, p, `[data-session="door"]`)
	waitFor(t, p, "the agent", `() => !!document.querySelector('[data-child="door/notes"]')`)

	// The model's delete waits for a person; the view shows it, and its button approves it.
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		r, err := callHTTP(ctx, model, "delete_session", map[string]any{"session_id": "door"})
		if err != nil {
			r = mcp.NewToolResultError("protocol error: " + err.Error())
		}
		done <- r
	}()
	approve := `#approvals [data-decision="approve"]`
	deadline := time.Now().Add(30 * time.Second)
	for !has(p, approve) {
		if time.Now().After(deadline) {
			t.Fatal("the view never showed the waiting delete")
		}
		click(t, p, "#refresh")
		time.Sleep(300 * time.Millisecond)
	}
	if got := eval(t, p, `() => document.getElementById('approvals').textContent`); !strings.Contains(got, "delete_session") || !strings.Contains(got, "model") {
		t.Errorf("the approvals panel says %q, want the tool and who asked", got)
	}
	save(t, filepath.Join(shots, "live-view-approval.png"), screenshot(t, p))
	select {
	case r := <-done:
		t.Fatalf("the delete answered before anyone approved: %s", resultText(r))
	default:
	}
	click(t, p, approve)
	select {
	case r := <-done:
		if r.IsError {
			t.Fatalf("the approved delete failed: %s", resultText(r))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the approved delete did not run")
	}
	// The timeline shows the wait and the decision as steps of the delete.
	deadline = time.Now().Add(30 * time.Second)
	steps := `() => [...document.querySelectorAll('#timeline > li.op[data-tool="delete_session"] .step')].map(s => s.dataset.step).join(' ')`
	for !strings.Contains(eval(t, p, steps), "approval.request approval.decide") {
		if time.Now().After(deadline) {
			t.Fatalf("the timeline's delete steps %q lack the approval", eval(t, p, steps))
		}
		click(t, p, "#refresh")
		time.Sleep(300 * time.Millisecond)
	}
	save(t, filepath.Join(shots, "live-view-approved.png"), screenshot(t, p))
	q, err := callHTTP(ctx, d.client(t, person, "auditor"), "audit_query", map[string]any{"action": "approval.decide", "since": "1h"})
	if err != nil || q.IsError {
		t.Fatalf("audit_query: %v %s", err, resultText(q))
	}
	if got, _ := json.Marshal(q.StructuredContent); !strings.Contains(string(got), `"approver":"view:person"`) {
		t.Fatalf("the decision in the audit log: %s", got)
	}

	// Revoked: the next request is a 401 and the view says so.
	if out, code := troupeCLI(t, dir, "token", "revoke", "person"); code != 0 {
		t.Fatalf("troupe token revoke: exit %d: %s", code, out)
	}
	deadline = time.Now().Add(15 * time.Second)
	for eval(t, p, `() => String(document.getElementById('signedout').hidden)`) != "false" {
		if time.Now().After(deadline) {
			t.Fatal("the view did not say it was signed out after the token was revoked")
		}
		click(t, p, "#refresh")
		time.Sleep(300 * time.Millisecond)
	}

	// Sign out: back to the form, and / asks again.
	signIn2 := d.token(t, "person2", "read")
	p2 := openTab(t, b, d.base+"/login")
	p2.MustElement(`input[name=token]`).MustInput(signIn2)
	wait := p2.MustWaitNavigation()
	p2.MustElement(`button[type=submit]`).MustClick()
	wait()
	waitFor(t, p2, "the view", `() => location.pathname === '/' && !document.getElementById('signout').hidden`)
	click(t, p2, "#signout")
	waitFor(t, p2, "the sign-in form", `() => location.pathname === '/login'`)
	if err := p2.Navigate(d.base + "/"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p2, "the sign-in form again", `() => location.pathname === '/login'`)
}

// has reports whether the page has an element matching selector now.
func has(p *rod.Page, selector string) bool {
	ok, _, err := p.Has(selector)
	return err == nil && ok
}
