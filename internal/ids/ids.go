// Package ids holds troupe's one id rule (DESIGN §7): what a session id, a child name and a
// snapshot id look like. The actors check what clients give, the workspace package what names a
// directory and a git ref; both ask here.
package ids

import "regexp"

// pattern is DESIGN §7's id rule.
var pattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Valid reports whether id follows the rule.
func Valid(id string) bool { return pattern.MatchString(id) }

// Rule is the rule in words, for error messages.
const Rule = "1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
