package browser

import (
	"context"
	"strings"
	"testing"
	"time"
)

func act(t *testing.T, p Page, req ActionRequest) ActionResult {
	t.Helper()
	res, err := p.Action(context.Background(), req)
	if err != nil {
		t.Fatalf("Action(%+v): %v", req, err)
	}
	return res
}

func TestFormIsFilledAndSubmitted(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "form", nil), s.url("/form"))

	if res := act(t, p, ActionRequest{Action: ActionFill, Selector: "#q", Text: "hello world"}); res.Navigated {
		t.Errorf("fill navigated: %+v", res)
	}
	act(t, p, ActionRequest{Action: ActionFill, Selector: "#color", Text: "Green"})
	res := act(t, p, ActionRequest{Action: ActionClick, Selector: "#go"})
	if !res.Navigated || res.URL != s.url("/submit") || res.Title != "Thanks" {
		t.Errorf("click result %+v, want a navigation to /submit titled Thanks", res)
	}
	if got := pageText(t, p); got != "Thanks, hello world (g)" {
		t.Errorf("after submit the page says %q, want %q", got, "Thanks, hello world (g)")
	}
	if u, title := p.Info(); u != s.url("/submit") || title != "Thanks" {
		t.Errorf("Info = %q, %q; want /submit, Thanks", u, title)
	}
}

func TestPressEnterSubmits(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "press", nil), s.url("/form"))
	act(t, p, ActionRequest{Action: ActionFill, Selector: "#q", Text: ""})
	act(t, p, ActionRequest{Action: ActionPress, Selector: "#q", Text: "x"})
	act(t, p, ActionRequest{Action: ActionPress, Text: "Shift+y"})
	res := act(t, p, ActionRequest{Action: ActionPress, Text: "Enter"})
	if !res.Navigated {
		t.Errorf("Enter in the form did not navigate: %+v", res)
	}
	if got := pageText(t, p); !strings.HasPrefix(got, "Thanks, xY ") {
		t.Errorf("after Enter the page says %q, want Thanks, xY …", got)
	}
}

func TestEvaluate(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "eval", nil), s.url("/"))
	for _, tc := range []struct{ script, want string }{
		{"document.title", `"Home"`},
		{"1 + 2", `3`},
		{"({a: [1, 'b']})", `{"a":[1,"b"]}`},
		{"() => document.querySelectorAll('.note').length", `2`},
		{"await new Promise(r => r('later'))", `"later"`},
		{"let x = 2; x * 21", `42`},
		{"undefined", `null`},
	} {
		res := act(t, p, ActionRequest{Action: ActionEvaluate, Text: tc.script})
		if string(res.Value) != tc.want {
			t.Errorf("evaluate %q = %s, want %s", tc.script, res.Value, tc.want)
		}
	}
	if _, err := p.Action(context.Background(), ActionRequest{Action: ActionEvaluate, Text: "throw new Error('boom')"}); !errorsIs(err, ErrScript) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a throwing script: %v, want ErrScript with boom", err)
	}
	res := act(t, p, ActionRequest{Action: ActionEvaluate, Text: "location.href = '/about'"})
	if !res.Navigated || res.Title != "About" {
		t.Errorf("a script that navigates: %+v, want navigated to About", res)
	}
}

func TestActionErrors(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "acterr", nil), s.url("/form"))
	for _, tc := range []struct {
		req  ActionRequest
		want error
	}{
		{ActionRequest{Action: "hover", Selector: "#q"}, ErrBadRequest},
		{ActionRequest{Action: ActionClick}, ErrBadRequest},
		{ActionRequest{Action: ActionClick, Selector: "#absent"}, ErrNoElement},
		{ActionRequest{Action: ActionClick, Selector: "[[["}, ErrBadRequest},
		{ActionRequest{Action: ActionPress, Text: "Hyper+x"}, ErrBadRequest},
		{ActionRequest{Action: ActionPress, Text: "NoSuchKey"}, ErrBadRequest},
		{ActionRequest{Action: ActionEvaluate}, ErrBadRequest},
		{ActionRequest{Action: ActionFill, Selector: "#color", Text: "Purple"}, ErrScript},
	} {
		if _, err := p.Action(context.Background(), tc.req); !errorsIs(err, tc.want) {
			t.Errorf("Action(%+v) = %v, want %v", tc.req, err, tc.want)
		}
	}
}

func TestActionTimeouts(t *testing.T) {
	d, s := shared(t), newSite(t)
	p := openPage(t, openContext(t, d, "acttime", nil), s.url("/form"))

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := p.Action(ctx, ActionRequest{Action: ActionClick, Selector: "#hidden"})
	if !errorsIs(err, ErrTimeout) || !strings.Contains(err.Error(), "hidden, covered or disabled") {
		t.Errorf("click on a hidden element: %v, want ErrTimeout with a hint", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = p.Action(ctx, ActionRequest{Action: ActionClick, Selector: "#slow"})
	if !errorsIs(err, ErrTimeout) || !strings.Contains(err.Error(), "started a navigation") {
		t.Errorf("a click whose navigation hangs: %v, want ErrTimeout", err)
	}
	waitFor(t, "the browser to drop the hanging request", func() bool { return s.hangCanceled.Load() == 1 })
	if res, err := p.Navigate(context.Background(), s.url("/about")); err != nil || res.Title != "About" {
		t.Errorf("the next navigation: %+v, %v", res, err)
	}
}
