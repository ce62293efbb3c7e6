package browser

import "errors"

// Sentinel errors. Every error a caller can do something about wraps one of them (test with
// errors.Is), and its message says what happened and what to do; any other error is an
// internal fault of the browser connection.
var (
	// ErrNoBrowser: no Chromium binary was found.
	ErrNoBrowser = errors.New("no Chromium browser found: install it (`apt-get install chromium`) " +
		"or set TROUPE_BROWSER to the browser's path")
	// ErrLaunch: Chromium was found but did not start.
	ErrLaunch = errors.New("chromium did not start")
	// ErrContextLost: the browser context is gone because Chromium exited or the connection
	// dropped. Open a new context (Driver.OpenContext with Context.LastCookies) and re-open the
	// pages at their last URLs.
	ErrContextLost = errors.New("browser context lost (Chromium exited or the connection dropped); " +
		"open a new context and re-open the pages")
	// ErrClosed: the driver, context or page was closed by its owner.
	ErrClosed = errors.New("already closed")
	// ErrBadURL: the URL cannot be parsed or is incomplete.
	ErrBadURL = errors.New("bad URL")
	// ErrURLNotAllowed: the URL is refused by the policy (scheme or host).
	ErrURLNotAllowed = errors.New("URL not allowed")
	// ErrUnreachable: the page could not be loaded (connection refused, DNS failure, TLS error, …).
	ErrUnreachable = errors.New("page could not be loaded")
	// ErrTimeout: the call did not finish before its deadline. A navigation is stopped first.
	ErrTimeout = errors.New("timed out")
	// ErrNoElement: no element matches the selector.
	ErrNoElement = errors.New("no element matches the selector")
	// ErrBadRequest: an argument is invalid (unknown action or format, offset past the end, …).
	ErrBadRequest = errors.New("invalid request")
	// ErrScript: the page's JavaScript threw (evaluate, or a CSS selector the page rejects).
	ErrScript = errors.New("script error")
)
