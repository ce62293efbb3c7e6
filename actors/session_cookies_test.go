package actors

import (
	"fmt"
	"slices"
	"testing"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/messages"
)

func hasMessageCookie(cs []messages.Cookie, name, value string) bool {
	return slices.ContainsFunc(cs, func(c messages.Cookie) bool { return c.Name == name && c.Value == value })
}

// A cookie the browser sets by itself (a fetch after the page loaded) is saved with no call
// (DESIGN §14).
func TestCookiesTheBrowserSetsAreSavedWithoutACall(t *testing.T) {
	h, fake := pageHarness(t, nil)
	h.mustCreate("s")
	h.mustPage("s", "p", homeURL)
	fake.SetCookiesInBrowser("s", []browser.Cookie{{Name: "late", Value: "1", URL: homeURL}})
	waitFor(t, func() bool { return hasMessageCookie(h.record("s").Cookies, "late", "1") },
		func() string { return fmt.Sprintf("stored cookies %+v", h.record("s").Cookies) })
}
