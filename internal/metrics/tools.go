package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcome is how a tool call ended.
type Outcome uint8

// The outcomes of a tool call, the values of troupe_tool_calls_total's outcome label.
const (
	// OutcomeOK: the call succeeded.
	OutcomeOK Outcome = iota
	// OutcomeError: the call answered a tool error, one the caller can fix.
	OutcomeError
	// OutcomeFault: the call failed with an internal error (or a panic).
	OutcomeFault
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "error", "fault"}

// String is the outcome's label value.
func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// OtherTool is the tool label of a call to a tool not named to Tools.
const OtherTool = "other"

// Tools holds the observers of a fixed set of tools, resolved once so that recording a call
// looks nothing up in the metric vectors. It is read-only after Tools returns.
type Tools struct {
	byName map[string]*Tool
	other  *Tool
}

// Tool records the calls of one tool.
type Tool struct {
	calls    [numOutcomes]prometheus.Counter
	duration prometheus.Observer
}

// Tools registers the tools named (every outcome starts at 0, so that rates exist before the
// first failure) plus OtherTool, and returns their observers.
func (m *Metrics) Tools(names []string) *Tools {
	t := &Tools{byName: make(map[string]*Tool, len(names)), other: m.tool(OtherTool)}
	for _, n := range names {
		t.byName[n] = m.tool(n)
	}
	return t
}

func (m *Metrics) tool(name string) *Tool {
	t := &Tool{duration: m.toolDuration.WithLabelValues(name)}
	for o := range numOutcomes {
		t.calls[o] = m.toolCalls.WithLabelValues(name, o.String())
	}
	return t
}

// Lookup returns the observer of the tool named, or that of OtherTool.
func (t *Tools) Lookup(name string) *Tool {
	if o, ok := t.byName[name]; ok {
		return o
	}
	return t.other
}

// Observe records one call that ended with outcome after d.
func (t *Tool) Observe(outcome Outcome, d time.Duration) {
	if outcome >= numOutcomes {
		outcome = OutcomeFault
	}
	t.calls[outcome].Inc()
	t.duration.Observe(d.Seconds())
}
