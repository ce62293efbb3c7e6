package tools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/messages"
)

const (
	pageIDDesc = "Page id: <session_id>/<name>, as open_page and get_session show it."
	formatDesc = "markdown (default: headings, links made absolute, tables kept), text (what a reader sees) or html."
	// pageSlack lets the actors' own page deadline (which covers re-opening a lost browser)
	// answer before the tool gives up waiting.
	pageSlack = 15 * time.Second
)

func pageTools(d Deps) []Tool {
	t := func(tool mcp.Tool, h server.ToolHandlerFunc) Tool {
		return Tool{Family: "pages", ServerTool: server.ServerTool{Tool: tool, Handler: h}}
	}
	return []Tool{
		t(openPageTool(), d.openPage),
		t(navigatePageTool(), d.navigatePage),
		t(pageContentTool(), d.pageContent),
		t(pageActionTool(), d.pageAction),
		t(screenshotPageTool(), d.screenshotPage),
		t(closePageTool(), d.closePage),
		t(crawlURLTool(), d.crawlURL),
		t(setCookiesTool(), d.setCookies),
		t(getCookiesTool(), d.getCookies),
		t(exportBrowserStateTool(), d.exportBrowserState),
		t(importBrowserStateTool(), d.importBrowserState),
	}
}

// askPage is ask with room for the page's own deadline.
func askPage[T any](ctx context.Context, d Deps, msg any) (T, *messages.Error) {
	d.Timeout += pageSlack
	return ask[T](ctx, d, msg)
}

// checkURL refuses, before anything runs, a URL the browser would refuse.
func (d Deps) checkURL(arg, raw string) *messages.Error {
	if _, err := browser.CheckURL(raw, d.URLPolicy); err != nil {
		return messages.Errorf(messages.CodeInvalidArgument, "%s: %v", arg, err)
	}
	return nil
}

func checkFormat(f string) *messages.Error {
	if _, err := browser.ParseFormat(f); err != nil {
		return messages.Errorf(messages.CodeInvalidArgument, "format: %v", err)
	}
	return nil
}

func checkWindow(offset, maxBytes int) *messages.Error {
	if offset < 0 || maxBytes < 0 {
		return messages.Errorf(messages.CodeInvalidArgument, "offset and max_bytes must not be negative")
	}
	return nil
}

func openPageTool() mcp.Tool {
	return newTool("open_page",
		"Open a browser page (a tab) in a session's own browser context, with the session's cookies. "+
			"The page keeps its place across calls and server restarts; read it with page_content, act on it with page_action.",
		hints(false, false, false, true),
		mcp.WithString("session_id", mcp.Required(), mcp.Description(sessionIDDesc), mcp.MaxLength(maxIDChars)),
		mcp.WithString("url", mcp.Description("The http or https URL to load (default: a blank page)."), mcp.MaxLength(maxURLChars)),
		mcp.WithString("name", mcp.Description("The page's name in the session (default page-N). Same rule as session ids."), mcp.MaxLength(maxIDChars)),
	)
}

