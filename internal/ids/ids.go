// Package ids holds troupe's one id rule (DESIGN §7): what a session id, a child name and a
// snapshot id look like. The actors check what clients give, the workspace package what names a
// directory and a git ref; both ask here.
package ids

import (
	"regexp"
	"strings"
)

// MaxLen is the longest id: 64 characters.
const MaxLen = 64

// pattern is DESIGN §7's id rule.
var pattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Valid reports whether id follows the rule: DESIGN §7's pattern, and what git refuses in a ref
// component, since a session id and a snapshot id name the ref that holds preserved work
// (refs/troupe/preserved/<session>/<snapshot>; git check-ref-format): no "..", no final "."
// and no final ".lock". Such an id would be accepted at first and fail later, when a restore
// or a delete needs its directory or its ref, so it is refused wherever an id is taken.
func Valid(id string) bool {
	return pattern.MatchString(id) && !strings.Contains(id, "..") &&
		!strings.HasSuffix(id, ".") && !strings.HasSuffix(id, ".lock")
}

// Rule is the rule in words, for error messages. It stays under the 128 bytes that
// messages.Errorf quotes whole.
const Rule = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, without '..', not ending in '.' or '.lock'"
