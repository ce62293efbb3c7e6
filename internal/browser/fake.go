package browser

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"slices"
	"sync"
)

// FakeOp names an operation of the Fake, for failure injection and holds.
type FakeOp string

// The Fake's operations.
const (
	FakeOpenContext  FakeOp = "open_context"
	FakeCloseContext FakeOp = "close_context"
	FakeOpenPage     FakeOp = "open_page"
	FakeNavigate     FakeOp = "navigate"
	FakeContent      FakeOp = "content"
	FakeAction       FakeOp = "action"
	FakeScreenshot   FakeOp = "screenshot"
	FakeClosePage    FakeOp = "close_page"
	FakeSetCookies   FakeOp = "set_cookies"
	FakeCookies      FakeOp = "cookies"
)

// FakeDoc is a page the Fake serves at a URL.
type FakeDoc struct {
	Title  string
	HTML   string // the document (or just its body); content is rendered from it
	Status int    // HTTP status; 0 means 200
	// SetCookies are set in the context when the page loads, as a server would; a cookie
	// without URL or Domain gets the page's URL.
	SetCookies []Cookie
	// Elements are the CSS selectors the page has, with each one's HTML (content with a
	// selector, click, fill and press look here).
	Elements map[string]string
	// Links are selectors whose click navigates to a URL.
	Links map[string]string
}

// FakeCall is one call the Fake received, in order.
type FakeCall struct {
	Op      FakeOp
	Session string
	URL     string // the page's URL (before a navigation: the one asked for)
}

// Fake is an in-memory Driver for tests: contexts, pages, cookies and content with no
// browser, the same validation and errors as the real driver, and failure injection. A URL
// that was not served loads as a small page that names it. The zero value is not usable:
// call NewFake.
type Fake struct {
	policy     Policy
	maxContent int

	mu       sync.Mutex
	docs     map[string]FakeDoc
	failures map[FakeOp]fakeFailure
	holds    map[FakeOp]chan struct{}
	wedges   map[FakeOp]chan struct{}
	contexts map[*fakeContext]struct{}
	calls    []FakeCall
	closed   bool
}

type fakeFailure struct {
	err  error
	once bool
}

// NewFake returns a Fake with the given policy and the default content size.
func NewFake(p Policy) *Fake {
	return &Fake{
		policy:     p,
		maxContent: DefaultMaxContent,
		docs:       map[string]FakeDoc{},
		failures:   map[FakeOp]fakeFailure{},
		holds:      map[FakeOp]chan struct{}{},
		wedges:     map[FakeOp]chan struct{}{},
		contexts:   map[*fakeContext]struct{}{},
	}
}

// SetMaxContent changes the most bytes one Content call returns.
func (f *Fake) SetMaxContent(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maxContent = n
}

// Serve makes rawURL load doc.
func (f *Fake) Serve(rawURL string, doc FakeDoc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[rawURL] = doc
}

// Fail makes every call of op fail with err until Fail(op, nil).
func (f *Fake) Fail(op FakeOp, err error) { f.setFailure(op, err, false) }

// FailNext makes the next call of op fail with err.
func (f *Fake) FailNext(op FakeOp, err error) { f.setFailure(op, err, true) }

func (f *Fake) setFailure(op FakeOp, err error, once bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.failures, op)
		return
	}
	f.failures[op] = fakeFailure{err: err, once: once}
}

// Hold makes calls of op block (after validation) until release is called or their ctx ends
// (then they fail with ErrTimeout): a page "in the middle of an operation".
func (f *Fake) Hold(op FakeOp) (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.holds[op] = ch
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			if f.holds[op] == ch {
				delete(f.holds, op)
			}
			f.mu.Unlock()
			close(ch)
		})
	}
}

// Wedge makes calls of op block until release is called, whatever their ctx says: a browser
// call that hangs (a dependency that ignores its deadline), for the tests of what must not
// wait on one forever.
func (f *Fake) Wedge(op FakeOp) (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.wedges[op] = ch
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			if f.wedges[op] == ch {
				delete(f.wedges, op)
			}
			f.mu.Unlock()
			close(ch)
		})
	}
}

