package route

import (
	"context"
	"net"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/troupe-dev/troupe/messages"
)

// Every registered type, with every field set, goes to another node's gateway and comes back
// equal: the codec through a real Proto.Actor remote hop, both ways.
func TestEveryRegisteredTypeCrossesARealHop(t *testing.T) {
	a, b := gateways["a"].gw, gateways["b"].gw
	var seen any
	b.Serve(func(_ context.Context, msg any, _ time.Duration) (any, error) {
		seen = msg
		return msg, nil
	})
	t.Cleanup(func() { b.Serve(nil) })
	for _, ct := range byType {
		t.Run(ct.t.Name(), func(t *testing.T) {
			in := filled(ct.t)
			out := a.call(context.Background(), Node{Name: "b", Address: b.Address()}, in, 5*time.Second, "the test")
			if id := progressID(in); id.IsValid() {
				// b ran it under a relay id of its own, and answered with that.
				if got := progressID(seen).String(); !strings.HasPrefix(got, "relay-") {
					t.Fatalf("b ran the call with progress id %q, want a relay id", got)
				}
				id.Set(progressID(seen))
			}
			if !reflect.DeepEqual(in, out) {
				t.Fatalf("after a hop to b and back:\\n got %#v\\nwant %#v", out, in)
			}
		})
	}
}

// A gateway that cannot listen says so; a node not serving yet answers that nothing was done.
func TestGatewayStartAndNotReady(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if _, err := StartGateway(GatewayOptions{Node: "n", Advertise: taken.Addr().String(), Logger: zerolog.Nop()}); err == nil || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("a gateway on a port in use: %v; want an error naming the address", err)
	}
	if _, err := StartGateway(GatewayOptions{Node: "n", Advertise: "no-port"}); err == nil {
		t.Fatal("a gateway without a port started")
	}
	c := gateways["c"].gw // no handler outside a cluster test
	res := gateways["a"].gw.call(context.Background(), Node{Name: "c", Address: c.Address()}, &messages.GetSession{SessionID: "s"}, 5*time.Second, `session "s"`)
	if e, ok := res.(*messages.Error); !ok || e.Code != messages.CodeUnavailable || !strings.Contains(e.Message, `node "c" is starting: nothing was done`) {
		t.Fatalf("a call to a gateway with no handler: %#v", res)
	}
}

// A handler that panics or fails answers with a typed error, and the gateway goes on.
func TestGatewayAnswersFailuresAsErrors(t *testing.T) {
	a, b := gateways["a"].gw, gateways["b"].gw
	to := Node{Name: "b", Address: b.Address()}
	t.Cleanup(func() { b.Serve(nil) })
	b.Serve(func(context.Context, any, time.Duration) (any, error) { panic("boom") })
	if e, ok := a.call(context.Background(), to, &messages.GetSession{SessionID: "s"}, 5*time.Second, "s").(*messages.Error); !ok || e.Code != messages.CodeInternal || !strings.Contains(e.Message, "boom") {
		t.Fatalf("a panicking handler: %#v", e)
	}
	b.Serve(func(context.Context, any, time.Duration) (any, error) {
		return nil, context.DeadlineExceeded
	})
	if e, ok := a.call(context.Background(), to, &messages.GetSession{SessionID: "s"}, 5*time.Second, "s").(*messages.Error); !ok || e.Code != messages.CodeUnavailable || !strings.Contains(e.Message, `node "b"`) {
		t.Fatalf("a failing handler: %#v", e)
	}
	b.Serve(func(context.Context, any, time.Duration) (any, error) { return &messages.AttachAgentResult{}, nil })
	if e, ok := a.call(context.Background(), to, &messages.GetSession{SessionID: "s"}, 5*time.Second, "s").(*messages.Error); !ok || e.Code != messages.CodeInternal {
		t.Fatalf("an answer that cannot cross nodes: %#v", e)
	}
	if e, ok := a.call(context.Background(), to, &messages.AttachAgent{AgentID: "s/a"}, 5*time.Second, `session "s"`).(*messages.Error); !ok || !strings.Contains(e.Message, "nothing was done") {
		t.Fatalf("a local-only message sent to another node: %#v", e)
	}
	// A slow handler: the caller's timeout ends the wait, saying the outcome is unknown.
	b.Serve(func(context.Context, any, time.Duration) (any, error) {
		time.Sleep(time.Second)
		return &messages.SessionResult{}, nil
	})
	start := time.Now()
	e, ok := a.call(context.Background(), to, &messages.GetSession{SessionID: "s"}, 300*time.Millisecond, `session "s"`).(*messages.Error)
	if !ok || !strings.Contains(e.Message, "may or may not have been done") || time.Since(start) > time.Second {
		t.Fatalf("a call past its timeout, after %s: %#v", time.Since(start), e)
	}
	// A caller that goes away stops waiting at once.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	e, ok = a.call(ctx, to, &messages.GetSession{SessionID: "s"}, 5*time.Second, `session "s"`).(*messages.Error)
	if !ok || !strings.Contains(e.Message, "cancelled") {
		t.Fatalf("a cancelled call: %#v", e)
	}
	time.Sleep(time.Second) // the slow handler's calls end before the next test
}

// TestAGatewayRefusesCallsWithoutTheSecret: a call from a gateway that does not hold the
// cluster's secret is refused before anything runs on the node.
func TestAGatewayRefusesCallsWithoutTheSecret(t *testing.T) {
	b := gateways["b"].gw
	var ran atomic.Bool
	b.Serve(func(_ context.Context, msg any, _ time.Duration) (any, error) {
		ran.Store(true)
		return msg, nil
	})
	t.Cleanup(func() { b.Serve(nil) })
	res := gateways["intruder"].gw.call(context.Background(), Node{Name: "b", Address: b.Address()}, &messages.GetSession{SessionID: "s"}, 5*time.Second, `session "s"`)
	if e, ok := res.(*messages.Error); !ok || e.Code != messages.CodeUnavailable {
		t.Fatalf("a call without the secret answered %#v, want it refused", res)
	}
	if ran.Load() {
		t.Fatal("a call without the secret ran on the node")
	}
	if out := gateways["a"].gw.call(context.Background(), Node{Name: "b", Address: b.Address()}, &messages.GetSession{SessionID: "s"}, 5*time.Second, `session "s"`); !ran.Load() {
		t.Fatalf("a call with the secret did not run: %#v", out)
	}
}
