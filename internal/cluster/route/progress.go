package route

import (
	"encoding/json"
	"reflect"
	"strconv"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/anypb"
)

// Progress across nodes. A call with a ProgressID (delete_session) made on node A and run on
// node B names, in its headers, A's gateway. B's gateway gives the call a relay id of its
// own (B's progress ids and A's could be equal) and keeps, until the call answers, where its
// steps go: B's actors report to B's Gateway.Report, which sends a step whose id is a relay id
// to A's "troupe-progress" process, which hands it to A's own sink under A's id.
//
// The steps arrive before the answer: B sends both to A through one connection, in order, and
// A hands a step to its sink on the goroutine that reads that connection, before it reads the
// answer (a process, not an actor, whose mailbox would run later). The tool's progress call
// then counts the step as sent before its answer is written.

// progressTypeURL is the type URL of a relayed progress step.
const progressTypeURL = "type.troupe.dev/route.ProgressStep"

// progressStep is one relayed step, as JSON.
type progressStep struct {
	ID      string `json:"id"`
	Done    int    `json:"done"`
	Total   int    `json:"total"`
	Message string `json:"message"`
}

// relay maps the relay ids of calls running here to where their steps go.
type relay struct {
	mu   sync.Mutex
	next uint64
	m    map[string]relayTo
}

type relayTo struct {
	addr string // the calling gateway
	id   string // the call's progress id there
}

func (r *relay) add(addr, id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	key := "relay-" + strconv.FormatUint(r.next, 10)
	r.m[key] = relayTo{addr: addr, id: id}
	return key
}

func (r *relay) remove(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, key)
}

func (r *relay) get(key string) (relayTo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	to, ok := r.m[key]
	return to, ok
}

// Report is this node's progress sink: give it to the actors (actors.Options.Progress). A step
// of a call made on another node goes back to that node; any other goes to
// GatewayOptions.Progress. It does not block.
func (g *Gateway) Report(id string, done, total int, message string) {
	if to, ok := g.relay.get(id); ok {
		value, _ := json.Marshal(progressStep{ID: to.id, Done: done, Total: total, Message: message})
		g.sys.Root.Send(actor.NewPID(to.addr, progressName), &anypb.Any{TypeUrl: progressTypeURL, Value: value})
		return
	}
	if g.opts.Progress != nil {
		g.opts.Progress(id, done, total, message)
	}
}

// progressSink is the process "troupe-progress": it hands the steps relayed to this node to
// its sink, at once.
type progressSink struct{ g *Gateway }

func (p progressSink) SendUserMessage(_ *actor.PID, message any) {
	a, ok := actor.UnwrapEnvelopeMessage(message).(*anypb.Any)
	var step progressStep
	if !ok || a.TypeUrl != progressTypeURL || json.Unmarshal(a.Value, &step) != nil {
		p.g.log.Warn().Str("type", reflect.TypeOf(message).String()).Msg("gateway: not a progress step")
		return
	}
	if p.g.opts.Progress != nil {
		p.g.opts.Progress(step.ID, step.Done, step.Total, step.Message)
	}
}

func (progressSink) SendSystemMessage(*actor.PID, any) {}

func (progressSink) Stop(*actor.PID) {}

// progressID returns msg's ProgressID field, settable, or the zero Value when it has none.
// Found by name, so that a new message with progress needs no case here.
func progressID(msg any) reflect.Value {
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	f := v.Elem().FieldByName("ProgressID")
	if !f.IsValid() || f.Kind() != reflect.String || !f.CanSet() {
		return reflect.Value{}
	}
	return f
}
