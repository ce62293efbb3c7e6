package proptest

import (
	"flag"
	"testing"

	"go.uber.org/goleak"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// shrinkTime is rapid's time limit for shrinking a failure unless -rapid.shrinktime says
// otherwise: each try starts a tree, so rapid's default of 30 s can leave steps that play no
// part in the failure; two minutes get it down to the few that do.
const shrinkTime = "2m"

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.shrinktime" })
	if !set {
		if err := flag.Set("rapid.shrinktime", shrinkTime); err != nil {
			panic(err)
		}
	}
	goleak.VerifyTestMain(m, testutil.LeakOptions()...)
}
