package testutil

import "strings"

// HandValidID is the id rule written out by hand, as an oracle for the fuzz tests of the real
// one (internal/ids): DESIGN §7's ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ plus git's ref-component
// rules (no "..", no final "." or ".lock": an id names a preserved git ref).
func HandValidID(id string) bool {
	if len(id) < 1 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return !strings.Contains(id, "..") && !strings.HasSuffix(id, ".") && !strings.HasSuffix(id, ".lock")
}
