// Package process runs the processes behind troupe's agents (DESIGN §2, §3) and keeps their output.
//
// A Driver starts processes from a Spec; Real is the one on os/exec, Fake (in fake.go) serves unit
// and property tests without any OS process. Every real process is the leader of its own process
// group, carries a parent-death signal so that it dies with the server, and works in the session's
// workspace with the server's environment plus the preset's and the call's. Stop sends SIGTERM to
// the whole group, waits a grace period, then sends SIGKILL; the leader is always reaped. When the
// leader exits on its own, what it left behind in its group is ended the same way (SIGTERM, then
// SIGKILL after LeftoverGrace), so that nothing an agent started outlives it.
//
// A Record (PID, process group, start time, token) is what the server persists so that, after a
// crash, KillStale can end what the crashed run left behind without ever hitting a reused PID.
//
// Output captures stdout and stderr as chunks with increasing sequence numbers: the newest ones in
// memory (bounded), all of them in a log file that survives restarts (ReopenOutput).
//
// Nothing in this package writes to stdout or logs: errors are returned, and say what to do.
package process
