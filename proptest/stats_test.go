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

// mustReach are outcomes a run of 100 checks (make test) reaches about ten times or more on
// average, the rarest about six (each entry is reached when one of its alternatives is).
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
	{"send_keys: ok"},
	{"send_keys: invalid_argument (key name)"},
	{"send_keys: invalid_argument (pipes)", "read_agent_screen: invalid_argument (pipes)"},
	{"read_agent_screen: ok"},
	{"send_to_agent: ok"},
	{"end_process: terminal", "end_process: interactive"},
	{"restore_session: with a terminal agent"},
}

// topUpRuns and topUpChecks bound the extra runs checkOutcomes makes when a run missed an entry
// of mustReach. A run of 100 checks misses one of the rarest by chance about once in 400 runs;
// after two more runs of 100 the union misses it about once in 10^7, while a generator that can
// no longer reach it fails every time. The extra runs cost time only in those two cases.
const (
	topUpRuns   = 2
	topUpChecks = 100
)

func resetOutcomes() {
	outcomes.Lock()
	defer outcomes.Unlock()
	outcomes.n = map[string]int{}
}

// missed lists the entries of mustReach that no run reached so far.
func missed() []string {
	outcomes.Lock()
	defer outcomes.Unlock()
	var out []string
	for _, alts := range mustReach {
		n := 0
		for _, k := range alts {
			n += outcomes.n[k]
		}
		if n == 0 {
			out = append(out, strings.Join(alts, " or "))
		}
	}
	return out
}

// logOutcomes logs what the runs reached so far (go test -v).
func logOutcomes(t *testing.T) {
	outcomes.Lock()
	defer outcomes.Unlock()
	var b strings.Builder
	for _, k := range sortedKeys(outcomes.n) {
		fmt.Fprintf(&b, "\n  %-50s %d", k, outcomes.n[k])
	}
	t.Logf("outcomes reached:%s", b.String())
}

// checkOutcomes fails when the generators no longer reach an entry of mustReach, at any budget
// (make test runs 100 checks): what one run missed, run (more checks of the same property)
// gets topUpRuns chances to reach, counted over the union of the runs.
func checkOutcomes(t *testing.T, run func()) {
	t.Helper()
	if t.Failed() || testing.Short() { // -short divides the checks by five: too few to judge
		logOutcomes(t)
		return
	}
	f := flag.Lookup("rapid.checks")
	for i := 0; i < topUpRuns && len(missed()) > 0; i++ {
		t.Logf("not reached yet: %s; %d more checks", strings.Join(missed(), "; "), topUpChecks)
		if f != nil {
			old := f.Value.String()
			_ = f.Value.Set(strconv.Itoa(topUpChecks))
			defer func() { _ = f.Value.Set(old) }()
		}
		run()
		if t.Failed() {
			return
		}
	}
	logOutcomes(t)
	for _, m := range missed() {
		t.Errorf("no run reached %s: the generators no longer exercise it", m)
	}
}
