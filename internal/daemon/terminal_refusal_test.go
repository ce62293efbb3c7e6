package daemon

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/testutil"
	"github.com/troupe-dev/troupe/messages"
)

// askTerminal sends the attach request as is over the data dir's socket: the status and the
// refusal's JSON (0 after a failure it reported; it may run off the test's goroutine).
func askTerminal(t *testing.T, dir, query string, upgrade bool) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, BaseURL+TerminalPath+"?"+query, nil)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	if upgrade {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", terminalUpgrade)
	}
	resp, err := HTTPClient(dir).Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]string
	if resp.StatusCode != http.StatusSwitchingProtocols {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("refusal Content-Type %q, want application/json", ct)
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("refusal body %q: %v", raw, err)
		}
	}
	return resp.StatusCode, body
}

func TestTerminalAttachRefusalsAreJSONBeforeTheUpgrade(t *testing.T) {
	attach := func(_ context.Context, req *messages.AttachAgent) (messages.Attachment, *messages.Error) {
		switch req.AgentID {
		case "s/pipe":
			return nil, messages.Errorf(messages.CodeInvalidArgument, "agent %q is not on a terminal", req.AgentID)
		case "s/a":
			return newEchoAttachment(), nil
		}
		return nil, messages.Errorf(messages.CodeNotFound, "session \"s\" has no child %q", req.AgentID)
	}
	with := startDaemon(t, Options{Attach: attach})
	without := startDaemon(t, Options{})
	for _, tc := range []struct {
		name       string
		dir        string
		query      string
		upgrade    bool
		wantStatus int
		wantCode   messages.Code
	}{
		{"unknown agent", with.dir, "agent=s/none&rows=24&cols=80", true, http.StatusNotFound, messages.CodeNotFound},
		{"not a terminal agent", with.dir, "agent=s/pipe&rows=24&cols=80", true, http.StatusBadRequest, messages.CodeInvalidArgument},
		{"no upgrade asked", with.dir, "agent=s/a", false, http.StatusBadRequest, messages.CodeInvalidArgument},
		{"a daemon that cannot attach", without.dir, "agent=s/a", true, http.StatusNotFound, messages.CodeUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := askTerminal(t, tc.dir, tc.query, tc.upgrade)
			if status != tc.wantStatus || body["code"] != string(tc.wantCode) || body["error"] == "" {
				t.Errorf("got HTTP %d %v, want HTTP %d with code %s and a message", status, body, tc.wantStatus, tc.wantCode)
			}
		})
	}
}

func TestTerminalAttachCountsAsAClient(t *testing.T) {
	att := newEchoAttachment()
	r := startDaemon(t, Options{IdleExit: 300 * time.Millisecond,
		Attach: func(context.Context, *messages.AttachAgent) (messages.Attachment, *messages.Error) { return att, nil }})
	term, err := DialTerminal(context.Background(), r.dir, "s/a", 24, 80)
	if err != nil {
		t.Fatal(err)
	}
	st, err := GetStatus(context.Background(), HTTPClient(r.dir))
	if err != nil || st.Clients != 1 {
		t.Fatalf("status while attached: %+v, %v; want 1 client", st, err)
	}
	time.Sleep(time.Second)
	if !r.running() {
		t.Fatal("the daemon exited idle while a person was attached")
	}
	term.Close()
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-att.closed:
	default:
		t.Fatal("the daemon returned with the attachment still open")
	}
}

func TestTerminalAttachAskEndsWhenTheDaemonStops(t *testing.T) {
	late := newEchoAttachment()
	asking := make(chan struct{})
	r := startDaemon(t, Options{Attach: func(ctx context.Context, _ *messages.AttachAgent) (messages.Attachment, *messages.Error) {
		close(asking)
		<-ctx.Done()
		return late, nil // the agent answered anyway: the daemon, stopping, must give it back
	}})
	result := make(chan int, 1)
	go func() {
		status, _ := askTerminal(t, r.dir, "agent=s/a", true)
		result <- status
	}()
	<-asking
	if err := RequestStop(context.Background(), HTTPClient(r.dir)); err != nil {
		t.Fatal(err)
	}
	if err := r.wait(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the refusal", func() bool { return len(result) == 1 })
	if status := <-result; status != http.StatusServiceUnavailable {
		t.Errorf("an attach asked during a stop: HTTP %d, want 503", status)
	}
	select {
	case <-late.closed:
	default:
		t.Error("an attachment answered during the stop was not closed")
	}
}
