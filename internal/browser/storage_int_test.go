package browser

import (
	"context"
	"testing"
	"time"
)

// waitStorage waits for c's CookiesChanged until LastLocalStorage has origin's key = value.
func waitStorage(t *testing.T, c Context, origin, key, value string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for c.LastLocalStorage()[origin][key] != value {
		select {
		case <-c.CookiesChanged():
		case <-deadline:
			t.Fatalf("localStorage %s %s=%q not seen; last seen %+v", origin, key, value, c.LastLocalStorage())
		}
	}
}

// A token a page writes into localStorage is seen without a call; a new context given it has it
// before the page's own scripts run; a logout in that context is not undone by the next load.
func TestLocalStorageIsReadAndRestoredBeforeScripts(t *testing.T) {
	d, s := shared(t), newSite(t)
	origin := s.URL
	c := openContext(t, d, "ls-one", nil)
	p := openPage(t, c, s.url("/spa"))
	if _, err := p.Action(context.Background(), ActionRequest{Action: ActionClick, Selector: "#login"}); err != nil {
		t.Fatal(err)
	}
	waitStorage(t, c, origin, "token", "abc123")

	c2 := openContext(t, d, "ls-two", nil)
	if err := c2.SetLocalStorage(context.Background(), c.LastLocalStorage()); err != nil {
		t.Fatal(err)
	}
	p2 := openPage(t, c2, s.url("/spa"))
	if _, title := p2.Info(); title != "token=abc123" {
		t.Fatalf("the page's first script saw %q, want the restored token", title)
	}
	if _, err := p2.Action(context.Background(), ActionRequest{Action: ActionClick, Selector: "#logout"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the logout seen", func() bool { return len(c2.LastLocalStorage()[origin]) == 0 })
	if _, err := p2.Navigate(context.Background(), s.url("/spa")); err != nil {
		t.Fatal(err)
	}
	if _, title := p2.Info(); title != "token=none" {
		t.Errorf("after a logout the next load shows %q: the restore came back", title)
	}
	// Isolation: the first context never saw the second's logout, a third sees nothing.
	if c.LastLocalStorage()[origin]["token"] != "abc123" {
		t.Errorf("another context's logout reached this one: %+v", c.LastLocalStorage())
	}
	c3 := openContext(t, d, "ls-three", nil)
	if _, title := openPage(t, c3, s.url("/spa")).Info(); title != "token=none" {
		t.Errorf("a fresh context sees %q", title)
	}
}

func TestLocalStorageOriginsAreChecked(t *testing.T) {
	c := openContext(t, shared(t), "ls-bad", nil)
	for _, o := range []string{"example.com", "https://example.com/path", "ftp://x", "https://Example.com"} {
		if err := c.SetLocalStorage(context.Background(), Storage{o: {"k": "v"}}); err == nil {
			t.Errorf("origin %q accepted", o)
		}
	}
}
