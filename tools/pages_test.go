package tools

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/actors"
	"github.com/troupe-dev/troupe/internal/browser"
)

// pageClient is a client whose server has a fake browser serving two pages.
func pageClient(t *testing.T) (*client.Client, *browser.Fake) {
	t.Helper()
	fake := browser.NewFake(browser.Policy{})
	fake.Serve("https://site.test/", browser.FakeDoc{Title: "Home", HTML: "<h1>Hi</h1><p>" + strings.Repeat("word ", 100) + "</p>",
		Elements: map[string]string{"#q": "<input id=q>"}, Links: map[string]string{"a": "https://site.test/next"}})
	fake.Serve("https://site.test/next", browser.FakeDoc{Title: "Next", HTML: "<p>next</p>", SetCookies: []browser.Cookie{{Name: "seen", Value: "1"}}})
	c := newClient(t, func(o *actors.Options) { o.Browser = fake })
	t.Cleanup(func() { _ = fake.Close() })
	return c, fake
}

func TestPageToolsRoundTrip(t *testing.T) {
	c, fake := pageClient(t)
	mustOK(t, call(t, c, "create_session", `{"session_id":"s"}`))
	p := mustOK(t, call(t, c, "open_page", `{"session_id":"s","url":"https://site.test/","name":"main"}`))
	if p["page_id"] != "s/main" || p["url"] != "https://site.test/" || p["title"] != "Home" {
		t.Fatalf("open_page = %v", p)
	}
	got := mustOK(t, call(t, c, "page_content", `{"page_id":"s/main","max_bytes":100}`))
	if got["truncated"] != true || got["next_offset"] != 100.0 || !strings.HasPrefix(got["text"].(string), "# Hi") {
		t.Fatalf("page_content window = %v", got)
	}
	rest := call(t, c, "page_content", `{"page_id":"s/main","offset":100}`)
	if r := mustOK(t, rest); r["truncated"] != false || !strings.Contains(resultText(rest), "word") {
		t.Fatalf("page_content from offset 100 = %v", r)
	}

	shot := call(t, c, "screenshot_page", `{"page_id":"s/main","full_page":true}`)
	mustOK(t, shot)
	var img *mcp.ImageContent
	for _, ct := range shot.Content {
		if ic, ok := ct.(mcp.ImageContent); ok {
			img = &ic
		}
	}
	if img == nil || img.MIMEType != "image/png" {
		t.Fatalf("screenshot content = %+v, want an image/png", shot.Content)
	}
	data, err := base64.StdEncoding.DecodeString(img.Data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("the screenshot does not decode as PNG: %v", err)
	}

	act := mustOK(t, call(t, c, "page_action", `{"page_id":"s/main","action":"click","selector":"a"}`))
	if act["navigated"] != true || act["url"] != "https://site.test/next" {
		t.Fatalf("page_action click = %v", act)
	}
	ck := mustOK(t, call(t, c, "get_cookies", `{"session_id":"s","url":"https://site.test/"}`))
	if cs := ck["cookies"].([]any); len(cs) != 1 || cs[0].(map[string]any)["name"] != "seen" {
		t.Fatalf("get_cookies = %v", ck)
	}
	set := mustOK(t, call(t, c, "set_cookies", `{"session_id":"s","cookies":[{"name":"tok","value":"v","url":"https://site.test/"}]}`))
	if len(set["cookies"].([]any)) != 2 {
		t.Fatalf("set_cookies = %v", set)
	}
	nav := mustOK(t, call(t, c, "navigate_page", `{"page_id":"s/main","url":"https://site.test/"}`))
	if nav["status"] != 200.0 || nav["title"] != "Home" {
		t.Fatalf("navigate_page = %v", nav)
	}
	cr := mustOK(t, call(t, c, "crawl_url", `{"url":"https://site.test/next","format":"text"}`))
	if cr["text"] != "next" {
		t.Fatalf("crawl_url = %v", cr)
	}
	if r := mustOK(t, call(t, c, "close_page", `{"page_id":"s/main"}`)); r["closed"] != true || fake.Pages() != 0 {
		t.Fatalf("close_page = %v, %d tabs left", r, fake.Pages())
	}
	mustFail(t, call(t, c, "page_content", `{"page_id":"s/main"}`), "no page")
}

