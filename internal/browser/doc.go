// Package browser is troupe's PageDriver: it runs one headless Chromium per server and gives
// every session its own isolated browser context, with pages that navigate, render their content
// as Markdown, text or HTML, act (click, fill, press, evaluate) and take screenshots
// (DESIGN §2, §5, §7, §10).
//
// The real driver (New) drives Chromium through go-rod. Chromium is launched on first use from
// Options.Bin, $TROUPE_BROWSER or a PATH lookup, with its user-data dir under Options.DataDir
// (swept at every launch), and relaunched by the next call after it dies. troupe talks to it over
// one CDP connection on a pipe (--remote-debugging-pipe), never a TCP port, so no page can reach
// the browser's control channel. Each Context is a browser context created with disposeOnDetach
// on that connection: Close disposes it (and its tabs), a failed disposal is retried before the
// next context opens, and the whole browser ends with the pipe when troupe does. A context whose
// browser died reports Alive()==false and fails with ErrContextLost, and its LastCookies let the
// caller re-open it as it was. Tabs a page opens by itself are closed (popup.go).
//
// Every call has a deadline: the caller's, or NavTimeout for calls that navigate and CallTimeout
// for the others, whichever comes first. A navigation that times out is stopped.
//
// Fake implements the same interfaces in memory, with failure injection, for the tests of the
// packages built on top of this one.
package browser
