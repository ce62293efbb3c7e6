package route

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/troupe-dev/troupe/messages"
)

// TypeURLPrefix starts the type URL of every message that crosses nodes; the messages type's
// name follows.
const TypeURLPrefix = "type.troupe.dev/messages."

// codecType is what the codec knows of one registered type.
type codecType struct {
	t   reflect.Type // the struct type (messages are sent as pointers to it)
	url string
	// rawFields are the JSON names of its json.RawMessage fields: a nil one is left out of the
	// JSON, so that it decodes as nil and not as the JSON null (PageActionResult.Value: nil for a
	// click, "null" for an evaluate that returned null; the tools tell them apart).
	rawFields map[int]string
}

var (
	byURL  = map[string]*codecType{}
	byType = map[reflect.Type]*codecType{}
)

// The messages that cross nodes: every request the tools send through the Requester and every
// reply. A type of package messages that is neither here nor in localOnly fails a test
// (codec_test.go), as does one that does not come back equal from a round trip.
func init() {
	register(
		// sessions
		&messages.CreateSession{}, &messages.GetSession{}, &messages.ListSessions{}, &messages.UpdateSessionState{},
		&messages.DeleteSession{}, &messages.SessionMetrics{}, &messages.RestoreSession{}, &messages.ListSnapshots{},
		&messages.CheckAccess{}, &messages.CloneSession{}, &messages.ExportBrowserState{}, &messages.ImportBrowserState{},
		&messages.SessionResult{}, &messages.ListSessionsResult{}, &messages.UpdateSessionStateResult{},
		&messages.DeleteSessionResult{}, &messages.SessionMetricsResult{}, &messages.ListSnapshotsResult{},
		&messages.CheckAccessResult{}, &messages.BrowserStateResult{},
		// agents
		&messages.CreateAgent{}, &messages.SendToAgent{}, &messages.ReadAgentOutput{}, &messages.DeleteAgent{},
		&messages.ReadAgentScreen{}, &messages.SendKeys{}, &messages.TerminalEcho{},
		&messages.AgentResult{}, &messages.SendToAgentResult{}, &messages.ReadAgentOutputResult{},
		&messages.DeleteAgentResult{}, &messages.ScreenResult{}, &messages.TerminalEchoResult{},
		// pages and cookies
		&messages.OpenPage{}, &messages.NavigatePage{}, &messages.PageContent{}, &messages.PageAction{},
		&messages.ScreenshotPage{}, &messages.ClosePage{}, &messages.CrawlURL{}, &messages.SetCookies{}, &messages.GetCookies{},
		&messages.PageResult{}, &messages.NavigatePageResult{}, &messages.PageContentResult{}, &messages.PageActionResult{},
		&messages.ScreenshotPageResult{}, &messages.ClosePageResult{}, &messages.CookiesResult{},
		// every actor's typed error
		&messages.Error{},
	)
}

// localOnly are the top-level message types that never cross nodes, and why. The router runs
// them on its own node.
var localOnly = map[string]string{
	"AdoptSessions":       "a node's own takeover loop asks its own orchestrator to bring up what it now owns",
	"AdoptSessionsResult": "answers AdoptSessions, which never leaves its node",
	"SweepIdle":           "each node's timer expires its own idle sessions",
	"SweepIdleResult":     "answers SweepIdle, which never leaves its node",
	"AttachAgent":         "troupe attach talks to the daemon that runs the agent over its unix socket; the answer holds a live PTY",
	"AttachAgentResult":   "holds an Attachment, an interface over a live PTY and its channels: nothing JSON can carry",
}

// register adds message types, each given as a pointer to its zero value.
func register(vs ...any) {
	for _, v := range vs {
		t := reflect.TypeOf(v).Elem()
		ct := &codecType{t: t, url: TypeURLPrefix + t.Name(), rawFields: map[int]string{}}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Type == rawMessageType && f.IsExported() {
				ct.rawFields[i] = jsonName(f)
			}
		}
		byURL[ct.url], byType[t] = ct, ct
	}
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

// jsonName is the key encoding/json writes for field f.
func jsonName(f reflect.StructField) string {
	name := f.Name
	if tag := f.Tag.Get("json"); tag != "" {
		if n, _, _ := strings.Cut(tag, ","); n != "" {
			name = n
		}
	}
	return name
}

// Encode returns msg, a pointer to a registered messages type, as an anypb.Any carrying its
// JSON.
func Encode(msg any) (*anypb.Any, error) {
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, fmt.Errorf("route: %T cannot be sent to another node: not a pointer to a message", msg)
	}
	ct := byType[v.Elem().Type()]
	if ct == nil {
		return nil, fmt.Errorf("route: %T cannot be sent to another node: it is not registered in the codec", msg)
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("route: encode %T: %w", msg, err)
	}
	if data, err = dropNilRaw(ct, v.Elem(), data); err != nil {
		return nil, fmt.Errorf("route: encode %T: %w", msg, err)
	}
	return &anypb.Any{TypeUrl: ct.url, Value: data}, nil
}

// dropNilRaw leaves out of data the keys of the nil json.RawMessage fields of v.
func dropNilRaw(ct *codecType, v reflect.Value, data []byte) ([]byte, error) {
	var drop []string
	for i, name := range ct.rawFields {
		if v.Field(i).IsNil() {
			drop = append(drop, name)
		}
	}
	if len(drop) == 0 {
		return data, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	for _, k := range drop {
		delete(obj, k)
	}
	return json.Marshal(obj)
}

// Decode returns the message a carries: a pointer to its messages type.
func Decode(a *anypb.Any) (any, error) {
	if a == nil {
		return nil, fmt.Errorf("route: decode: no message")
	}
	ct := byURL[a.TypeUrl]
	if ct == nil {
		return nil, fmt.Errorf("route: decode: unknown type %q (a node of another version?)", a.TypeUrl)
	}
	p := reflect.New(ct.t)
	if err := json.Unmarshal(a.Value, p.Interface()); err != nil {
		return nil, fmt.Errorf("route: decode %s: %w", a.TypeUrl, err)
	}
	return p.Interface(), nil
}
