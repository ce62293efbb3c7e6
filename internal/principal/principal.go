// Package principal names who is asking (DESIGN §12): a token's name and scope over TCP, or
// "local" (an admin) on the unix socket and with --no-auth. The daemon's HTTP layer puts one in
// every request's context; the tool layer reads it to decide what a call may see and change.
package principal

import "context"

// Scope is what a principal may do, from least to most (the same words as a token's scope).
type Scope string

// The scopes (DESIGN §12).
const (
	// Read: read-only tools on its own sessions (and audit_query of them).
	Read Scope = "read"
	// Write: every tool on its own sessions.
	Write Scope = "write"
	// Audit: read-only tools and audit_query on every session; changes nothing.
	Audit Scope = "audit"
	// Admin: everything, on every session.
	Admin Scope = "admin"
)

// LocalName is the principal of unix-socket clients (the same OS user) and of --no-auth TCP
// clients; no token may take this name.
const LocalName = "local"

// Principal is who a call runs for.
type Principal struct {
	Name  string
	Scope Scope
}

// Local is the principal of the unix socket, stdio and --no-auth: an admin.
var Local = Principal{Name: LocalName, Scope: Admin}

// MayChange reports whether the principal may call tools that change something.
func (p Principal) MayChange() bool { return p.Scope == Write || p.Scope == Admin }

// SeesAll reports whether the principal may read every session, not only its own.
func (p Principal) SeesAll() bool { return p.Scope == Audit || p.Scope == Admin }

// ChangesAll reports whether the principal may change every session, not only its own.
func (p Principal) ChangesAll() bool { return p.Scope == Admin }

type key struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p Principal) context.Context { return context.WithValue(ctx, key{}, p) }

// From returns the principal ctx carries, or Local when it carries none (stdio, in-process
// servers and tests run for the local user).
func From(ctx context.Context) Principal {
	if p, ok := ctx.Value(key{}).(Principal); ok {
		return p
	}
	return Local
}