func (d Deps) openPage(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		SessionID string `json:"session_id"`
		URL       string `json:"url"`
		Name      string `json:"name"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("session_id", a.SessionID); e != nil {
		return toolError(e), nil
	}
	if a.URL != "" {
		if e := d.checkURL("url", a.URL); e != nil {
			return toolError(e), nil
		}
	}
	res, e := askPage[*messages.PageResult](ctx, d, &messages.OpenPage{SessionID: a.SessionID, Name: a.Name, URL: a.URL})
	if r, err := d.answer(ctx, "open_page", e); r != nil || err != nil {
		return r, err
	}
	return structured(res.Page, pageText("Opened page", res.Page.PageID, res.Page.URL, res.Page.Title)), nil
}

func pageText(what, id, url, title string) string {
	if title == "" {
		return fmt.Sprintf("%s %s at %s.", what, id, url)
	}
	return fmt.Sprintf("%s %s at %s (%q).", what, id, url, title)
}

func navigatePageTool() mcp.Tool {
	return newTool("navigate_page", "Load a URL in a page and wait for it to finish loading; answers where the page ended up, its title and HTTP status.",
		hints(false, false, false, true),
		mcp.WithString("page_id", mcp.Required(), mcp.Description(pageIDDesc), mcp.MaxLength(maxChildIDChars)),
		mcp.WithString("url", mcp.Required(), mcp.Description("The http or https URL to load."), mcp.MaxLength(maxURLChars)),
	)
}

func (d Deps) navigatePage(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		PageID string `json:"page_id"`
		URL    string `json:"url"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("page_id", a.PageID); e != nil {
		return toolError(e), nil
	}
	if e := d.checkURL("url", a.URL); e != nil {
		return toolError(e), nil
	}
	res, e := askPage[*messages.NavigatePageResult](ctx, d, &messages.NavigatePage{PageID: a.PageID, URL: a.URL})
	if r, err := d.answer(ctx, "navigate_page", e); r != nil || err != nil {
		return r, err
	}
	out := map[string]any{"page_id": res.PageID, "url": res.URL, "title": res.Title, "status": res.Status}
	return structured(out, pageText("Page", res.PageID, res.URL, res.Title)+fmt.Sprintf(" HTTP status %d.", res.Status)), nil
}

func pageContentTool() mcp.Tool {
	return newTool("page_content",
		"Read a page's content as markdown, text or html: the whole page or the elements matching a CSS selector. "+
			"Large pages come in windows: when truncated is true, call again with offset = next_offset.",
		hints(true, false, true, true),
		mcp.WithString("page_id", mcp.Required(), mcp.Description(pageIDDesc), mcp.MaxLength(maxChildIDChars)),
		mcp.WithString("format", mcp.Description(formatDesc), mcp.Enum("markdown", "text", "html"), mcp.MaxLength(maxEnumChars)),
		mcp.WithString("selector", mcp.Description("A CSS selector: only the matching elements, in document order."), mcp.MaxLength(maxSelectorChars)),
		mcp.WithInteger("offset", mcp.Description("Byte offset into the content, from next_offset (default 0)."), mcp.Min(0), mcp.Max(maxWholeNumber)),
		mcp.WithInteger("max_bytes", mcp.Description("At most this many bytes (default and most: the server's page_content_max_bytes)."), mcp.Min(1), mcp.Max(maxWholeNumber)),
	)
}

