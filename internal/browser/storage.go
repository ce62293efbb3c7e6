package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"sort"
	"strings"

	"github.com/go-rod/rod/lib/proto"
)

// localStorage per origin (DESIGN §14). Read back from every open tab whenever the cookies are
// (after navigations, actions, Set-Cookie responses, every second while tabs are open, and at a
// tab's close); restored into a context before its pages' scripts run, by a script every tab
// evaluates on each new document while an origin waits to be restored. The script marks the
// document it restored; the next read sees the mark and the origin no longer waits: a later
// logout that clears the storage is not undone by the next page load.

// MaxStateBytes bounds a session's saved browser state (cookies and localStorage; a browser
// keeps about 5 MiB of localStorage per origin, a login needs far less).
const MaxStateBytes = 8 << 20

// Storage is localStorage per origin ("https://example.com"): key → value.
type Storage map[string]map[string]string

// restoredMark is the (non-enumerable) property of window by which the restore script says it
// restored the document's origin.
const restoredMark = "__troupeStorageRestored"

// readStorageJS reads the main frame's localStorage with its origin (null for an opaque origin,
// or where storage is refused).
var readStorageJS = `(() => {
  try {
    const o = location.origin;
    if (!o || o === 'null') return null;
    const s = {};
    for (let i = 0; i < localStorage.length; i++) { const k = localStorage.key(i); s[k] = localStorage.getItem(k); }
    return {o, s, r: window.` + restoredMark + ` === o};
  } catch (e) { return null; }
})()`

// restoreJS is evaluated before a document's own scripts: it fills localStorage for the
// document's origin when that origin waits to be restored.
const restoreJS = `(() => {
  const pending = %s;
  const o = location.origin;
  const items = pending[o];
  if (!items) return;
  try {
    for (const [k, v] of Object.entries(items)) localStorage.setItem(k, v);
    Object.defineProperty(window, %q, {value: o, enumerable: false});
  } catch (e) {}
})()`

// Clone copies s.
func (s Storage) Clone() Storage {
	out := make(Storage, len(s))
	for o, items := range s {
		out[o] = maps.Clone(items)
	}
	return out
}

// Size is the bytes of keys and values.
func (s Storage) Size() int {
	n := 0
	for o, items := range s {
		n += len(o)
		for k, v := range items {
			n += len(k) + len(v)
		}
	}
	return n
}

// Origins are s's origins, sorted.
func (s Storage) Origins() []string {
	out := make([]string, 0, len(s))
	for o := range s {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// CheckOrigin says whether o is an origin as localStorage keys it: scheme://host[:port], http
// or https, nothing after.
func CheckOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin: write scheme://host[:port], e.g. https://example.com", o)
	}
	if strings.ToLower(o) != o {
		return fmt.Errorf("origin %q must be lower case, as browsers write it", o)
	}
	return nil
}

// storageState is the restore state of a context: what was last seen, and what still waits to
// be written into a tab of its origin.
type storageState struct {
	last    Storage
	pending Storage
}

