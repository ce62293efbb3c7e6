package proptest

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// outcomes counts the outcomes the ops reached ("expire: rolled_back"), so that TestLifecycle
// can show them (-v) and make sure the generators still reach the interesting ones: a change
// that made them unreachable would leave properties that hold vacuously.
var outcomes = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// reached counts one outcome of op: an error code, or "ok" for none, or a word.
func reached[C ~string](op string, outcome C) {
	o := string(outcome)
	if o == "" {
		o = "ok"
	}
	outcomes.Lock()
	defer outcomes.Unlock()
	outcomes.n[op+": "+o]++
}

// mustReach are outcomes a run of 100 checks reaches ten times or more on average (each entry
// is reached when one of its alternatives is), so that missing one means a broken generator,
// not bad luck.
var mustReach = [][]string{
	{"create_session: limit_exceeded", "restore_session: limit_exceeded"},
	{"create_agent: limit_exceeded", "open_page: limit_exceeded"},
	{"update_state: invalid_argument", "update_state: too_large"},
	{"delete_session: ok"},
	{"delete_session: busy", "expire: busy", "delete_child: busy"},
	{"delete_session: rolled_back", "expire: rolled_back"},
	{"delete_child: internal", "delete_session: forced past a stop failure"},
	{"expire: ok"},
	{"restore_session: ok"},
	{"restore_session: already_exists"},
	{"restart: with sessions"},
}

func resetOutcomes() {
	outcomes.Lock()
	defer outcomes.Unlock()
	outcomes.n = map[string]int{}
}

// checkOutcomes logs what the run reached and fails when a run of at least 500 checks missed
// one of mustReach (a run of make test's 100 checks may miss a rare one by chance).
func checkOutcomes(t *testing.T) {
	outcomes.Lock()
	defer outcomes.Unlock()
	var b strings.Builder
	for _, k := range sortedKeys(outcomes.n) {
		fmt.Fprintf(&b, "\n  %-50s %d", k, outcomes.n[k])
	}
	t.Logf("outcomes reached:%s", b.String())
	checks := 0
	if f := flag.Lookup("rapid.checks"); f != nil {
		checks, _ = strconv.Atoi(f.Value.String())
	}
	if t.Failed() || checks < 500 || testing.Short() {
		return
	}
	for _, alts := range mustReach {
		n := 0
		for _, k := range alts {
			n += outcomes.n[k]
		}
		if n == 0 {
			t.Errorf("no run reached %s: the generators no longer exercise it", strings.Join(alts, " or "))
		}
	}
}
