package route

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/messages"
)

// messageStructs returns the exported struct types declared in package messages, read from its
// source: a new type there is seen without anyone listing it.
func messageStructs(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("../../../messages/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("find the messages package's source: %v (%d files)", err, len(files))
	}
	var out []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				ts := s.(*ast.TypeSpec)
				if _, isStruct := ts.Type.(*ast.StructType); isStruct && ts.Name.IsExported() {
					out = append(out, ts.Name.Name)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// parts returns the names of the messages struct types found inside the registered ones (a
// SessionInfo inside a SessionResult): they cross nodes as part of a message, and the round
// trip of that message covers them.
func parts() map[string]bool {
	seen := map[reflect.Type]bool{}
	out := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Struct:
			if seen[t] {
				return
			}
			seen[t] = true
			if t.PkgPath() == reflect.TypeOf(messages.Error{}).PkgPath() {
				out[t.Name()] = true
			}
			for i := range t.NumField() {
				walk(t.Field(i).Type)
			}
		}
	}
	for t := range byType {
		for i := range t.NumField() {
			walk(t.Field(i).Type)
		}
	}
	return out
}

// Every exported struct of package messages is sent across nodes (registered), carried inside
// one that is, or listed as local-only with a reason.
func TestEveryMessageTypeIsRegisteredOrLocalOnly(t *testing.T) {
	registered := map[string]bool{}
	for t := range byType {
		registered[t.Name()] = true
	}
	inside := parts()
	all := messageStructs(t)
	if len(all) < 40 {
		t.Fatalf("found %d struct types in package messages; the parse went wrong", len(all))
	}
	for _, name := range all {
		switch {
		case registered[name] && localOnly[name] != "":
			t.Errorf("messages.%s is registered and listed as local-only: which is it?", name)
		case registered[name], inside[name]:
		case localOnly[name] != "":
		default:
			t.Errorf("messages.%s is neither registered in the codec (codec.go init) nor listed in localOnly with the reason it never crosses nodes", name)
		}
	}
	for name := range localOnly {
		if !contains(all, name) {
			t.Errorf("localOnly lists messages.%s, which no longer exists", name)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Every registered type comes back from Encode and Decode equal to what went in, with every
// field set.
func TestEveryRegisteredTypeRoundTrips(t *testing.T) {
	for _, ct := range byType {
		t.Run(ct.t.Name(), func(t *testing.T) {
			in := filled(ct.t)
			a, err := Encode(in)
			if err != nil {
				t.Fatal(err)
			}
			if a.TypeUrl != TypeURLPrefix+ct.t.Name() {
				t.Fatalf("type URL %q", a.TypeUrl)
			}
			out, err := Decode(a)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in, out) {
				t.Fatalf("round trip changed the message:\n got %#v\nwant %#v\n(JSON %s)", out, in, a.Value)
			}
		})
	}
}

// A nil json.RawMessage stays nil and a JSON null stays a JSON null: page_action tells a click
// (no value) from an evaluate that returned null.
func TestNilRawMessageIsNotNull(t *testing.T) {
	for _, in := range []*messages.PageActionResult{{PageID: "s/p", Action: "click"}, {PageID: "s/p", Action: "evaluate", Value: json.RawMessage("null")}} {
		a, err := Encode(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Decode(a)
		if err != nil {
			t.Fatal(err)
		}
		if got := out.(*messages.PageActionResult).Value; !reflect.DeepEqual(got, in.Value) {
			t.Fatalf("%s: Value %#v after the round trip, want %#v", in.Action, got, in.Value)
		}
	}
}

// dropNilRaw looks at a message's own fields only: a json.RawMessage field deeper inside would
// decode a nil as the JSON null. Extend it before adding one.
func TestNoNestedRawMessageFields(t *testing.T) {
	var check func(path string, t reflect.Type, top bool)
	seen := map[reflect.Type]bool{}
	check = func(path string, typ reflect.Type, top bool) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			if typ != rawMessageType {
				check(path, typ.Elem(), false)
			}
		case reflect.Map:
			check(path, typ.Elem(), false)
		case reflect.Struct:
			if seen[typ] && !top {
				return
			}
			seen[typ] = true
			for i := range typ.NumField() {
				f := typ.Field(i)
				if f.Type == rawMessageType && !top {
					t.Errorf("%s.%s is a json.RawMessage inside a message: dropNilRaw would not see it", path, f.Name)
				}
				check(path+"."+f.Name, f.Type, false)
			}
		}
	}
	for typ := range byType {
		check(typ.Name(), typ, true)
	}
}

func TestDecodeRefusesAnUnknownType(t *testing.T) {
	a, _ := Encode(&messages.GetSession{SessionID: "x"})
	a.TypeUrl = TypeURLPrefix + "Nope"
	if _, err := Decode(a); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Fatalf("decode of an unknown type: %v", err)
	}
	if _, err := Encode(&messages.SweepIdle{}); err == nil {
		t.Fatal("a local-only message was encoded")
	}
}

// filled returns a pointer to a new value of struct type t with every field set to a value that
// is not its zero value.
func filled(t reflect.Type) any {
	p := reflect.New(t)
	n := 0
	fill(p.Elem(), &n)
	return p.Interface()
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	durationType = reflect.TypeOf(time.Duration(0))
)

// fill sets v to a value that is not zero, different for each field (n counts them).
func fill(v reflect.Value, n *int) {
	*n++
	i := *n
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Unix(1_700_000_000+int64(i), int64(i)*1000).UTC()))
		return
	case v.Type() == durationType:
		v.SetInt(int64(i) * int64(time.Millisecond))
		return
	case v.Type() == rawMessageType:
		v.SetBytes([]byte(`{"n":` + itoa(i) + `}`))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + itoa(i))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(i))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(i))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(i) + 0.25)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), n)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for j := range 2 {
			fill(s.Index(j), n)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, n)
			fill(e, n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for j := range v.NumField() {
			if v.Type().Field(j).IsExported() {
				fill(v.Field(j), n)
			}
		}
	default:
		panic("fill: cannot fill a " + v.Type().String())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
