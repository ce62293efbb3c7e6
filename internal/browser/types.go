package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Defaults for Options fields left zero.
const (
	DefaultNavTimeout    = 30 * time.Second
	DefaultCallTimeout   = 15 * time.Second
	DefaultLaunchTimeout = 30 * time.Second
	DefaultMaxContent    = 200 * 1024
)

// Options configure the real driver (New).
type Options struct {
	// Bin is the browser binary. Empty: $TROUPE_BROWSER, else a PATH lookup (FindBrowser).
	Bin string
	// DataDir is where Chromium's user-data dir lives (<data>/browser). Required, absolute.
	// It is swept at every launch: nothing in it survives a restart.
	DataDir string
	// NavTimeout bounds calls that navigate (Navigate, OpenPage with a URL, Crawl, Action).
	NavTimeout time.Duration
	// CallTimeout bounds every other call.
	CallTimeout time.Duration
	// LaunchTimeout bounds starting Chromium.
	LaunchTimeout time.Duration
	// CookieInterval is how often a context with open pages reads its cookies back
	// (DefaultCookieInterval when zero).
	CookieInterval time.Duration
	// MaxContent is the most bytes one Content call returns; the rest is read with Offset.
	MaxContent int
	// Policy says which URLs may be opened.
	Policy Policy
	// Logger receives the driver's events and Chromium's output (at debug level).
	Logger zerolog.Logger
}

func (o Options) withDefaults() Options {
	if o.NavTimeout <= 0 {
		o.NavTimeout = DefaultNavTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.LaunchTimeout <= 0 {
		o.LaunchTimeout = DefaultLaunchTimeout
	}
	if o.CookieInterval <= 0 {
		o.CookieInterval = DefaultCookieInterval
	}
	if o.MaxContent <= 0 {
		o.MaxContent = DefaultMaxContent
	}
	return o
}

// Format is a rendering of page content.
type Format string

// The content formats.
const (
	FormatMarkdown Format = "markdown"
	FormatText     Format = "text"
	FormatHTML     Format = "html"
)

// ParseFormat checks a format name; "" means markdown.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case "":
		return FormatMarkdown, nil
	case FormatMarkdown, FormatText, FormatHTML:
		return f, nil
	}
	return "", fmt.Errorf("%w: unknown format %q: use markdown, text or html", ErrBadRequest, s)
}

// Action is what Page.Action does.
type Action string

// The page actions.
const (
	// ActionClick clicks the first element matching Selector.
	ActionClick Action = "click"
	// ActionFill replaces the value of the first input, textarea, select or editable element
	// matching Selector with Text.
	ActionFill Action = "fill"
	// ActionPress presses the key named by Text ("Enter", "Tab", "Escape", "ArrowDown", "a",
	// "Control+a", …), in the element matching Selector when one is given.
	ActionPress Action = "press"
	// ActionEvaluate evaluates the JavaScript expression Text in the page and returns its
	// value as JSON; a promise is awaited.
	ActionEvaluate Action = "evaluate"
)

// NavResult is where a navigation ended.
type NavResult struct {
	URL    string `json:"url"`
	Title  string `json:"title"`
	Status int    `json:"status"` // HTTP status of the main document; 0 when unknown
}

// ContentRequest asks a page for its content.
type ContentRequest struct {
	Format   Format `json:"format,omitempty"`   // "" means markdown
	Selector string `json:"selector,omitempty"` // CSS; every match, in document order
	Offset   int    `json:"offset,omitempty"`   // byte offset into the rendering, from NextOffset
	Max      int    `json:"max,omitempty"`      // at most this many bytes; 0 or above Options.MaxContent means that
}

// Content is (a window of) a page's content in one format.
type Content struct {
	URL        string `json:"url"`
	Title      string `json:"title"`
	Format     Format `json:"format"`
	Text       string `json:"text"`
	Offset     int    `json:"offset"`                // where Text starts in the whole rendering
	Total      int    `json:"total"`                 // bytes in the whole rendering
	Truncated  bool   `json:"truncated"`             // more follows: ask again with Offset = NextOffset
	NextOffset int    `json:"next_offset,omitempty"` // set when Truncated
}

