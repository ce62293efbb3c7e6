// Package bench holds the small helpers that troupe's benchmarks share: percentiles over
// measured durations and the one output format that `make bench` collects,
// "BENCH <name> <value> <unit>".
//
// Benchmarks are ordinary Go benchmarks run once each (`-benchtime=1x`); each one runs its own
// fixed loop, computes its figures and reports them with Report.
package bench

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

// ReportRounded prints one figure as "BENCH <name> <value> <unit>", the value rounded to the given
// number of decimals, on stderr (stdout may be an MCP channel in some tests; `go test` merges both
// streams, and `make bench` collects these lines).
func ReportRounded(name string, value float64, decimals int, unit string) {
	fmt.Fprintf(os.Stderr, "BENCH %s %s %s\n", name, strconv.FormatFloat(value, 'f', decimals, 64), unit)
}

// Percentile returns the p-th percentile (0 < p <= 100) of ds by the nearest-rank method.
// ds is sorted in place. It returns 0 for an empty slice.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	rank := int(p/100*float64(len(ds))+0.999999) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(ds) {
		rank = len(ds) - 1
	}
	return ds[rank]
}

// Micros converts a duration to microseconds as a float.
func Micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Millis converts a duration to milliseconds as a float.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
