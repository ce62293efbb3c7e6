// Package tokens keeps the bearer tokens that let clients reach troupe over the network
// (DESIGN §12): a named principal with a scope, stored as a hash in <data>/tokens.json.
//
// The file is not in the bbolt store on purpose: the running daemon holds bbolt's file lock,
// and `troupe token create` and `revoke` must work while it runs. Writers (Store) serialize on an
// flock of <data>/tokens.lock and replace the file atomically; the daemon reads it through a
// Verifier, which notices a changed file within a fraction of a second, so a created or revoked
// token takes effect without a restart.
package tokens
