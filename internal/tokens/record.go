package tokens

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/principal"
)

// Scope is what a token's principal may do (DESIGN §12).
type Scope string

// The scopes, from least to most.
const (
	ScopeRead  = Scope(principal.Read)  // read-only tools on its own sessions
	ScopeWrite = Scope(principal.Write) // every tool on its own sessions
	ScopeAudit = Scope(principal.Audit) // read-only tools and audit_query on every session
	ScopeAdmin = Scope(principal.Admin) // everything
)

// Scopes lists every scope, in the order help texts show them.
var Scopes = []Scope{ScopeRead, ScopeWrite, ScopeAudit, ScopeAdmin}

// ParseScope returns the scope named s, or an error listing the valid ones.
func ParseScope(s string) (Scope, error) {
	for _, sc := range Scopes {
		if string(sc) == s {
			return sc, nil
		}
	}
	return "", fmt.Errorf("%w %q: use one of %s", ErrInvalidScope, s, scopeList())
}

func scopeList() string {
	names := make([]string, len(Scopes))
	for i, sc := range Scopes {
		names[i] = string(sc)
	}
	return strings.Join(names, ", ")
}

// ReservedName is the principal of unix-socket and --no-auth clients; no token may take it, so
// the audit log's principals stay unambiguous.
const ReservedName = principal.LocalName

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidateName checks the naming rule: 1–64 characters of a-z, 0-9, '.', '_' and '-', starting
// with a letter or digit, and not the reserved name "local".
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w %q: use 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit",
			ErrInvalidName, name)
	}
	if name == ReservedName {
		return fmt.Errorf("%w %q: it is reserved for clients on the local socket; pick another name", ErrInvalidName, name)
	}
	return nil
}

// Record is a token's principal as listed and authenticated. It never carries the token or its
// hash, so nothing that prints a Record can leak them.
type Record struct {
	Name      string     `json:"name"`
	Scope     Scope      `json:"scope"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Revoked reports whether the token was revoked.
func (r Record) Revoked() bool { return r.RevokedAt != nil }