func (d Deps) pageContent(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		PageID   string `json:"page_id"`
		Format   string `json:"format"`
		Selector string `json:"selector"`
		Offset   int    `json:"offset"`
		MaxBytes int    `json:"max_bytes"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := firstError(required("page_id", a.PageID), checkFormat(a.Format), checkWindow(a.Offset, a.MaxBytes)); e != nil {
		return toolError(e), nil
	}
	res, e := askPage[*messages.PageContentResult](ctx, d, &messages.PageContent{PageID: a.PageID, Format: a.Format, Selector: a.Selector, Offset: a.Offset, MaxBytes: a.MaxBytes})
	if r, err := d.answer(ctx, "page_content", e); r != nil || err != nil {
		return r, err
	}
	return contentResult(res.PageID, res.Content), nil
}

// contentResult renders page content: the structured window, and the text itself with a
// note on how to read on when it was cut.
func contentResult(pageID string, c *messages.Content) *mcp.CallToolResult {
	out := map[string]any{"url": c.URL, "title": c.Title, "format": c.Format, "text": c.Text, "offset": c.Offset,
		"total": c.Total, "truncated": c.Truncated}
	if pageID != "" {
		out["page_id"] = pageID
	}
	text := c.Text
	if c.Truncated {
		out["next_offset"] = c.NextOffset
		text += fmt.Sprintf("\n\n[bytes %d to %d of %d; read on with offset=%d]", c.Offset, c.NextOffset, c.Total, c.NextOffset)
	}
	return structured(out, text)
}

func firstError(errs ...*messages.Error) *messages.Error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func pageActionTool() mcp.Tool {
	return newTool("page_action",
		"Act on a page: click an element, fill an input with text, press a key (text: Enter, Tab, Control+a, …), or evaluate a JavaScript expression (text) and get its value. "+
			"An action that starts a navigation waits for the new page. "+
			"A new tab the page opens (a target=_blank link, window.open) is closed at once and its address returned in popups: navigate_page to it to follow it.",
		hints(false, true, false, true),
		mcp.WithString("page_id", mcp.Required(), mcp.Description(pageIDDesc), mcp.MaxLength(maxChildIDChars)),
		mcp.WithString("action", mcp.Required(), mcp.Description("click, fill, press or evaluate."), mcp.Enum("click", "fill", "press", "evaluate"), mcp.MaxLength(maxEnumChars)),
		mcp.WithString("selector", mcp.Description("CSS selector of the element (click and fill need one; press sends the key to it when given)."), mcp.MaxLength(maxSelectorChars)),
		mcp.WithString("text", mcp.Description("fill: the value; press: the key; evaluate: the JavaScript expression (at most 262144 characters)."), mcp.MaxLength(maxPageTextChars)),
	)
}

func (d Deps) pageAction(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		PageID   string `json:"page_id"`
		Action   string `json:"action"`
		Selector string `json:"selector"`
		Text     string `json:"text"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := firstError(required("page_id", a.PageID), required("action", a.Action)); e != nil {
		return toolError(e), nil
	}
	switch a.Action {
	case "click", "fill", "press", "evaluate":
	default:
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "unknown action %q: use click, fill, press or evaluate", a.Action)), nil
	}
	res, e := askPage[*messages.PageActionResult](ctx, d, &messages.PageAction{PageID: a.PageID, Action: a.Action, Selector: a.Selector, Text: a.Text})
	if r, err := d.answer(ctx, "page_action", e); r != nil || err != nil {
		return r, err
	}
	out := map[string]any{"page_id": res.PageID, "action": res.Action, "navigated": res.Navigated, "url": res.URL, "title": res.Title}
	text := fmt.Sprintf("Done: %s", res.Action)
	if a.Selector != "" {
		text += fmt.Sprintf(" on %q", a.Selector)
	}
	if res.Value != nil {
		out["value"] = res.Value
		text += fmt.Sprintf(" → %s", res.Value)
	}
	if res.Navigated {
		text += "; the page navigated"
	}
	if len(res.Popups) > 0 {
		out["popups"] = res.Popups
		text += fmt.Sprintf("; the page opened %s in a new tab, which was closed (navigate_page to follow it)", strings.Join(res.Popups, ", "))
	}
	return structured(out, text+". "+pageText("Page", res.PageID, res.URL, res.Title)), nil
}

func screenshotPageTool() mcp.Tool {
	return newTool("screenshot_page", "Take a PNG screenshot of a page: what the window shows, or the whole page.",
		hints(true, false, true, true),
		mcp.WithString("page_id", mcp.Required(), mcp.Description(pageIDDesc), mcp.MaxLength(maxChildIDChars)),
		mcp.WithBoolean("full_page", mcp.Description("The whole page rather than the window (1280×800).")),
	)
}

func (d Deps) screenshotPage(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		PageID   string `json:"page_id"`
		FullPage bool   `json:"full_page"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("page_id", a.PageID); e != nil {
		return toolError(e), nil
	}
	res, e := askPage[*messages.ScreenshotPageResult](ctx, d, &messages.ScreenshotPage{PageID: a.PageID, FullPage: a.FullPage})
	if r, err := d.answer(ctx, "screenshot_page", e); r != nil || err != nil {
		return r, err
	}
	out := map[string]any{"page_id": res.PageID, "url": res.URL, "title": res.Title, "mime_type": "image/png", "bytes": len(res.PNG)}
	r := structured(out, fmt.Sprintf("Screenshot of %s at %s (PNG, %d bytes).", res.PageID, res.URL, len(res.PNG)))
	r.Content = append(r.Content, mcp.NewImageContent(base64.StdEncoding.EncodeToString(res.PNG), "image/png"))
	return r, nil
}

func closePageTool() mcp.Tool {
	return newTool("close_page", "Close a page and remove it from its session. The session's cookies stay.",
		hints(false, true, true, false),
		mcp.WithString("page_id", mcp.Required(), mcp.Description(pageIDDesc), mcp.MaxLength(maxChildIDChars)),
	)
}

func (d Deps) closePage(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		PageID string `json:"page_id"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("page_id", a.PageID); e != nil {
		return toolError(e), nil
	}
	res, e := askPage[*messages.ClosePageResult](ctx, d, &messages.ClosePage{PageID: a.PageID})
	if r, err := d.answer(ctx, "close_page", e); r != nil || err != nil {
		return r, err
	}
	return structured(map[string]any{"page_id": res.PageID, "closed": res.Closed}, fmt.Sprintf("Page %s closed.", res.PageID)), nil
}

