package messages

import (
	"encoding/json"
	"time"
)

// Page statuses.
const (
	// PageOpening: the tab is being opened (or re-opened after a restart or a browser crash).
	PageOpening = "opening"
	// PageOpen: the tab is open at URL.
	PageOpen = "open"
	// PageLost: the tab is gone (the browser exited, or it could not be re-opened); the next
	// call on the page re-opens it at its last URL.
	PageLost = "lost"
	// PageStopping: close_page or a delete is closing the tab.
	PageStopping = "stopping"
)

// PageInfo describes a page to clients (DESIGN §7: page_id, url, title).
type PageInfo struct {
	PageID    string    `json:"page_id"`
	SessionID string    `json:"session_id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Title     string    `json:"title"`
	Status    string    `json:"status"`
	Busy      bool      `json:"busy"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// OpenPage opens a page in a session's browser context, at URL unless it is empty.
type OpenPage struct {
	SessionID string
	Name      string
	URL       string
}

// PageResult answers OpenPage.
type PageResult struct {
	Page *PageInfo
}

// NavigatePage loads a URL in a page.
type NavigatePage struct {
	PageID string
	URL    string
}

// NavigatePageResult answers NavigatePage: where the page ended up.
type NavigatePageResult struct {
	PageID string
	URL    string
	Title  string
	Status int // HTTP status of the document; 0 when unknown
}

// PageContent asks for a page's content: markdown (default), text or html, the whole page or
// the elements matching Selector, a window of at most MaxBytes from Offset.
type PageContent struct {
	PageID   string
	Format   string
	Selector string
	Offset   int
	MaxBytes int
}

// Content is (a window of) a page's content in one format.
type Content struct {
	URL        string `json:"url"`
	Title      string `json:"title"`
	Format     string `json:"format"`
	Text       string `json:"text"`
	Offset     int    `json:"offset"`
	Total      int    `json:"total"`
	Truncated  bool   `json:"truncated"`
	NextOffset int    `json:"next_offset,omitempty"`
}

// PageContentResult answers PageContent and CrawlURL.
type PageContentResult struct {
	PageID  string
	Content *Content
}

// PageAction clicks, fills, presses a key or evaluates JavaScript in a page.
type PageAction struct {
	PageID   string
	Action   string
	Selector string
	Text     string
}

// PageActionResult answers PageAction.
type PageActionResult struct {
	PageID    string
	Action    string
	Value     json.RawMessage // evaluate: the value as JSON
	Navigated bool            // the action started a navigation (waited for)
	URL       string
	Title     string
	Popups    []string // tabs the page opened (target=_blank, window.open): closed; these are their addresses
}

// ScreenshotPage takes a PNG of a page's viewport, or of the whole page.
type ScreenshotPage struct {
	PageID   string
	FullPage bool
}

// ScreenshotPageResult answers ScreenshotPage.
type ScreenshotPageResult struct {
	PageID string
	URL    string
	Title  string
	PNG    []byte
}

// ClosePage closes a page and removes it from its session.
type ClosePage struct{ PageID string }

// ClosePageResult answers ClosePage.
type ClosePageResult struct {
	PageID string
	Closed bool
}

// CrawlURL loads a URL in a short-lived page and returns its content: in the session's browser
// context when SessionID is set (its cookies apply), otherwise in a throwaway context.
type CrawlURL struct {
	URL       string
	SessionID string
	Format    string
	Offset    int
	MaxBytes  int
}

// SetCookies adds or replaces cookies in a session's browser context.
type SetCookies struct {
	SessionID string
	Cookies   []Cookie
}

// GetCookies reads a session's cookies: those sent to URL, or all of them when URL is empty.
type GetCookies struct {
	SessionID string
	URL       string
}

// CookiesResult answers SetCookies (every cookie of the session) and GetCookies.
type CookiesResult struct {
	SessionID string
	Cookies   []Cookie
}
