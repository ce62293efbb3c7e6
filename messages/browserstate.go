package messages

import (
	"maps"
	"sort"
)

// BrowserState is a session's browser state in Playwright's storageState form (DESIGN §14):
// what `browser.newContext({storageState})` takes and `context.storageState()` writes.
type BrowserState struct {
	Cookies []StateCookie `json:"cookies"`
	Origins []StateOrigin `json:"origins"`
}

// StateCookie is a cookie as storageState writes it. Expires is seconds since the epoch, -1 for
// a session cookie; SameSite is "Strict", "Lax" or "None".
type StateCookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	Domain   string  `json:"domain"`
	Path     string  `json:"path"`
	Expires  float64 `json:"expires"`
	HTTPOnly bool    `json:"httpOnly"`
	Secure   bool    `json:"secure"`
	SameSite string  `json:"sameSite"`
}

// StateOrigin is one origin's localStorage.
type StateOrigin struct {
	Origin       string      `json:"origin"`
	LocalStorage []NameValue `json:"localStorage"`
}

// NameValue is one localStorage item.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ExportBrowserState asks for a session's browser state.
type ExportBrowserState struct{ SessionID string }

// ImportBrowserState adds a browser state to a session: its cookies are set (replacing those of
// the same name, domain and path), its origins' localStorage replaces what they had.
type ImportBrowserState struct {
	SessionID string
	Cookies   []Cookie
	Storage   map[string]map[string]string
}

// BrowserStateResult answers ExportBrowserState and ImportBrowserState.
type BrowserStateResult struct {
	SessionID string       `json:"session_id"`
	State     BrowserState `json:"state"`
}

// TargetSession implements SessionTargeted.
func (m *ExportBrowserState) TargetSession() string { return m.SessionID }

// TargetSession implements SessionTargeted.
func (m *ImportBrowserState) TargetSession() string { return m.SessionID }

// NewBrowserState writes cookies and localStorage in storageState form (origins sorted).
func NewBrowserState(cookies []Cookie, storage map[string]map[string]string) BrowserState {
	st := BrowserState{Cookies: make([]StateCookie, 0, len(cookies)), Origins: make([]StateOrigin, 0, len(storage))}
	for _, c := range cookies {
		sc := StateCookie{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, Expires: c.Expires,
			HTTPOnly: c.HTTPOnly, Secure: c.Secure, SameSite: c.SameSite}
		if sc.Expires <= 0 {
			sc.Expires = -1
		}
		if sc.Path == "" {
			sc.Path = "/"
		}
		if sc.SameSite == "" {
			sc.SameSite = "Lax"
		}
		st.Cookies = append(st.Cookies, sc)
	}
	origins := make([]string, 0, len(storage))
	for o := range storage {
		origins = append(origins, o)
	}
	sort.Strings(origins)
	for _, o := range origins {
		keys := make([]string, 0, len(storage[o]))
		for k := range storage[o] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		so := StateOrigin{Origin: o, LocalStorage: make([]NameValue, 0, len(keys))}
		for _, k := range keys {
			so.LocalStorage = append(so.LocalStorage, NameValue{Name: k, Value: storage[o][k]})
		}
		st.Origins = append(st.Origins, so)
	}
	return st
}

// Split is the state's cookies and localStorage as troupe keeps them.
func (st BrowserState) Split() ([]Cookie, map[string]map[string]string) {
	cookies := make([]Cookie, 0, len(st.Cookies))
	for _, c := range st.Cookies {
		mc := Cookie{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, HTTPOnly: c.HTTPOnly, Secure: c.Secure, SameSite: c.SameSite}
		if c.Expires > 0 {
			mc.Expires = c.Expires
		}
		cookies = append(cookies, mc)
	}
	storage := map[string]map[string]string{}
	for _, o := range st.Origins {
		items := storage[o.Origin]
		if items == nil {
			items = map[string]string{}
		}
		for _, nv := range o.LocalStorage {
			items[nv.Name] = nv.Value
		}
		storage[o.Origin] = maps.Clone(items)
	}
	return cookies, storage
}

// CloneSession makes a new session from a live one (DESIGN §14): the same state, labels, browser
// state and children specs (children started fresh under the new id). CopyWorkspace gives the
// clone a copy of the workspace; without it the clone works in the same directory, which it does
// not own (deleting the clone never removes or archives it).
type CloneSession struct {
	SessionID     string
	NewSessionID  string
	CopyWorkspace bool
	// Owner is the principal the clone will belong to; empty: local.
	Owner string
}

// TargetSession implements SessionTargeted.
func (m *CloneSession) TargetSession() string { return m.SessionID }
