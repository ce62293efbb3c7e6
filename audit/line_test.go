package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestLineLayoutHashesExactEventBytes(t *testing.T) {
	enc := newEncoder()
	e := Event{Seq: 7, Time: time.Date(2026, 11, 21, 7, 0, 0, 5, time.UTC), Action: "session.delete",
		Stage: StageCompleted, Actor: &Actor{Transport: "http", ClientName: "c", ClientVersion: "2", HTTPSession: "h1"},
		Principal: "ci-bot", Session: "research", Target: "research/writer", Outcome: OutcomeOK, DurationMS: 12.5, Prev: genesisHash}
	line, h, err := enc.appendLine(nil, &e, []byte(`{"k":"v"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(line), "\n") || strings.Count(string(line), "\n") != 1 {
		t.Fatalf("line %q: want exactly one trailing newline", line)
	}
	body := line[:len(line)-1]
	if got, want := string(body[len(body)-suffixLen:]), `,"hash":"`+h+`"}`; got != want {
		t.Fatalf("suffix = %q, want %q", got, want)
	}
	event := string(body[:len(body)-suffixLen]) + "}"
	sum := sha256.Sum256([]byte(genesisHash + event))
	if got := hex.EncodeToString(sum[:]); got != h {
		t.Fatalf("hash = %s, want sha256(prev || event bytes) = %s", h, got)
	}
	want := `{"seq":7,"time":"2026-11-21T07:00:00.000000005Z","action":"session.delete","stage":"completed",` +
		`"actor":{"transport":"http","client_name":"c","client_version":"2","http_session":"h1"},` +
		`"principal":"ci-bot","session":"research","target":"research/writer","outcome":"ok","duration_ms":12.5,` +
		`"details":{"k":"v"},"prev":"` + genesisHash + `"}`
	if event != want {
		t.Fatalf("event bytes\n got %s\nwant %s", event, want)
	}
	if _, _, err := enc.checkLine(body); err != nil {
		t.Fatalf("checkLine of a fresh line: %v", err)
	}
}

func TestParseEventRoundTrip(t *testing.T) {
	l, _ := openLog(t, Options{})
	in := Event{Action: "agent.create", Stage: StageFailed, Session: "s1", Target: "s1/agent-1",
		Outcome: "refused", DurationMS: 0.25, Actor: &Actor{Transport: "stdio", ClientName: "claude", ClientVersion: "0.9"},
		Details: map[string]any{"big": uint64(1) << 60, "nested": map[string]any{"list": []any{"a", 1}}, "html": "<b>&"}}
	got, err := l.Append(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := Recent(l.Dir(), 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Recent = %v, %v; want one event", evs, err)
	}
	back := evs[0]
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(back)
	if string(a) != string(b) {
		t.Fatalf("read back\n got %s\nwant %s", b, a)
	}
	if n := back.Details["big"].(json.Number).String(); n != "1152921504606846976" {
		t.Fatalf("big number read back as %s, want it exact", n)
	}
}

func TestZerologDisabledIsRefusedNotLost(t *testing.T) {
	l, _ := openLog(t, Options{})
	old := zerolog.GlobalLevel()
	zerolog.SetGlobalLevel(zerolog.Disabled)
	_, err := l.Append(context.Background(), Event{Action: "session.create"})
	zerolog.SetGlobalLevel(old)
	if err == nil || !strings.Contains(err.Error(), "zerolog") {
		t.Fatalf("Append with zerolog disabled: err = %v, want an error naming zerolog", err)
	}
	if _, err := l.Append(context.Background(), Event{Action: "session.create"}); err != nil {
		t.Fatalf("Append after re-enabling: %v", err)
	}
}

func TestAppendRefusesInvalidEvents(t *testing.T) {
	l, _ := openLog(t, Options{})
	for _, tc := range []struct {
		name string
		e    Event
	}{
		{"no action", Event{}},
		{"bad stage", Event{Action: "x", Stage: "started"}},
		{"NaN duration", Event{Action: "x", DurationMS: math.NaN()}},
		{"negative duration", Event{Action: "x", DurationMS: -1}},
		{"details not JSON", Event{Action: "x", Details: map[string]any{"f": func() {}}}},
	} {
		if _, err := l.Append(context.Background(), tc.e); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: err = %v, want ErrInvalidEvent", tc.name, err)
		}
	}
	if r := mustVerify(t, strings.TrimSuffix(l.Dir(), "/"+DirName)); !r.OK || r.Events != 1 {
		t.Fatalf("after refused events: %v; want only audit.open recorded", r)
	}
}