// SetLocalStorage implements Context: the origins of s replace what the context has for them,
// in the tabs open now and in every tab's next document of those origins.
func (c *rodContext) SetLocalStorage(ctx context.Context, s Storage) error {
	for _, o := range s.Origins() {
		if err := CheckOrigin(o); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if c.storage.last == nil {
		c.storage.last = Storage{}
	}
	if c.storage.pending == nil {
		c.storage.pending = Storage{}
	}
	for o, items := range s.Clone() {
		c.storage.last[o] = items
		c.storage.pending[o] = items
	}
	pages := c.pageList()
	c.mu.Unlock()
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	for _, p := range pages {
		// A tab already at one of the origins gets it at once.
		var origin string
		if evalJS(p.page.Context(cctx), "location.origin", &origin) == nil {
			if items, ok := s[origin]; ok {
				if err := p.writeStorage(cctx, items); err != nil {
					return c.fail(cctx, "setting localStorage", err)
				}
				c.restored(origin)
			}
		}
	}
	return c.installRestores(cctx)
}

// writeStorage replaces the tab's localStorage with items.
func (p *rodPage) writeStorage(ctx context.Context, items map[string]string) error {
	data, _ := json.Marshal(items)
	js := fmt.Sprintf(`(() => { localStorage.clear(); for (const [k, v] of Object.entries(%s)) localStorage.setItem(k, v); })()`, data)
	return evalJS(p.page.Context(ctx), js, nil)
}

// restored says origin no longer waits to be restored.
func (c *rodContext) restored(origin string) {
	c.mu.Lock()
	delete(c.storage.pending, origin)
	c.mu.Unlock()
}

// installRestores gives every open tab the restore script of the origins still waiting (or
// removes it when none waits).
func (c *rodContext) installRestores(ctx context.Context) error {
	c.mu.Lock()
	pages := c.pageList()
	c.mu.Unlock()
	for _, p := range pages {
		if err := c.installRestore(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// installRestore replaces the tab's restore script by one for the origins waiting now.
func (c *rodContext) installRestore(ctx context.Context, p *rodPage) error {
	c.mu.Lock()
	pending := c.storage.pending.Clone()
	c.mu.Unlock()
	pg := p.page.Context(ctx)
	p.mu.Lock()
	old := p.restoreID
	p.restoreID = ""
	p.mu.Unlock()
	if old != "" {
		_ = proto.PageRemoveScriptToEvaluateOnNewDocument{Identifier: old}.Call(pg)
	}
	if len(pending) == 0 {
		return nil
	}
	data, _ := json.Marshal(pending)
	res, err := proto.PageAddScriptToEvaluateOnNewDocument{Source: fmt.Sprintf(restoreJS, data, restoredMark)}.Call(pg)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.restoreID = res.Identifier
	p.mu.Unlock()
	return nil
}

// readStorage reads every open tab's localStorage into LastLocalStorage; it reports whether that
// changed.
func (c *rodContext) readStorage(ctx context.Context) bool {
	c.mu.Lock()
	pages := c.pageList()
	c.mu.Unlock()
	changed := false
	for _, p := range pages {
		changed = c.readPageStorage(ctx, p) || changed
	}
	return changed
}

// readPageStorage reads one tab's localStorage; it reports whether LastLocalStorage changed.
func (c *rodContext) readPageStorage(ctx context.Context, p *rodPage) bool {
	var got *struct {
		O string            `json:"o"`
		S map[string]string `json:"s"`
		R bool              `json:"r"`
	}
	if err := evalJS(p.page.Context(ctx), readStorageJS, &got); err != nil || got == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, waiting := c.storage.pending[got.O]; waiting {
		if !got.R {
			return false // not restored in this tab yet: what it shows is not the state
		}
		// Restored: later documents of the origin keep what the app makes of it.
		delete(c.storage.pending, got.O)
		go func() {
			ictx, cancel := c.callCtx(c.life)
			defer cancel()
			if err := c.installRestores(ictx); err != nil {
				c.d.log.Debug().Err(err).Str("session", c.sessionID).Msg("browser: restore scripts not updated")
			}
		}()
	}
	if c.storage.last == nil {
		c.storage.last = Storage{}
	}
	old, had := c.storage.last[got.O]
	if had && maps.Equal(old, got.S) || !had && len(got.S) == 0 {
		return false
	}
	if len(got.S) == 0 {
		delete(c.storage.last, got.O)
	} else {
		c.storage.last[got.O] = got.S
	}
	return true
}

// LastLocalStorage implements Context.
func (c *rodContext) LastLocalStorage() Storage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.storage.last.Clone()
}

// pageList is the open tabs (c.mu held).
func (c *rodContext) pageList() []*rodPage {
	out := make([]*rodPage, 0, len(c.pages))
	for p := range c.pages {
		out = append(out, p)
	}
	return out
}
