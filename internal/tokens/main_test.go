package tokens

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain doubles as the helper process of TestTokenConcurrentProcesses: with
// TROUPE_TOKENS_HELPER_DIR set, it creates TROUPE_TOKENS_HELPER_N tokens named after
// TROUPE_TOKENS_HELPER_PREFIX and exits.
func TestMain(m *testing.M) {
	if dir := os.Getenv("TROUPE_TOKENS_HELPER_DIR"); dir != "" {
		os.Exit(helperCreate(dir))
	}
	goleak.VerifyTestMain(m)
}

func helperCreate(dir string) int {
	prefix := os.Getenv("TROUPE_TOKENS_HELPER_PREFIX")
	var n int
	fmt.Sscan(os.Getenv("TROUPE_TOKENS_HELPER_N"), &n)
	s := Open(dir)
	for i := range n {
		if _, _, err := s.Create(fmt.Sprintf("%s-%03d", prefix, i), ScopeRead); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}
