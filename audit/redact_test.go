package audit

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLooksSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"GITHUB_TOKEN": true, "api_key": true, "AWS_SECRET_ACCESS_KEY": true, "DB_PASSWORD": true,
		"Authorization": true, "cookie": true, "passwd": true, "PRIVATE_PEM": true,
		"HOME": false, "PATH": false, "PWD": false, "LANG": false, "session": false, "url": false,
		// Issue 11: short words standing alone, and connection strings.
		"PASS": true, "DB_PASS": true, "PWD_DB": true, "GH_PAT": true, "DATABASE_URL": true, "redis-uri": true,
		"SMTP_PW": true, "PG_DSN": true, "otp": true, "api-key": true,
		"OLDPWD": false, "PASSENGER": false, "PATTERN": false, "SPINNER": false, "BASE_URL": false, "url_path": false,
	} {
		if got := LooksSecret(name); got != want {
			t.Errorf("LooksSecret(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRedactIsAStableHMAC(t *testing.T) {
	l, data := openLog(t, Options{})
	a, b := l.Redact("API_TOKEN", "s3cr3t"), l.RedactSecret("s3cr3t")
	if !strings.HasPrefix(a, "hmac-sha256:") || len(a) != len("hmac-sha256:")+64 || a != b {
		t.Fatalf("Redact = %q, RedactSecret = %q; want the same hmac-sha256:<64 hex>", a, b)
	}
	if got := l.Redact("HOME", "/root"); got != "/root" {
		t.Fatalf("Redact(HOME) = %q, want the value unchanged", got)
	}
	if l.RedactSecret("other") == a {
		t.Fatal("different secrets gave the same HMAC")
	}
	if l.RedactSecret(a) != a {
		t.Fatal("redacting a redacted value changed it")
	}
	l.Close()
	l2, err := Open(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if got := l2.RedactSecret("s3cr3t"); got != a {
		t.Fatalf("after reopening: %q, want %q (the key is kept)", got, a)
	}
	l3, _ := openLog(t, Options{})
	if l3.RedactSecret("s3cr3t") == a {
		t.Fatal("two data directories share an HMAC key")
	}
}

// cookie is the shape a caller might pass in details.
type cookie struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Domain string `json:"domain"`
}

func TestNoSecretInClearInAnyAuditFile(t *testing.T) {
	secrets := []string{"tok-AAAA1111", "pw-BBBB2222", "ck-CCCC3333", "ck-DDDD4444", "hdr-EEEE5555", "ck-FFFF6666", "key-GGGG7777"}
	l, data := openLog(t, Options{SegmentSize: 1 << 10})
	env := map[string]string{"GITHUB_TOKEN": secrets[0], "HOME": "/home/u"}
	events := []Event{
		{Action: "agent.create", Details: map[string]any{"env": l.RedactEnv(env)}},
		{Action: "agent.create", Details: map[string]any{"env": env}}, // caller forgot: the safety net
		{Action: "session.create", Details: map[string]any{"password": secrets[1]}},
		{Action: "cookies.set", Details: map[string]any{"cookies": []cookie{{Name: "sid", Value: secrets[2], Domain: "example.com"}}}},
		{Action: "cookies.set", Details: map[string]any{"cookies": map[string]string{"sid": secrets[3]}}},
		{Action: "page.navigate", Details: map[string]any{"headers": map[string]any{"Authorization": "Bearer " + secrets[4]}}},
		{Action: "cookies.set", Details: map[string]any{"cookie_values": []string{secrets[5]}}},
		{Action: "agent.create", Details: map[string]any{"api_keys": []any{map[string]any{"k": secrets[6]}}}},
	}
	for _, e := range events {
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := l.Append(context.Background(), Event{Action: "cookies.set", Details: map[string]any{
		"cookies": []cookie{{Name: "sid", Value: secrets[2], Domain: "example.com"}}}})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()

	c := got.Details["cookies"].([]any)[0].(map[string]any)
	if c["name"] != "sid" || c["domain"] != "example.com" || c["value"] != l.RedactSecret(secrets[2]) {
		t.Fatalf("recorded cookie %v; want name and domain in clear, the value's HMAC", c)
	}
	err = filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the secret %q in clear", path, s)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, DirName, KeyName)); err == nil {
		t.Fatal("the HMAC key is inside the audit directory")
	}
}

func TestRedactTextAndFlags(t *testing.T) {
	r := redactor{key: make([]byte, keyLen)}
	h := r.secret
	for _, c := range []struct{ in, want string }{
		{"https://example.com/a?b=1", "https://example.com/a?b=1"},
		{"https://ann:pw1@example.com/x", "https://ann:" + h("pw1") + "@example.com/x"},
		{"see postgres://u:p%40ss@db:5432/app now", "see postgres://u:" + h("p@ss") + "@db:5432/app now"},
		{"https://x.test/cb?code=1&access_token=t0k&sig=abc#frag", "https://x.test/cb?code=1&access_token=" + h("t0k") + "&sig=" + h("abc") + "#frag"},
		{"https://ann@example.com/", "https://ann@example.com/"},
		{"no url here", "no url here"},
	} {
		if got := r.redactText(c.in); got != c.want {
			t.Errorf("redactText(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := r.redactText(r.redactText(c.in)); got != c.want {
			t.Errorf("redacting %q twice gave %q, want %q", c.in, got, c.want)
		}
	}
	args := []any{"--api-key", "k1", "--token=t1", "-v", "--password", "--verbose", "file", 3.0}
	r.redactFlags(args)
	want := []any{"--api-key", h("k1"), "--token=" + h("t1"), "-v", "--password", "--verbose", "file", 3.0}
	for i := range want {
		if args[i] != want[i] {
			t.Errorf("args[%d] = %v, want %v (all: %v)", i, args[i], want[i], args)
		}
	}
}
