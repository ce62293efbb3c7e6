package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"
)

// fillSelectJS picks the option of a <select> by value or visible text.
const fillSelectJS = `function (v) {
  const opt = Array.from(this.options).find(o => o.value === v || o.text.trim() === v);
  if (!opt) throw new Error('no option with the value or text ' + JSON.stringify(v));
  this.value = opt.value;
  this.dispatchEvent(new Event('input', {bubbles: true}));
  this.dispatchEvent(new Event('change', {bubbles: true}));
}`

// Action implements Page.
func (p *rodPage) Action(ctx context.Context, req ActionRequest) (ActionResult, error) {
	if err := checkAction(req); err != nil {
		return ActionResult{}, err
	}
	if err := p.usable(); err != nil {
		return ActionResult{}, err
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.c.d.opts.NavTimeout)
	defer cancel()
	pg := p.page.Context(ctx)
	watch := watchNavigation(ctx, p.page)
	defer watch.stop()

	// The action itself gets the ordinary call deadline (a hidden element should not hold the
	// page for the whole navigation timeout); a navigation it starts gets the rest.
	actCtx, actCancel := p.c.callCtx(ctx)
	value, err := p.act(p.page.Context(actCtx), req)
	if err != nil {
		err = p.actionFail(actCtx, req, err)
	}
	actCancel()
	if err != nil {
		return ActionResult{}, err
	}
	// A round trip to the page: whatever the action set off has been reported by then. The
	// page may hold the answer back until a navigation it started has loaded, so a navigation
	// reported meanwhile ends the wait for the round trip.
	// A click or a key press may only schedule its navigation (a form's submission runs as a
	// task of its own): the round trip waits a few event-loop turns for it to start.
	probe := "0"
	if req.Action == ActionClick || req.Action == ActionPress {
		probe = "new Promise(r => setTimeout(() => setTimeout(r, 25), 0))"
	}
	roundTrip := make(chan error, 1)
	go func() { roundTrip <- evalJS(pg, probe, nil) }()
	select {
	case err := <-roundTrip:
		if err != nil && !contextReplaced(err) && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return ActionResult{}, p.actionFail(ctx, req, err)
		}
	case <-watch.started:
	}
	navigated, err := watch.wait(ctx)
	if err != nil {
		p.stopLoading()
		return ActionResult{}, fmt.Errorf("%w: the %s started a navigation that did not finish within %s; loading was stopped",
			ErrTimeout, req.Action, budget(ctx, start))
	}
	st, err := p.settle(pg)
	if err != nil {
		return ActionResult{}, p.actionFail(ctx, req, err)
	}
	if navigated {
		if err := p.landed(ctx, "the "+string(req.Action), st); err != nil {
			return ActionResult{}, err
		}
	}
	popups := p.c.takePopups(ctx, p.page.TargetID)
	p.c.refreshCookies(ctx)
	return ActionResult{Action: req.Action, Value: value, Navigated: navigated, URL: st.URL, Title: st.Title, Popups: popups}, nil
}

// checkAction validates a request before anything touches the page.
func checkAction(req ActionRequest) error {
	switch req.Action {
	case ActionClick, ActionFill:
		if req.Selector == "" {
			return fmt.Errorf("%w: %s needs a selector (CSS) for the element", ErrBadRequest, req.Action)
		}
	case ActionPress:
		_, err := parseKey(req.Text)
		return err
	case ActionEvaluate:
		if req.Text == "" {
			return fmt.Errorf("%w: evaluate needs the JavaScript in text", ErrBadRequest)
		}
	default:
		return fmt.Errorf("%w: unknown action %q: use click, fill, press or evaluate", ErrBadRequest, req.Action)
	}
	return nil
}

// act performs the action itself.
func (p *rodPage) act(pg *rod.Page, req ActionRequest) (json.RawMessage, error) {
	switch req.Action {
	case ActionClick:
		el, err := element(pg, req.Selector)
		if err != nil {
			return nil, err
		}
		return nil, click(pg, el)
	case ActionFill:
		el, err := element(pg, req.Selector)
		if err != nil {
			return nil, err
		}
		return nil, fill(pg, el, req.Text)
	case ActionPress:
		ch, _ := parseKey(req.Text)
		if req.Selector != "" {
			el, err := element(pg, req.Selector)
			if err != nil {
				return nil, err
			}
			if err := el.Focus(); err != nil {
				return nil, err
			}
		}
		return nil, press(pg, ch)
	default:
		return evaluate(pg, req.Text)
	}
}