func crawlURLTool() mcp.Tool {
	return newTool("crawl_url",
		"Load a URL in a short-lived page and return its content (markdown, text or html). "+
			"With session_id it runs in that session's browser context (its cookies apply and are kept); otherwise in a throwaway one.",
		hints(false, false, true, true),
		mcp.WithString("url", mcp.Required(), mcp.Description("The http or https URL to load."), mcp.MaxLength(maxURLChars)),
		mcp.WithString("session_id", mcp.Description("A session whose browser context (cookies, logins) to use."), mcp.MaxLength(maxIDChars)),
		mcp.WithString("format", mcp.Description(formatDesc), mcp.Enum("markdown", "text", "html"), mcp.MaxLength(maxEnumChars)),
		mcp.WithInteger("offset", mcp.Description("Byte offset into the content, from next_offset (default 0)."), mcp.Min(0), mcp.Max(maxWholeNumber)),
		mcp.WithInteger("max_bytes", mcp.Description("At most this many bytes (default and most: the server's page_content_max_bytes)."), mcp.Min(1), mcp.Max(maxWholeNumber)),
	)
}

func (d Deps) crawlURL(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		URL       string `json:"url"`
		SessionID string `json:"session_id"`
		Format    string `json:"format"`
		Offset    int    `json:"offset"`
		MaxBytes  int    `json:"max_bytes"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := firstError(d.checkURL("url", a.URL), checkFormat(a.Format), checkWindow(a.Offset, a.MaxBytes)); e != nil {
		return toolError(e), nil
	}
	res, e := askPage[*messages.PageContentResult](ctx, d, &messages.CrawlURL{URL: a.URL, SessionID: a.SessionID, Format: a.Format, Offset: a.Offset, MaxBytes: a.MaxBytes})
	if r, err := d.answer(ctx, "crawl_url", e); r != nil || err != nil {
		return r, err
	}
	return contentResult("", res.Content), nil
}

// sessionPage opens the page create_session was given a url for, and returns the session as
// it is then (with the page among its children). The session exists either way: a page that
// cannot be opened is reported next to it, not as a failed create.
func (d Deps) sessionPage(ctx context.Context, s *messages.SessionInfo, rawURL string) (*mcp.CallToolResult, error) {
	out, err := toMap(s)
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf("Created session %s (workspace %s); it expires after %s idle.", s.SessionID, s.Workspace, time.Duration(s.IdleTimeoutSeconds)*time.Second)
	res, e := askPage[*messages.PageResult](ctx, d, &messages.OpenPage{SessionID: s.SessionID, URL: rawURL})
	if e != nil {
		out["page_error"] = e.Message
		return structured(out, text+" The page could not be opened: "+e.Message+" Try again with open_page."), nil
	}
	if fresh, ge := ask[*messages.SessionResult](ctx, d, &messages.GetSession{SessionID: s.SessionID}); ge == nil {
		if out, err = toMap(fresh.Session); err != nil {
			return nil, err
		}
	}
	out["page"] = res.Page
	return structured(out, text+" "+pageText("Opened page", res.Page.PageID, res.Page.URL, res.Page.Title)), nil
}

func toMap(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errInternal, err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", errInternal, err)
	}
	return m, nil
}
