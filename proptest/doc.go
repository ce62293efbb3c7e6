// Package proptest holds troupe's property-based tests (issue 7): a rapid state machine drives
// the real actor tree (package actors) with the fake process and browser drivers, an in-memory
// store, an injected clock and a real audit log, and compares it after every action with a
// plain-Go model of the session lifecycle. It has no code besides its tests.
package proptest
