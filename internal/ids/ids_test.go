package ids

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"research-1.v2_x", true},
		{"snap-20261121-080102-x7qa", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"-a", false},
		{".a", false},
		{"a/b", false},
		{"a b", false},
		{"é", false},
		// What git refuses in a ref component (refs/troupe/preserved/<session>/<snapshot>).
		{"a.", false},
		{"a..b", false},
		{"x.lock", false},
		{"x.lock.y", true},
		{"a.b", true},
	}
	for _, tt := range tests {
		if got := Valid(tt.id); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// Errors quote the rule through messages.Errorf, which shortens strings over 128 bytes.
func TestRuleIsQuotedWhole(t *testing.T) {
	if len(Rule) > 128 {
		t.Fatalf("Rule is %d bytes, want at most 128", len(Rule))
	}
}
