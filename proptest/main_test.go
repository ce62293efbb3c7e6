package proptest

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/internal/testutil"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testutil.LeakOptions()...)
}
