package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/messages"
)

func setCookiesTool() mcp.Tool {
	return newTool("set_cookies", "Add or replace cookies in a session's browser context (for example a login). They are saved with the session and survive restarts.",
		hints(false, false, true, false),
		mcp.WithString("session_id", mcp.Required(), mcp.Description(sessionIDDesc), mcp.MaxLength(maxIDChars)),
		mcp.WithArray("cookies", mcp.Required(), mcp.Description("The cookies (at most 180: a browser keeps no more for one site); each needs a name, a value and a url or a domain."),
			mcp.Items(cookieSchema), mcp.MaxItems(maxCookies)),
	)
}

func (d Deps) setCookies(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		SessionID string            `json:"session_id"`
		Cookies   []messages.Cookie `json:"cookies"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := firstError(required("session_id", a.SessionID), checkCookies(a.Cookies)); e != nil {
		return toolError(e), nil
	}
	if len(a.Cookies) == 0 {
		return toolError(messages.Errorf(messages.CodeInvalidArgument, "cookies is required: give at least one cookie")), nil
	}
	res, e := askPage[*messages.CookiesResult](ctx, d, &messages.SetCookies{SessionID: a.SessionID, Cookies: a.Cookies})
	if r, err := d.answer(ctx, "set_cookies", e); r != nil || err != nil {
		return r, err
	}
	return cookiesResult(res, fmt.Sprintf("Set %d cookie(s); session %s now has %d.", len(a.Cookies), res.SessionID, len(res.Cookies))), nil
}

func getCookiesTool() mcp.Tool {
	return newTool("get_cookies", "Read a session's browser cookies: those a request to url would carry, or all of them.",
		hints(true, false, true, false),
		mcp.WithString("session_id", mcp.Required(), mcp.Description(sessionIDDesc), mcp.MaxLength(maxIDChars)),
		mcp.WithString("url", mcp.Description("Only the cookies sent to this http or https URL."), mcp.MaxLength(maxURLChars)),
	)
}

func (d Deps) getCookies(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var a struct {
		SessionID string `json:"session_id"`
		URL       string `json:"url"`
	}
	if e := decodeArgs(req, &a); e != nil {
		return toolError(e), nil
	}
	if e := required("session_id", a.SessionID); e != nil {
		return toolError(e), nil
	}
	if a.URL != "" {
		if _, err := browser.ParseCookieURL(a.URL); err != nil {
			return toolError(messages.Errorf(messages.CodeInvalidArgument, "url: %q is not a full http or https URL; give one, or none for every cookie", a.URL)), nil
		}
	}
	res, e := askPage[*messages.CookiesResult](ctx, d, &messages.GetCookies{SessionID: a.SessionID, URL: a.URL})
	if r, err := d.answer(ctx, "get_cookies", e); r != nil || err != nil {
		return r, err
	}
	return cookiesResult(res, fmt.Sprintf("%d cookie(s).", len(res.Cookies))), nil
}

func cookiesResult(res *messages.CookiesResult, head string) *mcp.CallToolResult {
	cookies := res.Cookies
	if cookies == nil {
		cookies = []messages.Cookie{}
	}
	var b strings.Builder
	b.WriteString(head)
	for _, c := range cookies {
		fmt.Fprintf(&b, "\n- %s=%s (domain %s, path %s)", c.Name, c.Value, c.Domain, c.Path)
	}
	return structured(map[string]any{"session_id": res.SessionID, "cookies": cookies}, b.String())
}

// checkCookies refuses cookies a browser cannot set, naming the cookie and the fix; a bad
// cookie saved with a session would break its browser context at every start.
func checkCookies(cs []messages.Cookie) *messages.Error {
	for i, c := range cs {
		bc := browser.Cookie{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, Expires: c.Expires,
			HTTPOnly: c.HTTPOnly, Secure: c.Secure, SameSite: c.SameSite, URL: c.URL}
		if err := browser.ValidateCookie(&bc); err != nil {
			msg := strings.TrimPrefix(err.Error(), browser.ErrBadRequest.Error()+": ")
			return messages.Errorf(messages.CodeInvalidArgument, "cookies[%d]: %s", i, msg)
		}
	}
	return nil
}
