package browser

import (
	"context"
	"errors"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"
)

// Mouse and keyboard input sent on the page as the caller has it, with its deadline.
//
// Why not rod's Element.Click, Mouse and Keyboard: they keep the page they were made with (go-rod v0.116.2,
// input.go:24 newKeyboard and input.go:208 newMouse) and Page.Context copies the pointer
// (context.go:57), so their calls run under the long-lived page's context, with no deadline,
// whatever context the caller gave. An input event Chromium does not answer (the page was in
// the background behind a popup) then hung the action for good — and, through the Mouse's
// mutex, every later click on the page (issue 11 item 6).

// interactableRetry is how often a covered element is looked at again.
const interactableRetry = 100 * time.Millisecond

// waitInteractable scrolls el into view and returns a point where a click reaches it, waiting
// (under pg's deadline) while another element covers it. Not rod's Element.WaitInteractable:
// its ScrollIntoView waits for an animation frame through the root page (element.go:72
// WaitStableRAF, page.go:851 WaitRepaint uses p.root), which has no deadline, and a page that
// is not painted (in the background) never has a frame.
func waitInteractable(pg *rod.Page, el *rod.Element) (*proto.Point, error) {
	ctx := pg.GetContext()
	for {
		// As rod's ScrollIntoView does first: an element that is not displayed has no box to
		// scroll to (wait for it, within the deadline).
		if err := el.WaitVisible(); err != nil {
			return nil, err
		}
		if err := (proto.DOMScrollIntoViewIfNeeded{ObjectID: el.Object.ObjectID}).Call(pg); err != nil {
			return nil, err
		}
		pt, err := el.Interactable()
		if !errors.Is(err, &rod.CoveredError{}) {
			return pt, err
		}
		t := time.NewTimer(interactableRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		case <-t.C:
		}
	}
}

// click presses and releases the left button at the centre of el, once it can be clicked.
func click(pg *rod.Page, el *rod.Element) error {
	pt, err := waitInteractable(pg, el)
	if err != nil {
		return err
	}
	if err := el.WaitEnabled(); err != nil {
		return err
	}
	down, up := 1, 0 // the buttons held: the left one, then none
	for _, e := range []proto.InputDispatchMouseEvent{
		{Type: proto.InputDispatchMouseEventTypeMouseMoved, X: pt.X, Y: pt.Y},
		{Type: proto.InputDispatchMouseEventTypeMousePressed, X: pt.X, Y: pt.Y, Button: proto.InputMouseButtonLeft,
			Buttons: &down, ClickCount: 1},
		{Type: proto.InputDispatchMouseEventTypeMouseReleased, X: pt.X, Y: pt.Y, Button: proto.InputMouseButtonLeft,
			Buttons: &up, ClickCount: 1},
	} {
		if err := e.Call(pg); err != nil {
			return err
		}
	}
	return nil
}

// typeKey presses and releases key with the modifiers given (a bit set of input.Key.Modifier).
func typeKey(pg *rod.Page, key input.Key, modifiers int) error {
	if err := key.Encode(proto.InputDispatchKeyEventTypeKeyDown, modifiers).Call(pg); err != nil {
		return err
	}
	return key.Encode(proto.InputDispatchKeyEventTypeKeyUp, modifiers).Call(pg)
}
