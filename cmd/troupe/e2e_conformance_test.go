package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
)

// TestE2EConformance runs every server scenario of the official MCP conformance suite
// (@modelcontextprotocol/conformance, pinned in testdata/node/package.json) against
// `troupe daemon --listen 127.0.0.1:0 --no-auth` (DESIGN §12). Every scenario not named in
// testdata/conformance/not-applicable.md must pass; that list may name only scenarios the suite
// has, and none that passes. TROUPE_CONFORMANCE_URL=http://HOST:PORT/mcp runs the suite against
// a server already running there instead, for debugging.
func TestE2EConformance(t *testing.T) {
	node, cli := conformanceCLI(t)
	notApplicable := readNotApplicable(t, filepath.Join("..", "..", "testdata", "conformance", "not-applicable.md"))
	scenarios := conformanceScenarios(t, node, cli)
	for name := range notApplicable {
		if !scenarios[name] {
			t.Errorf("not-applicable.md names %q, which the conformance suite does not have", name)
		}
	}
	if _, ok := notApplicable["dns-rebinding-protection"]; ok {
		t.Error("dns-rebinding-protection is on the not-applicable list; troupe's TCP listener must pass it")
	}

	url := os.Getenv("TROUPE_CONFORMANCE_URL")
	if url == "" {
		url = startNoAuthDaemon(t) + "/mcp"
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, cli, "server", "--url", url, "--suite", "all", "--output-dir", out)
	cmd.Dir = t.TempDir()
	// The exit status is not success while the not-applicable scenarios fail: each scenario's
	// checks are read below instead.
	output, _ := cmd.CombinedOutput()
	results := readConformanceResults(t, out)
	if len(results) == 0 {
		t.Fatalf("the conformance suite left no results in %s; its output:\n%s", out, output)
	}

	names := make([]string, 0, len(scenarios))
	for name := range scenarios {
		names = append(names, name)
	}
	sort.Strings(names)
	var passing []string
	for _, name := range names {
		checks, ran := results[name]
		if !ran {
			t.Errorf("%s: the suite recorded no result for it", name)
			continue
		}
		passed, problems, warnings := judgeChecks(checks)
		if reason, ok := notApplicable[name]; ok {
			if passed {
				t.Errorf("%s passes now; remove it from not-applicable.md (it says: %s)", name, reason)
			}
			continue
		}
		for _, w := range warnings {
			t.Logf("%s: warning: %s", name, w)
		}
		if !passed {
			t.Errorf("%s failed: %s", name, strings.Join(problems, "; "))
			continue
		}
		passing = append(passing, name)
	}
	t.Logf("%d scenarios passed (%s), %d not applicable", len(passing), strings.Join(passing, ", "), len(notApplicable))
	if t.Failed() {
		t.Logf("the conformance suite's output:\n%s", output)
	}
}

// conformanceCheck is one entry of a scenario's checks.json.
type conformanceCheck struct {
	ID           string `json:"id"`
	Status       string `json:"status"` // SUCCESS, FAILURE, WARNING, INFO (or SKIPPED)
	ErrorMessage string `json:"errorMessage"`
}

// judgeChecks: a scenario passes when it recorded at least one SUCCESS and no FAILURE (one that
// recorded only INFO, as server-sse-polling does without its fixture tool, tested nothing).
func judgeChecks(checks []conformanceCheck) (passed bool, problems, warnings []string) {
	succeeded := false
	for _, c := range checks {
		switch c.Status {
		case "SUCCESS":
			succeeded = true
		case "FAILURE":
			problems = append(problems, c.ID+": "+c.ErrorMessage)
		case "WARNING":
			warnings = append(warnings, c.ID+": "+c.ErrorMessage)
		}
	}
	if !succeeded && len(problems) == 0 {
		problems = append(problems, "no check succeeded")
	}
	return succeeded && len(problems) == 0, problems, warnings
}

// conformanceCLI is Node 22 and the suite's CLI, installed by scripts/deps.sh.
func conformanceCLI(t *testing.T) (node, cli string) {
	t.Helper()
	return nodeModuleFile(t, "the conformance suite", "@modelcontextprotocol", "conformance", "dist", "index.js")
}

// scenarioLine is a line of `conformance list --server`: "  - server-initialize [2025-06-18,…]".
var scenarioLine = regexp.MustCompile(`^\s*- (\S+) \[`)

// conformanceScenarios lists the suite's server scenarios, pending ones included.
func conformanceScenarios(t *testing.T, node, cli string) map[string]bool {
	t.Helper()
	out, err := exec.Command(node, cli, "list", "--server").Output()
	if err != nil {
		t.Fatalf("conformance list --server: %v", err)
	}
	scenarios := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if m := scenarioLine.FindStringSubmatch(line); m != nil {
			scenarios[m[1]] = true
		}
	}
	if len(scenarios) < 10 {
		t.Fatalf("conformance list --server named %d scenarios; its output:\n%s", len(scenarios), out)
	}
	return scenarios
}

// naLine is a line of not-applicable.md: "- `scenario`: reason".
var naLine = regexp.MustCompile("^- `([^`]+)`: (.+)$")

// readNotApplicable reads the scenarios that do not apply to troupe, each with its reason.
func readNotApplicable(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	na := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := naLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if _, dup := na[m[1]]; dup {
			t.Errorf("not-applicable.md names %s twice", m[1])
		}
		na[m[1]] = strings.TrimSpace(m[2])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return na
}

// resultDir is a directory the suite writes per scenario: server-<scenario>-<timestamp>.
var resultDir = regexp.MustCompile(`^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$`)

// readConformanceResults reads each scenario's checks.json under dir.
func readConformanceResults(t *testing.T, dir string) map[string][]conformanceCheck {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string][]conformanceCheck{}
	for _, e := range entries {
		m := resultDir.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name(), "checks.json"))
		if err != nil {
			t.Errorf("%s: %v", m[1], err)
			continue
		}
		var checks []conformanceCheck
		if err := json.Unmarshal(data, &checks); err != nil {
			t.Errorf("%s: checks.json: %v", m[1], err)
			continue
		}
		results[m[1]] = checks
	}
	return results
}

// startNoAuthDaemon starts `troupe daemon --listen 127.0.0.1:0 --no-auth` on a fresh data dir and
// returns its URL (http://127.0.0.1:PORT). The daemon is stopped when the test ends.
func startNoAuthDaemon(t *testing.T) string {
	t.Helper()
	return startTCPDaemon(t, testutil.ShortDir(t), "--no-auth").base
}
