package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-rod/rod/lib/proto"
	"github.com/rs/zerolog"
)

// rodDriver is the real Driver: one Chromium, launched on first use and relaunched after it
// dies, driven over one CDP connection on its pipes; a browser context per session.
//
// Lock order: rodDriver.mu, then rodContext.mu, then rodPage.mu. No lock is held across a
// browser call except rodDriver.mu while launching.
type rodDriver struct {
	opts Options
	log  zerolog.Logger

	mu       sync.Mutex
	proc     *chromium
	launches int
	closed   bool
	contexts map[*rodContext]struct{}
	// orphans are contexts whose disposal failed, disposed before the next context opens.
	orphans []orphanContext
}

// orphanContext is a browser context left to dispose, on the connection it was made on.
type orphanContext struct {
	conn *cdpConn
	id   proto.BrowserBrowserContextID
}

// New returns the real driver. It does not launch Chromium, nor look for it: the first call
// that needs the browser does, so a server runs without Chromium and browser calls fail with
// ErrNoBrowser until one is installed. New fails only on bad options.
func New(opts Options) (Driver, error) {
	if opts.DataDir == "" || !filepath.IsAbs(opts.DataDir) {
		return nil, fmt.Errorf("%w: the browser data dir must be an absolute path, got %q", ErrBadRequest, opts.DataDir)
	}
	opts = opts.withDefaults()
	return &rodDriver{
		opts:     opts,
		log:      opts.Logger.With().Str("component", "browser").Logger(),
		contexts: map[*rodContext]struct{}{},
	}, nil
}

// browser returns the running Chromium, launching it when there is none or it died.
func (d *rodDriver) browser(ctx context.Context) (*chromium, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("%w: the browser driver is shut down", ErrClosed)
	}
	if d.proc != nil && d.proc.alive() {
		return d.proc, nil
	}
	if d.proc != nil {
		d.log.Warn().Int("pid", d.proc.pid).Msg("browser: chromium exited; relaunching")
		d.proc.kill()
		d.proc = nil
	}
	bin, err := FindBrowser(d.opts.Bin)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, d.opts.LaunchTimeout)
	defer cancel()
	proc, err := launchChromium(lctx, bin, d.opts.DataDir, d.log)
	if err != nil {
		return nil, err
	}
	// The start-up sweep: a browser has no context of ours yet; any it reports is disposed.
	if res, err := (proto.TargetGetBrowserContexts{}).Call(proc.conn.browser.Context(lctx)); err == nil {
		for _, id := range res.BrowserContextIDs {
			_ = proto.TargetDisposeBrowserContext{BrowserContextID: id}.Call(proc.conn.browser.Context(lctx))
		}
	}
	d.proc = proc
	d.launches++
	return proc, nil
}

// restart kills a browser whose connection ended, so that the next call relaunches it.
func (d *rodDriver) restart(proc *chromium) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == proc {
		d.log.Warn().Int("pid", proc.pid).Msg("browser: the connection to chromium ended; restarting it")
		proc.kill()
		d.proc = nil
	}
}

// OpenContext implements Driver.
func (d *rodDriver) OpenContext(ctx context.Context, sessionID string, cookies []Cookie) (Context, error) {
	cookies = usableCookies(cookies, func(ck Cookie, err error) {
		d.log.Warn().Err(err).Str("session", sessionID).Str("cookie", ck.Name).Msg("browser: a saved cookie is left out")
	})
	var c *rodContext
	for attempt := 0; ; attempt++ {
		proc, err := d.browser(ctx)
		if err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, d.opts.CallTimeout)
		d.disposeOrphans(cctx, proc.conn)
		c, err = openRodContext(cctx, d, proc.conn, sessionID)
		cancel()
		if err == nil {
			break
		}
		if proc.conn.dead() && attempt == 0 {
			d.restart(proc)
			continue
		}
		return nil, err
	}
	if len(cookies) > 0 {
		if err := c.setCookies(ctx, cookies, false); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	d.mu.Lock()
	closed := d.closed
	if !closed {
		d.contexts[c] = struct{}{}
	}
	d.mu.Unlock()
	if closed {
		c.shutdown(false)
		return nil, fmt.Errorf("%w: the browser driver is shut down", ErrClosed)
	}
	d.log.Debug().Str("session", sessionID).Msg("browser: context opened")
	return c, nil
}

// orphan keeps a context whose disposal failed, to dispose it later.
func (d *rodDriver) orphan(conn *cdpConn, id proto.BrowserBrowserContextID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.orphans = append(d.orphans, orphanContext{conn: conn, id: id})
}

// disposeOrphans disposes the contexts whose disposal failed earlier; those of an ended
// connection went with it.
func (d *rodDriver) disposeOrphans(ctx context.Context, conn *cdpConn) {
	d.mu.Lock()
	orphans := d.orphans
	d.orphans = nil
	d.mu.Unlock()
	var left []orphanContext
	for _, o := range orphans {
		if o.conn != conn || conn.dead() {
			continue
		}
		if err := (proto.TargetDisposeBrowserContext{BrowserContextID: o.id}).Call(conn.browser.Context(ctx)); err != nil {
			left = append(left, o)
		}
	}
	if len(left) > 0 {
		d.mu.Lock()
		d.orphans = append(d.orphans, left...)
		d.mu.Unlock()
	}
}

func (d *rodDriver) forget(c *rodContext) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.contexts, c)
}

// Crawl implements Driver.
func (d *rodDriver) Crawl(ctx context.Context, rawURL string, req ContentRequest, in Context) (Content, error) {
	return crawl(ctx, d, d.opts.Policy, rawURL, req, in)
}

// crawl is Crawl for any Driver: a short-lived page in the given or a throwaway context.
func crawl(ctx context.Context, d Driver, p Policy, rawURL string, req ContentRequest, in Context) (Content, error) {
	if _, err := CheckURL(rawURL, p); err != nil {
		return Content{}, err
	}
	if _, err := ParseFormat(string(req.Format)); err != nil {
		return Content{}, err
	}
	c := in
	if c == nil {
		tmp, err := d.OpenContext(ctx, "crawl", nil)
		if err != nil {
			return Content{}, err
		}
		defer tmp.Close()
		c = tmp
	}
	pg, err := c.OpenPage(ctx, rawURL)
	if err != nil {
		return Content{}, err
	}
	defer pg.Close(context.WithoutCancel(ctx))
	return pg.Content(ctx, req)
}

// Close implements Driver: the contexts are dropped and Chromium is stopped (its pipe closed,
// SIGTERM, then SIGKILL after a grace period); its profile is removed.
func (d *rodDriver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	contexts := make([]*rodContext, 0, len(d.contexts))
	for c := range d.contexts {
		contexts = append(contexts, c)
	}
	d.contexts = map[*rodContext]struct{}{}
	proc := d.proc
	d.proc = nil
	d.mu.Unlock()

	for _, c := range contexts {
		c.shutdown(false)
	}
	if proc != nil {
		proc.stop()
		d.log.Info().Int("pid", proc.pid).Msg("browser: chromium stopped")
	}
	_ = os.Remove(filepath.Join(d.opts.DataDir, pidFileName))
	if err := os.RemoveAll(filepath.Join(d.opts.DataDir, profileDirName)); err != nil {
		return fmt.Errorf("browser: removing the profile: %w", err)
	}
	return nil
}
