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
