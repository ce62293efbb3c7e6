package audit

import (
	"net/url"
	"regexp"
	"strings"
)

// The classes of secrets found by name: a long word anywhere in the name (secretWords), or a
// short word that stands alone between separators (secretShortWords: "GH_PAT" and "DB_PASS" are
// secret, "PATH" and "PASSENGER" are not).
var (
	secretWords = []string{
		"TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "AUTH", "CREDENTIAL",
		"COOKIE", "PRIVATE", "SIGNATURE", "BEARER", "CERT", "SALT",
	}
	secretShortWords = map[string]bool{
		"PASS": true, "PWD": true, "PW": true, "PAT": true, "PIN": true, "OTP": true, "DSN": true,
		"SIG": true, "CONNSTR": true,
	}
	// notSecret are whole names that contain a secret word by accident: the shell's current and
	// previous directories.
	notSecret = map[string]bool{"PWD": true, "OLDPWD": true}
	// credentialStores are words that, next to URL or URI, name a connection string with a
	// password in it (DATABASE_URL, REDIS_URI).
	credentialStores = map[string]bool{
		"DATABASE": true, "DB": true, "REDIS": true, "MONGO": true, "MONGODB": true, "POSTGRES": true,
		"POSTGRESQL": true, "PG": true, "MYSQL": true, "AMQP": true, "BROKER": true, "CONNECTION": true,
	}
)

// LooksSecret reports whether a name (an environment variable, a details key, a flag, a query
// parameter) marks its value as secret: it contains TOKEN, KEY, SECRET, PASSWORD, AUTH,
// COOKIE, … in any case, has a word such as PASS, PWD, PAT, PIN, OTP or DSN, or names a
// connection string (DATABASE_URL).
func LooksSecret(name string) bool {
	up := strings.ToUpper(name)
	if notSecret[up] {
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(up, w) {
			return true
		}
	}
	words := strings.FieldsFunc(up, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') })
	url, store := false, false
	for _, w := range words {
		switch {
		case secretShortWords[w]:
			return true
		case w == "URL" || w == "URI":
			url = true
		case credentialStores[w]:
			store = true
		}
	}
	return url && store
}

// urlPattern finds URLs inside free text: a scheme, "://" and everything up to a space or a
// quote.
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)

// redactText replaces, in a string that is not itself secret, the secrets that URLs carry: the
// password of their user info and the values of secret-named query parameters.
func (r redactor) redactText(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlPattern.ReplaceAllStringFunc(s, r.redactURL)
}

// redactURL redacts one URL: the password of its user info and the values of its
// secret-named query parameters. It works on the text as written (no parse and re-encode), so
// that everything else stays as it was and the HMACs read as they do elsewhere.
func (r redactor) redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authEnd := strings.IndexAny(rest, "/?#")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	auth, path := rest[:authEnd], rest[authEnd:]
	if at := strings.LastIndex(auth, "@"); at >= 0 {
		if user, pw, has := strings.Cut(auth[:at], ":"); has && !isRedacted(pw) {
			auth = user + ":" + r.secret(unescape(pw)) + auth[at:]
		}
	}
	if q := strings.IndexByte(path, '?'); q >= 0 {
		query, frag := path[q+1:], ""
		if h := strings.IndexByte(query, '#'); h >= 0 {
			query, frag = query[:h], query[h:]
		}
		params := strings.Split(query, "&")
		for i, p := range params {
			k, v, has := strings.Cut(p, "=")
			if has && LooksSecret(unescape(k)) && !isRedacted(v) {
				params[i] = k + "=" + r.secret(unescape(v))
			}
		}
		path = path[:q+1] + strings.Join(params, "&") + frag
	}
	return scheme + "://" + auth + path
}

// unescape decodes %XX escapes, keeping the text as it is when they are malformed.
func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// redactFlags redacts, in a list of command-line arguments, the value of every secret-named
// flag: "--token=X" becomes "--token=<hmac>", and "--api-key X" has X replaced.
func (r redactor) redactFlags(args []any) {
	for i := 0; i < len(args); i++ {
		s, ok := args[i].(string)
		if !ok || len(s) < 2 || s[0] != '-' {
			continue
		}
		name, value, inline := strings.Cut(strings.TrimLeft(s, "-"), "=")
		if !LooksSecret(name) {
			continue
		}
		if inline {
			args[i] = s[:len(s)-len(value)] + r.secret(value)
			continue
		}
		if i+1 < len(args) {
			if next, ok := args[i+1].(string); ok && !strings.HasPrefix(next, "-") {
				args[i+1] = r.secret(next)
				i++
			}
		}
	}
}
