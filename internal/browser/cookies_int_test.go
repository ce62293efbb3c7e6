package browser

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func hasCookie(cs []Cookie, name, value string) bool {
	return slices.ContainsFunc(cs, func(c Cookie) bool { return c.Name == name && c.Value == value })
}

func pageText(t *testing.T, p Page) string {
	t.Helper()
	c, err := p.Content(context.Background(), ContentRequest{Format: FormatText})
	if err != nil {
		t.Fatalf("Content: %v", err)
	}
	return c.Text
}

func TestCookiesAreIsolatedBetweenContexts(t *testing.T) {
	d, s := shared(t), newSite(t)
	a := openContext(t, d, "a", []Cookie{{Name: "token", Value: "secret-a", URL: s.url("/")}})
	b := openContext(t, d, "b", nil)

	pa, pb := openPage(t, a, s.url("/echo-cookies")), openPage(t, b, s.url("/echo-cookies"))
	if got := pageText(t, pa); !strings.Contains(got, "token=secret-a") {
		t.Errorf("context a sent %q, want token=secret-a", got)
	}
	if got := pageText(t, pb); strings.Contains(got, "token") {
		t.Errorf("context b sent %q, want no token", got)
	}
	ca, err := a.Cookies(context.Background(), s.url("/"))
	if err != nil || !hasCookie(ca, "token", "secret-a") {
		t.Errorf("a.Cookies = %v, %v; want token", ca, err)
	}
	cb, err := b.Cookies(context.Background(), "")
	if err != nil || len(cb) != 0 {
		t.Errorf("b.Cookies = %v, %v; want none", cb, err)
	}
}

func TestServerCookieStaysInItsContext(t *testing.T) {
	d, s := shared(t), newSite(t)
	a, b := openContext(t, d, "a", nil), openContext(t, d, "b", nil)
	openPage(t, a, s.url("/setcookie?name=sid&value=abc"))

	ca, err := a.Cookies(context.Background(), s.url("/echo-cookies"))
	if err != nil || !hasCookie(ca, "sid", "abc") {
		t.Fatalf("a.Cookies = %v, %v; want sid=abc", ca, err)
	}
	if !hasCookie(a.LastCookies(), "sid", "abc") {
		t.Errorf("a.LastCookies = %v, want sid=abc (seen after the navigation)", a.LastCookies())
	}
	if cb, _ := b.Cookies(context.Background(), ""); len(cb) != 0 {
		t.Errorf("b.Cookies = %v, want none", cb)
	}
	if got := pageText(t, openPage(t, b, s.url("/echo-cookies"))); strings.Contains(got, "sid") {
		t.Errorf("context b sent %q, want no sid", got)
	}
	other, err := a.Cookies(context.Background(), "http://other.example/")
	if err != nil || len(other) != 0 {
		t.Errorf("a.Cookies(other host) = %v, %v; want none", other, err)
	}
}

func TestSetCookiesValidates(t *testing.T) {
	d := shared(t)
	c := openContext(t, d, "v", nil)
	for _, bad := range [][]Cookie{
		{{Name: "", Value: "x", URL: "http://a.test/"}},
		{{Name: "n", Value: "x"}},
		{{Name: "n", Value: "x", URL: "file:///etc"}},
		{{Name: "n", Value: "x", Domain: "a.test", SameSite: "sometimes"}},
	} {
		if err := c.SetCookies(context.Background(), bad); !errorsIs(err, ErrBadRequest) {
			t.Errorf("SetCookies(%+v) = %v, want ErrBadRequest", bad, err)
		}
	}
	if err := c.SetCookies(context.Background(), []Cookie{{Name: "n", Value: "v", Domain: ".a.test", Path: "/", SameSite: "lax", Secure: true}}); err != nil {
		t.Fatalf("SetCookies: %v", err)
	}
	got, err := c.Cookies(context.Background(), "https://www.a.test/x")
	if err != nil || !hasCookie(got, "n", "v") || got[0].SameSite != "Lax" || !got[0].Secure {
		t.Errorf("Cookies = %+v, %v; want n=v, Lax, secure", got, err)
	}
	if got, _ := c.Cookies(context.Background(), "http://www.a.test/x"); len(got) != 0 {
		t.Errorf("secure cookie sent over http: %+v", got)
	}
}