// Crash loses every open context, as when Chromium dies: they report Alive()==false and
// their calls fail with ErrContextLost. New contexts can be opened afterwards.
func (f *Fake) Crash() {
	f.mu.Lock()
	ctxs := make([]*fakeContext, 0, len(f.contexts))
	for c := range f.contexts {
		ctxs = append(ctxs, c)
	}
	f.contexts = map[*fakeContext]struct{}{}
	f.mu.Unlock()
	for _, c := range ctxs {
		c.lose()
	}
}

// SetCookiesInBrowser sets cookies in the session's open contexts with no call from the
// session, as a page's fetch or document.cookie would; the contexts signal CookiesChanged.
func (f *Fake) SetCookiesInBrowser(sessionID string, cookies []Cookie) {
	f.mu.Lock()
	var ctxs []*fakeContext
	for c := range f.contexts {
		if c.sessionID == sessionID {
			ctxs = append(ctxs, c)
		}
	}
	f.mu.Unlock()
	for _, c := range ctxs {
		c.setCookies(cookies)
	}
}

// Contexts is the number of open contexts.
func (f *Fake) Contexts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.contexts)
}

// Pages is the number of open pages across all open contexts.
func (f *Fake) Pages() int {
	f.mu.Lock()
	ctxs := make([]*fakeContext, 0, len(f.contexts))
	for c := range f.contexts {
		ctxs = append(ctxs, c)
	}
	f.mu.Unlock()
	n := 0
	for _, c := range ctxs {
		n += c.pageCount()
	}
	return n
}

// Calls returns the calls received so far, in order.
func (f *Fake) Calls() []FakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// enter records a call, then applies its hold and injected failure.
func (f *Fake) enter(ctx context.Context, op FakeOp, session, url string) error {
	f.mu.Lock()
	f.calls = append(f.calls, FakeCall{Op: op, Session: session, URL: url})
	hold, wedge := f.holds[op], f.wedges[op]
	fail, failing := f.failures[op]
	if failing && fail.once {
		delete(f.failures, op)
	}
	f.mu.Unlock()
	if wedge != nil {
		<-wedge
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return fmt.Errorf("%w: %s did not finish in time (%v)", ErrTimeout, op, ctx.Err())
		}
	}
	if failing {
		return fail.err
	}
	return nil
}

func (f *Fake) doc(rawURL string) FakeDoc {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.docs[rawURL]; ok {
		return d
	}
	return FakeDoc{Title: rawURL, HTML: "<p>" + rawURL + "</p>"}
}

// OpenContext implements Driver.
func (f *Fake) OpenContext(ctx context.Context, sessionID string, cookies []Cookie) (Context, error) {
	cookies = usableCookies(cookies, func(Cookie, error) {})
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("%w: the browser driver is shut down", ErrClosed)
	}
	if err := f.enter(ctx, FakeOpenContext, sessionID, ""); err != nil {
		return nil, err
	}
	c := &fakeContext{f: f, sessionID: sessionID, lost: make(chan struct{}), pages: map[*fakePage]struct{}{},
		changed: make(chan struct{}, 1)}
	c.setCookies(cookies)
	f.mu.Lock()
	f.contexts[c] = struct{}{}
	f.mu.Unlock()
	return c, nil
}

// Crawl implements Driver.
func (f *Fake) Crawl(ctx context.Context, rawURL string, req ContentRequest, in Context) (Content, error) {
	return crawl(ctx, f, f.policy, rawURL, req, in)
}

// Close implements Driver: every context is closed.
func (f *Fake) Close() error {
	f.mu.Lock()
	f.closed = true
	ctxs := make([]*fakeContext, 0, len(f.contexts))
	for c := range f.contexts {
		ctxs = append(ctxs, c)
	}
	f.contexts = map[*fakeContext]struct{}{}
	f.mu.Unlock()
	for _, c := range ctxs {
		c.markClosed()
	}
	return nil
}

func (f *Fake) forget(c *fakeContext) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.contexts, c)
}

// fakePNG is a valid 1×1 PNG.
var fakePNG = func() []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	return b.Bytes()
}()
