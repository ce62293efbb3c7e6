// Package browser is troupe's PageDriver: it runs one headless Chromium per server and gives
// every session its own isolated browser context, with pages that navigate, render their content
// as Markdown, text or HTML, act (click, fill, press, evaluate) and take screenshots
// (DESIGN §2, §5, §7, §10).
//
// The real driver (New) drives Chromium through go-rod. Chromium is launched on first use from
// Options.Bin, $TROUPE_BROWSER or a PATH lookup, with its user-data dir under Options.DataDir
// (swept at every launch), and relaunched by the next call after it dies. Each Context has its
// own CDP websocket and a browser context created with disposeOnDetach, so closing it (or losing
// it) disposes the context and its tabs; a context whose browser died reports Alive()==false and
// fails with ErrContextLost, and its LastCookies let the caller re-open it as it was.
//
// Every call has a deadline: the caller's, or NavTimeout for calls that navigate and CallTimeout
// for the others, whichever comes first. A navigation that times out is stopped.
//
// Fake implements the same interfaces in memory, with failure injection, for the tests of the
// packages built on top of this one.
package browser