func TestPageToolsRefuseBadInput(t *testing.T) {
	c, fake := pageClient(t)
	mustOK(t, call(t, c, "create_session", `{"session_id":"s"}`))
	for _, tc := range []struct{ tool, args, want string }{
		{"open_page", `{"session_id":"s","url":"file:///etc/passwd"}`, "only http and https"},
		{"open_page", `{"session_id":"s","url":"javascript:alert(1)"}`, "refused"},
		{"open_page", `{"session_id":"s","url":"data:text/html,x"}`, "refused"},
		{"open_page", `{"session_id":"s","url":"example.com"}`, "no scheme"},
		{"open_page", `{"url":"https://site.test/"}`, "session_id is required"},
		{"navigate_page", `{"page_id":"s/p","url":"http://"}`, "no host"},
		{"page_content", `{"page_id":"s/p","format":"pdf"}`, "unknown format"},
		{"page_content", `{"page_id":"s/p","offset":-1}`, "must not be negative"},
		{"page_action", `{"page_id":"s/p","action":"hover"}`, "unknown action"},
		{"crawl_url", `{"url":"chrome://settings"}`, "refused"},
		{"set_cookies", `{"session_id":"s","cookies":[{"name":"a","value":"b"}]}`, "needs a url or a domain"},
		{"set_cookies", `{"session_id":"s","cookies":[{"name":"a b","value":"b","domain":"x.test"}]}`, "cannot have"},
		{"set_cookies", `{"session_id":"s","cookies":[]}`, "at least one"},
		{"get_cookies", `{"session_id":"s","url":"ftp://x"}`, "http or https"},
		{"create_session", `{"session_id":"bad","url":"file:///etc"}`, "only http and https"},
		{"create_session", `{"session_id":"bad","cookies":[{"name":"a","value":"b","url":"https://x.test/","same_site":"sometimes"}]}`, "same_site"},
		{"close_page", `{"page_id":"nonsense"}`, "<session_id>/<name>"},
	} {
		mustFail(t, call(t, c, tc.tool, tc.args), tc.want)
	}
	mustFail(t, call(t, c, "get_session", `{"session_id":"bad"}`), "no session")
	if fake.Contexts() != 0 {
		t.Fatalf("refused calls opened %d browser contexts", fake.Contexts())
	}
}

func TestCreateSessionWithURLAndCookies(t *testing.T) {
	c, fake := pageClient(t)
	s := mustOK(t, call(t, c, "create_session",
		`{"session_id":"web","url":"https://site.test/","cookies":[{"name":"login","value":"yes","url":"https://site.test/"}]}`))
	kids := s["children"].([]any)
	if len(kids) != 1 || kids[0].(map[string]any)["url"] != "https://site.test/" || s["page"].(map[string]any)["page_id"] != "web/page-1" {
		t.Fatalf("create_session with url = %v", s)
	}
	ck := mustOK(t, call(t, c, "get_cookies", `{"session_id":"web"}`))
	if cs := ck["cookies"].([]any); len(cs) != 1 || cs[0].(map[string]any)["value"] != "yes" {
		t.Fatalf("cookies given at creation = %v", ck)
	}

	// A page that cannot load does not undo the session: it says why next to it.
	fake.FailNext(browser.FakeNavigate, browser.ErrUnreachable)
	r := call(t, c, "create_session", `{"session_id":"down","url":"https://down.test/"}`)
	s = mustOK(t, r)
	if s["session_id"] != "down" || s["page_error"] == nil || !strings.Contains(resultText(r), "could not be opened") {
		t.Fatalf("create_session with an unreachable url = %v / %s", s, resultText(r))
	}
}

func TestPageToolHints(t *testing.T) {
	for _, tl := range All(Deps{}) {
		if tl.Family != "pages" {
			continue
		}
		a := tl.Tool.Annotations
		web := map[string]bool{"open_page": true, "navigate_page": true, "page_content": true, "page_action": true,
			"screenshot_page": true, "crawl_url": true}
		if *a.OpenWorldHint != web[tl.Tool.Name] {
			t.Errorf("%s: openWorld = %v, want %v", tl.Tool.Name, *a.OpenWorldHint, web[tl.Tool.Name])
		}
	}
}
