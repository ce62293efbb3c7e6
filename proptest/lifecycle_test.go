package proptest

import (
	"testing"

	"pgregory.net/rapid"
)

// lifecycle is one run: a fresh tree and model, a random sequence of actions with the
// invariants checked after each, then the closed audit log checked as a whole.
func lifecycle(t *rapid.T) {
	w := newWorld(t)
	t.Repeat(w.actions())
	w.teardown()
	w.checkFinalAudit(t)
}

// TestLifecycle is issue 7's state machine. `go test ./proptest/ -rapid.checks=1000` runs it
// longer; failures are saved under testdata/rapid/TestLifecycle and replayed with
// -rapid.failfile.
func TestLifecycle(t *testing.T) {
	resetOutcomes()
	rapid.Check(t, lifecycle)
	checkOutcomes(t, func() { rapid.Check(t, lifecycle) })
}

// FuzzLifecycle lets the fuzzer drive the same state machine (make fuzz).
func FuzzLifecycle(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(lifecycle))
}
