// Package actors holds troupe's actor tree (DESIGN §2): the orchestrator, one session actor per
// session and, under each session, its children. Tool handlers talk to the tree only through the
// plain structs of package messages; every reply carries a typed *messages.Error instead of a
// panic, so that a caller never waits on a message a restart dropped.
//
// Lock ordering: there are no locks here; each actor's state is touched only by its own Receive.
package actors