// ActionRequest asks a page to act.
type ActionRequest struct {
	Action   Action `json:"action"`
	Selector string `json:"selector,omitempty"`
	Text     string `json:"text,omitempty"`
}

// ActionResult is what an action did.
type ActionResult struct {
	Action    Action          `json:"action"`
	Value     json.RawMessage `json:"value,omitempty"` // evaluate: the value as JSON
	Navigated bool            `json:"navigated"`       // the action started a navigation (waited for)
	URL       string          `json:"url"`
	Title     string          `json:"title"`
	// Popups are the addresses of the tabs the action made the page open (a target=_blank
	// link, window.open): they were closed (popup.go); navigate to one to follow it.
	Popups []string `json:"popups,omitempty"`
}

// Driver is the browser side of the PageDriver: it hands out one isolated Context per session.
type Driver interface {
	// OpenContext opens a fresh browser context for a session, with these cookies.
	OpenContext(ctx context.Context, sessionID string, cookies []Cookie) (Context, error)
	// Crawl loads rawURL in a short-lived page and returns its content: in the given context
	// (the session's cookies apply) or, when in is nil, in a throwaway context.
	Crawl(ctx context.Context, rawURL string, req ContentRequest, in Context) (Content, error)
	// Close closes every context and stops the browser.
	Close() error
}

// Context is one session's browser context: its cookies and its pages.
type Context interface {
	// SessionID is the session this context was opened for.
	SessionID() string
	// OpenPage opens a tab, at rawURL unless it is empty (about:blank). When the navigation
	// fails the tab is closed and the error returned; to keep a tab regardless, open it at ""
	// and Navigate.
	OpenPage(ctx context.Context, rawURL string) (Page, error)
	// SetCookies adds or replaces cookies.
	SetCookies(ctx context.Context, cookies []Cookie) error
	// Cookies returns the cookies that would be sent to rawURL, or all of them when rawURL is "".
	Cookies(ctx context.Context, rawURL string) ([]Cookie, error)
	// LastCookies returns every cookie as last seen (after the latest navigation, action or
	// SetCookies), without calling the browser. It stays available after the context is lost,
	// to re-open it as it was.
	LastCookies() []Cookie
	// SetLocalStorage replaces the localStorage of the origins in s: in the tabs open at them now,
	// and in the next document of those origins any tab loads (before its scripts run).
	SetLocalStorage(ctx context.Context, s Storage) error
	// LastLocalStorage returns localStorage per origin as last read from the tabs (or as set),
	// without calling the browser; it stays available after the context is lost.
	LastLocalStorage() Storage
	// CookiesChanged receives a (coalesced) value when LastCookies or LastLocalStorage has changed without a call
	// asking for it: a response set a cookie, a script wrote document.cookie. The context
	// watches this by itself while it lives; the channel is never closed (watch Done too).
	CookiesChanged() <-chan struct{}
	// Alive reports whether the context can still be used.
	Alive() bool
	// Done is closed when the context is lost or closed.
	Done() <-chan struct{}
	// Close closes the context and its pages. Closing a lost context succeeds.
	Close() error
}

// Page is one tab. Its methods may be called concurrently, but the page actor is meant to
// serialize them.
type Page interface {
	// Navigate loads rawURL and waits for its load event.
	Navigate(ctx context.Context, rawURL string) (NavResult, error)
	// Content renders the page (or the elements matching a selector).
	Content(ctx context.Context, req ContentRequest) (Content, error)
	// Action clicks, fills, presses a key or evaluates JavaScript; when that starts a
	// navigation, it waits for the new page to load. A tab the page opens is closed, and
	// reported in ActionResult.Popups.
	Action(ctx context.Context, req ActionRequest) (ActionResult, error)
	// Screenshot returns a PNG of the viewport, or of the whole page when fullPage is set.
	Screenshot(ctx context.Context, fullPage bool) ([]byte, error)
	// Info returns the URL and title as last seen; after a failed navigation, the URL asked
	// for. It does not call the browser and works after the context is lost.
	Info() (url, title string)
	// Close closes the tab. Closing a page whose context is gone succeeds.
	Close(ctx context.Context) error
}
