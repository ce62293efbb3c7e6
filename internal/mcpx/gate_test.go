package mcpx

import "testing"

func TestIsAnswerAgreesWithAFullParse(t *testing.T) {
	for _, line := range []string{
		`{"jsonrpc":"2.0","id":12,"result":{"content":[]}}`,
		`{"jsonrpc":"2.0","id":"a\"b","result":{}}`,
		`{"jsonrpc":"2.0","id":-3,"error":{"code":-32602,"message":"x"}}`,
		`{"jsonrpc":"2.0","id":7,"method":"sampling/createMessage","params":{}}`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`,
		`{"id":4,"jsonrpc":"2.0","result":{}}`,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`,
	} {
		_, want := classify([]byte(line))
		if got := isAnswer([]byte(line + "\n")); got != want {
			t.Errorf("isAnswer(%s) = %v, want %v", line, got, want)
		}
	}
}

func TestClassifyAgreesWithAFullParse(t *testing.T) {
	for _, line := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_session","arguments":{"session_id":"a}\"{"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":null,"method":"x"}`,
		`{"jsonrpc":"2.0","id":"7","method":""}`,
		`{"jsonrpc":"2.0","id":7,"method":null}`,
		`{"jsonrpc":"2.0","id":7,"method":3}`,
		`{"jsonrpc":"2.0","ID":7,"Method":"x"}`,
		`{"jsonrpc":"2.0","\u0069d":7,"method":"x"}`,
		`{"id":1,"method":"a","id":null}`,
		`{"id":null,"method":"a","id":[1, {"x": "]"}]}`,
		` { "id" : 2 , "method" : "\"" , "params" : [ ] } `,
		`{"id":{"a":[1,2,{"b":"}"}]},"result":{}}`,
		`{"jsonrpc":"2.0","id":4,"result":{"x":"y"}}`,
		`{}`, `[]`, `[{"id":1,"method":"a"}]`, `"id"`, `{"id":1,"method":"a"`, ``, `{"id":-1.5e3,"method":"m"}`,
	} {
		wantReq, wantAns := classifyFull([]byte(line))
		if gotReq, gotAns := classify([]byte(line)); gotReq != wantReq || gotAns != wantAns {
			t.Errorf("classify(%s) = %v, %v, want %v, %v", line, gotReq, gotAns, wantReq, wantAns)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"a":[1,"]"]}}`))
	f.Add([]byte(`{"id":null,"result":{}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		wantReq, wantAns := classifyFull(line)
		if gotReq, gotAns := classify(line); gotReq != wantReq || gotAns != wantAns {
			t.Errorf("classify(%q) = %v, %v, want %v, %v", line, gotReq, gotAns, wantReq, wantAns)
		}
	})
}
