package browser

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestCookiesFor(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	cs := []Cookie{
		{Name: "host", Domain: "a.test", Path: "/"},
		{Name: "dom", Domain: ".a.test", Path: "/"},
		{Name: "sub", Domain: "www.a.test", Path: "/"},
		{Name: "path", Domain: "a.test", Path: "/app"},
		{Name: "secure", Domain: "a.test", Path: "/", Secure: true},
		{Name: "old", Domain: "a.test", Path: "/", Expires: 999_999},
		{Name: "fresh", Domain: "a.test", Path: "/", Expires: 1_000_001},
	}
	for raw, want := range map[string][]string{
		"http://a.test/":           {"host", "dom", "fresh"},
		"https://a.test/app/x":     {"host", "dom", "path", "secure", "fresh"},
		"http://a.test/apple":      {"host", "dom", "fresh"},
		"http://www.a.test/":       {"dom", "sub"},
		"http://b.test/":           nil,
		"http://a.test/app":        {"host", "dom", "path", "fresh"},
		"http://x.www.a.test/app/": {"dom"},
	} {
		u, _ := url.Parse(raw)
		var got []string
		for _, c := range cookiesFor(cs, u, now) {
			got = append(got, c.Name)
		}
		if len(got) != len(want) {
			t.Errorf("cookiesFor(%s) = %v, want %v", raw, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("cookiesFor(%s) = %v, want %v", raw, got, want)
				break
			}
		}
	}
}

func TestDefaultCookiePath(t *testing.T) {
	for raw, want := range map[string]string{
		"http://a/": "/", "http://a": "/", "http://a/x": "/", "http://a/x/y": "/x", "http://a/x/y/": "/x/y",
	} {
		u, _ := url.Parse(raw)
		if got := defaultCookiePath(u); got != want {
			t.Errorf("defaultCookiePath(%s) = %q, want %q", raw, got, want)
		}
	}
}

func TestParseKey(t *testing.T) {
	for _, s := range []string{"Enter", "enter", "Tab", "Escape", "ArrowDown", "a", "Z", "+", "Control+a", "Shift+Tab", "Control+Shift+k", "Control++", " "} {
		if _, err := parseKey(s); err != nil {
			t.Errorf("parseKey(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "Hyper+a", "é", "NoSuchKey", "Control+"} {
		if _, err := parseKey(s); !errorsIs(err, ErrBadRequest) {
			t.Errorf("parseKey(%q) = %v, want ErrBadRequest", s, err)
		}
	}
	ch, _ := parseKey("Control+Shift+k")
	if len(ch.modifiers) != 2 || ch.key != 'k' {
		t.Errorf("Control+Shift+k = %+v", ch)
	}
}

func TestCheckKept(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	ck := func(name, value string) Cookie { return Cookie{Name: name, Value: value, Domain: "x.test", Path: "/"} }
	past := ck("gone", "")
	past.Expires = 10
	tests := []struct {
		name               string
		before, set, after []Cookie
		wantErr            string
	}{
		{"all kept", []Cookie{ck("old", "1")}, []Cookie{ck("a", "1")}, []Cookie{ck("old", "1"), ck("a", "1")}, ""},
		{"replaced", []Cookie{ck("a", "0")}, []Cookie{ck("a", "1")}, []Cookie{ck("a", "1")}, ""},
		{"deleted by a past expiry", []Cookie{ck("gone", "1")}, []Cookie{past}, nil, ""},
		{"new one dropped", nil, []Cookie{ck("a", "1"), ck("b", "1")}, []Cookie{ck("a", "1")}, "did not keep 1 of the 2 cookies set and evicted 0 it held (b)"},
		{"old one evicted", []Cookie{ck("old", "1")}, []Cookie{ck("a", "1")}, []Cookie{ck("a", "1")}, "did not keep 0 of the 1 cookies set and evicted 1 it held (old)"},
	}
	for _, tt := range tests {
		err := checkKept(tt.before, tt.set, tt.after, now)
		if got := fmt.Sprint(err); (tt.wantErr == "") != (err == nil) || !strings.Contains(got, tt.wantErr) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.wantErr)
		}
		if err != nil && !errorsIs(err, ErrBadRequest) {
			t.Errorf("%s: got %v, want an ErrBadRequest", tt.name, err)
		}
	}
}
