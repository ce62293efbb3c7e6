// Package audit is troupe's tamper-evident audit log (DESIGN §6): the event schema, one
// hash-chained writer with durable group commit, verification, queries and redaction of secrets.
//
// # Files
//
// Under <data>/audit/ (mode 0700) the writer owns the segments audit-000001.jsonl,
// audit-000002.jsonl, … (mode 0600), rotated by size with the chain running across them; a head
// file audit.head, which records the last durable seq and hash so that lines cut from the end are
// noticed; and a lock file .lock, so that only one writer runs. A torn last line found at start-up
// is moved to <segment>.torn.N next to its segment. The HMAC key for redaction is
// <data>/audit.key (0600), outside the audit directory. OpenAt puts the directory and the key
// elsewhere: in a cluster each node keeps its own chain in the shared blob dir (see
// internal/cluster's AuditDir).
//
// # Line layout
//
// Each event is serialized by zerolog into a JSON object E (the exact "event bytes"): its keys, in
// this order, are seq, time (RFC 3339, UTC), action, stage, actor, session, target, outcome,
// duration_ms, details and prev, with empty ones left out except seq, time, action and prev.
// prev is the hash of the line before, or 64 "0" for the first line of the log.
//
//	hash = lowercase hex of SHA-256( prev as 64 ASCII hex digits || E )
//
// The line stored is E without its closing "}", then `,"hash":"<hash>"}` and "\n":
//
//	{"seq":7,"time":"…","action":"session.create",…,"prev":"<64 hex>","hash":"<64 hex>"}\n
//
// so a verifier recovers E exactly by cutting the fixed 75-byte suffix `,"hash":"<64 hex>"}` and
// appending "}": nothing is ever re-serialized. Verification checks, line by line, that the
// suffix and E are well-formed, that the hash matches, that prev is the hash of the line before
// and that seq is one more than the seq before; and at the end that the log reaches the seq and
// hash recorded in audit.head.
//
// A hash chain shows edits, removals, reordering and truncation by anyone who does not also
// rewrite every later hash and the head file; record `troupe audit verify`'s last hash elsewhere
// to anchor it against that too.
//
// # Durability
//
// Append returns only once its line is written and fsynced. Appends that arrive while a write is
// in progress wait and are written together: one fsync serves every event waiting at that moment.
// After a failed write or fsync the log refuses every further append (fail closed), so a caller
// that records "requested" before a mutating tool never runs the tool unrecorded.
//
// # Lock order
//
// Log.mu guards the in-memory state (seq, prev, pending lines, the sticky error); the files are
// touched only by the one goroutine holding the flushing role, without mu held.
package audit
