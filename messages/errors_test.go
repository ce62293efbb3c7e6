package messages

import (
	"strings"
	"testing"
)

// TestErrorsNeverEchoTheirInput: a 10 MB id was echoed in a 10.5 MB error (issue 11, item 9).
func TestErrorsNeverEchoTheirInput(t *testing.T) {
	huge := strings.Repeat("é", 5<<20) // 10 MB, multi-byte runes
	e := Errorf(CodeInvalidArgument, "invalid session_id %q: use letters", huge)
	if len(e.Message) > 300 || !strings.Contains(e.Message, "(10485760 bytes)") || !strings.Contains(e.Message, "use letters") {
		t.Fatalf("message of %d bytes: %.200q…; want the id's start and length, and the advice", len(e.Message), e.Message)
	}
	if !strings.HasPrefix(e.Message, `invalid session_id "éé`) || strings.ContainsRune(e.Message, '\uFFFD') {
		t.Fatalf("message %.80q: want the start of the id, cut between runes", e.Message)
	}
	long := Errorf(CodeInternal, "%v", strings.Repeat("x", 1<<20)) // not a string argument
	if len(long.Message) > maxMessage || !strings.HasSuffix(long.Message, "(1048576 bytes)") {
		t.Fatalf("message of %d bytes; want it cut to at most %d with the length", len(long.Message), maxMessage)
	}
	if got := Errorf(CodeNotFound, "no session %q", "web").Message; got != `no session "web"` {
		t.Fatalf("short arguments changed: %q", got)
	}
	args := []any{strings.Repeat("y", 200)}
	Errorf(CodeNotFound, "%s", args...)
	if len(args[0].(string)) != 200 {
		t.Fatal("Errorf changed its caller's arguments")
	}
}
