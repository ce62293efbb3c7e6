package browser

import (
	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"
)

// Mouse and keyboard input sent on the page as the caller has it, with its deadline.
//
// Why not rod's Mouse and Keyboard: they keep the page they were made with (go-rod v0.116.2,
// input.go:24 newKeyboard and input.go:208 newMouse) and Page.Context copies the pointer
// (context.go:57), so their calls run under the long-lived page's context, with no deadline,
// whatever context the caller gave. An input event Chromium does not answer (the page was in
// the background behind a popup) then hung the action for good — and, through the Mouse's
// mutex, every later click on the page (issue 11 item 6).

// click presses and releases the left button at the centre of el, once it can be clicked.
func click(pg *rod.Page, el *rod.Element) error {
	pt, err := el.WaitInteractable()
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
