package browser

import (
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	deny := Policy{DenyHosts: []string{"evil.test", "10.0.0.1"}}
	allow := Policy{AllowHosts: []string{"*.good.test", "127.0.0.1"}, DenyHosts: []string{"bad.good.test"}}
	files := Policy{AllowSchemes: []string{"http", "https", "file"}}
	allowAll := Policy{AllowHosts: []string{"169.254.0.1"}}
	own := Policy{DenyAddrs: []string{"127.0.0.1:7777"}}
	ownWS := Policy{AllowSchemes: []string{"http", "https", "ws"}, DenyAddrs: []string{"127.0.0.1:7777"}}
	for _, tc := range []struct {
		raw  string
		p    Policy
		want error
	}{
		{"https://example.com/a?b#c", Policy{}, nil},
		{"  http://example.com  ", Policy{}, nil},
		{"HTTP://EXAMPLE.COM/", Policy{}, nil},
		{"about:blank", Policy{}, nil},
		{"http://[::1]:8080/", Policy{}, nil},
		{"file:///etc/passwd", Policy{}, ErrURLNotAllowed},
		{"chrome://settings", Policy{}, ErrURLNotAllowed},
		{"javascript:alert(1)", Policy{}, ErrURLNotAllowed},
		{"data:text/html,hi", Policy{}, ErrURLNotAllowed},
		{"ftp://example.com/", Policy{}, ErrURLNotAllowed},
		{"about:config", Policy{}, ErrURLNotAllowed},
		{"", Policy{}, ErrBadURL},
		{"example.com", Policy{}, ErrBadURL},
		{"//example.com/x", Policy{}, ErrBadURL},
		{"localhost:3000/x", Policy{}, ErrBadURL},
		{"http://", Policy{}, ErrBadURL},
		{"https:///path", Policy{}, ErrBadURL},
		{"http://exa mple.com/", Policy{}, ErrBadURL},
		{"http://[::1/", Policy{}, ErrBadURL},
		{"http://evil.test/", deny, ErrURLNotAllowed},
		{"http://www.EVIL.test./x", deny, ErrURLNotAllowed},
		{"http://notevil.test/", deny, nil},
		{"http://10.0.0.1:8080/", deny, ErrURLNotAllowed},
		{"http://good.test/", allow, nil},
		{"http://a.b.good.test/", allow, nil},
		{"http://bad.good.test/", allow, ErrURLNotAllowed},
		{"http://127.0.0.1:9/", allow, nil},
		{"http://example.com/", allow, ErrURLNotAllowed},
		{"file:///tmp/x", files, nil},
		// Link-local (cloud metadata) is refused by default, in every form Chromium reads.
		{"http://169.254.169.254/latest/meta-data/", Policy{}, ErrURLNotAllowed},
		{"http://169.254.0.1:8080/", allowAll, ErrURLNotAllowed},
		{"http://2852039166/", Policy{}, ErrURLNotAllowed},
		{"http://0xa9.0xfe.0xa9.0xfe/", Policy{}, ErrURLNotAllowed},
		{"http://0251.0376.0251.0376/", Policy{}, ErrURLNotAllowed},
		{"http://169.254.43518/", Policy{}, ErrURLNotAllowed},
		{"http://[fe80::1]/", Policy{}, ErrURLNotAllowed},
		{"http://[febf::1]/", Policy{}, ErrURLNotAllowed},
		{"http://[::ffff:169.254.169.254]/", Policy{}, ErrURLNotAllowed},
		{"http://169.253.255.255/", Policy{}, nil},
		{"http://[fec0::1]/", Policy{}, nil},
		{"http://1.2.3/", Policy{}, nil},
		// troupe's own listeners, by any loopback name.
		{"http://127.0.0.1:7777/mcp", own, ErrURLNotAllowed},
		{"http://localhost:7777/", own, ErrURLNotAllowed},
		{"http://[::1]:7777/", own, ErrURLNotAllowed},
		{"http://127.1:7777/", own, ErrURLNotAllowed},
		{"ws://127.0.0.1:7777/", ownWS, ErrURLNotAllowed},
		{"http://127.0.0.1:7778/", own, nil},
		{"http://10.1.2.3:7777/", own, nil},
		{"https://example.com/", Policy{DenyAddrs: []string{"0.0.0.0:443"}}, nil},
		{"https://localhost/", Policy{DenyAddrs: []string{"0.0.0.0:443"}}, ErrURLNotAllowed},
		{"http://example.com:8080/", Policy{DenyAddrs: []string{"example.com:8080"}}, ErrURLNotAllowed},
	} {
		_, err := CheckURL(tc.raw, tc.p)
		if !errorsIs(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckURL(%q, %+v) = %v, want %v", tc.raw, tc.p, err, tc.want)
		}
	}
}

func TestCheckURLMessagesSayWhatToDo(t *testing.T) {
	for raw, want := range map[string]string{
		"example.com/x":      "https://example.com/x",
		"file:///etc/passwd": "only http and https",
		"":                   "give a full URL",
	} {
		if _, err := CheckURL(raw, Policy{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckURL(%q) = %v, want a message with %q", raw, err, want)
		}
	}
	if _, err := CheckURL("http://x.test/", Policy{AllowHosts: []string{"y.test"}}); err == nil || !strings.Contains(err.Error(), "y.test") {
		t.Errorf("allow-list refusal %v does not name the list", err)
	}
}