// element finds the first element matching a selector, without waiting for one to appear.
func element(pg *rod.Page, selector string) (*rod.Element, error) {
	var bad struct {
		Bad string `json:"bad"`
	}
	args, _ := json.Marshal(selector)
	if err := evalJS(pg, `(s => { try { document.querySelector(s); return {bad: ""} } catch (e) { return {bad: String(e.message || e)} } })(`+string(args)+`)`, &bad); err != nil {
		return nil, err
	}
	if bad.Bad != "" {
		return nil, fmt.Errorf("%w: %q is not a valid CSS selector: %s", ErrBadRequest, selector, bad.Bad)
	}
	els, err := pg.Elements(selector)
	if err != nil {
		return nil, err
	}
	if len(els) == 0 {
		return nil, fmt.Errorf("%w: nothing matches %q; read the page content to find the right selector", ErrNoElement, selector)
	}
	return els[0], nil
}

// fill replaces an element's value the way a user would: select all, delete, type.
func fill(pg *rod.Page, el *rod.Element, text string) error {
	tag, err := el.Eval(`function () { return this.tagName }`)
	if err != nil {
		return err
	}
	if tag.Value.Str() == "SELECT" {
		_, err := el.Eval(fillSelectJS, text)
		return err
	}
	if err := el.SelectAllText(); err != nil {
		return err
	}
	if err := typeKey(pg, input.Backspace, 0); err != nil {
		return err
	}
	if text == "" {
		return nil
	}
	return el.Input(text)
}

// press types a key with its modifiers held: each modifier goes down, then the key, then the
// modifiers come up in reverse order.
func press(pg *rod.Page, ch keyChord) error {
	mods := 0
	var err error
	pressed := 0
	for _, m := range ch.modifiers {
		mods |= m.Modifier()
		if err = m.Encode(proto.InputDispatchKeyEventTypeKeyDown, mods).Call(pg); err != nil {
			break
		}
		pressed++
	}
	if err == nil {
		key := ch.key
		if slices.Contains(ch.modifiers, input.ShiftLeft) {
			if shifted, ok := key.Shift(); ok { // Shift+a types "A", as on a keyboard
				key = shifted
			}
		}
		err = typeKey(pg, key, mods)
	}
	for i := pressed - 1; i >= 0; i-- {
		m := ch.modifiers[i]
		mods &^= m.Modifier()
		if rerr := m.Encode(proto.InputDispatchKeyEventTypeKeyUp, mods).Call(pg); err == nil {
			err = rerr
		}
	}
	return err
}

// evaluate runs a script (statements allowed, top-level await too); a function value is
// called; the result comes back as JSON.
func evaluate(pg *rod.Page, script string) (json.RawMessage, error) {
	const group = "troupe-evaluate"
	defer func() { _ = proto.RuntimeReleaseObjectGroup{ObjectGroup: group}.Call(pg) }()
	res, err := proto.RuntimeEvaluate{Expression: script, ObjectGroup: group, AwaitPromise: true, ReplMode: true, UserGesture: true}.Call(pg)
	if err != nil {
		return nil, err
	}
	if res.ExceptionDetails != nil {
		return nil, fmt.Errorf("%w: %s", ErrScript, exceptionText(res.ExceptionDetails))
	}
	obj := res.Result
	if obj.ObjectID != "" {
		fn := `function () { return this }`
		if obj.Type == proto.RuntimeRemoteObjectTypeFunction {
			fn = `function () { return this() }`
		}
		call, err := proto.RuntimeCallFunctionOn{ObjectID: obj.ObjectID, FunctionDeclaration: fn, ReturnByValue: true,
			AwaitPromise: true, UserGesture: true}.Call(pg)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, err // a promise that does not settle in time
		}
		if err != nil {
			return nil, fmt.Errorf("%w: the value cannot be returned as JSON (%v); return plain data, e.g. el.textContent", ErrScript, err)
		}
		if call.ExceptionDetails != nil {
			return nil, fmt.Errorf("%w: %s", ErrScript, exceptionText(call.ExceptionDetails))
		}
		obj = call.Result
	}
	if obj.Type == proto.RuntimeRemoteObjectTypeUndefined {
		return json.RawMessage("null"), nil
	}
	return json.RawMessage(obj.Value.JSON("", "")), nil
}

// actionFail explains a failed action.
func (p *rodPage) actionFail(ctx context.Context, req ActionRequest, err error) error {
	if errors.Is(err, ErrBadRequest) || errors.Is(err, ErrNoElement) || errors.Is(err, ErrScript) {
		return err
	}
	var evalErr *rod.EvalError
	if errors.As(err, &evalErr) {
		return fmt.Errorf("%w: the %s failed: %s", ErrScript, req.Action, exceptionText(evalErr.RuntimeExceptionDetails))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && p.c.usable() == nil && req.Selector != "" {
		return fmt.Errorf("%w: the %s on %q did not finish in time; the element may be hidden, covered or disabled",
			ErrTimeout, req.Action, req.Selector)
	}
	return p.c.fail(ctx, string(req.Action), err)
}
