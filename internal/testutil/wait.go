package testutil

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds and fails the test when timeout passes first, saying
// what was awaited and, if given, what describe reports of the state seen last. The timeout only
// keeps a broken test from hanging; it is no assertion on speed.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool, describe ...func() string) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			msg := what + ": not reached within " + timeout.String()
			for _, d := range describe {
				msg += ": " + d()
			}
			tb.Fatal(msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
