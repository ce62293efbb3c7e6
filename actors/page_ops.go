package actors

import (
	"context"
	"errors"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/messages"
)

// The calls a page serves: each turns a message into the work on the tab and the reply.

func (a *pageActor) navigateOp(ctx actor.Context, msg *messages.NavigatePage) *pageOp {
	return &pageOp{sender: ctx.Sender(),
		run: func(c context.Context, p browser.Page) (any, error) { return p.Navigate(c, msg.URL) },
		answer: func(res any, e *messages.Error) any {
			if e != nil {
				return e
			}
			r := &messages.NavigatePageResult{PageID: a.id}
			if nav, ok := res.(browser.NavResult); ok {
				r.URL, r.Title, r.Status = nav.URL, nav.Title, nav.Status
			}
			return r
		}}
}

func (a *pageActor) contentOp(ctx actor.Context, msg *messages.PageContent) *pageOp {
	req := browser.ContentRequest{Format: browser.Format(msg.Format), Selector: msg.Selector, Offset: msg.Offset, Max: msg.MaxBytes}
	return &pageOp{sender: ctx.Sender(), fresh: true,
		run: func(c context.Context, p browser.Page) (any, error) { return p.Content(c, req) },
		answer: func(res any, e *messages.Error) any {
			if e != nil {
				return e
			}
			r := &messages.PageContentResult{PageID: a.id}
			if c, ok := res.(browser.Content); ok {
				r.Content = contentMessage(c)
			}
			return r
		}}
}

func (a *pageActor) actionOp(ctx actor.Context, msg *messages.PageAction) *pageOp {
	req := browser.ActionRequest{Action: browser.Action(msg.Action), Selector: msg.Selector, Text: msg.Text}
	return &pageOp{sender: ctx.Sender(), fresh: true,
		run: func(c context.Context, p browser.Page) (any, error) { return p.Action(c, req) },
		answer: func(res any, e *messages.Error) any {
			if e != nil {
				return e
			}
			r := &messages.PageActionResult{PageID: a.id, Action: msg.Action}
			if ar, ok := res.(browser.ActionResult); ok {
				r.Value, r.Navigated, r.URL, r.Title, r.Popups = ar.Value, ar.Navigated, ar.URL, ar.Title, ar.Popups
			}
			return r
		}}
}

func (a *pageActor) screenshotOp(ctx actor.Context, msg *messages.ScreenshotPage) *pageOp {
	return &pageOp{sender: ctx.Sender(), fresh: true,
		run: func(c context.Context, p browser.Page) (any, error) { return p.Screenshot(c, msg.FullPage) },
		answer: func(res any, e *messages.Error) any {
			if e != nil {
				return e
			}
			r := &messages.ScreenshotPageResult{PageID: a.id}
			if png, ok := res.([]byte); ok {
				r.PNG = png
				r.URL, r.Title = a.url, a.title
			}
			return r
		}}
}

func contentMessage(c browser.Content) *messages.Content {
	return &messages.Content{URL: c.URL, Title: c.Title, Format: string(c.Format), Text: c.Text, Offset: c.Offset,
		Total: c.Total, Truncated: c.Truncated, NextOffset: c.NextOffset}
}

// browserError turns a browser error into a typed one (DESIGN §7 error policy): what the
// caller can fix is invalid_argument, what may pass is unavailable, the rest is internal.
func browserError(err error) *messages.Error {
	var me *messages.Error
	switch {
	case errors.As(err, &me):
		return me
	case errors.Is(err, browser.ErrBadURL), errors.Is(err, browser.ErrURLNotAllowed), errors.Is(err, browser.ErrNoElement),
		errors.Is(err, browser.ErrBadRequest), errors.Is(err, browser.ErrScript):
		return messages.Errorf(messages.CodeInvalidArgument, "%v", err)
	case errors.Is(err, browser.ErrUnreachable), errors.Is(err, browser.ErrTimeout), errors.Is(err, browser.ErrNoBrowser),
		errors.Is(err, browser.ErrLaunch), errors.Is(err, browser.ErrContextLost), errors.Is(err, browser.ErrClosed):
		return messages.Errorf(messages.CodeUnavailable, "%v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return messages.Errorf(messages.CodeUnavailable, "the browser did not finish in time (%v); try again", err)
	case errors.Is(err, context.Canceled):
		return messages.Errorf(messages.CodeUnavailable, "the browser call was cancelled (%v); try again", err)
	}
	return messages.Errorf(messages.CodeInternal, "browser: %v", err)
}

// Cookies cross the browser boundary field by field: messages imports no troupe package.

func toBrowserCookies(in []messages.Cookie) []browser.Cookie {
	out := make([]browser.Cookie, len(in))
	for i, c := range in {
		out[i] = browser.Cookie{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, Expires: c.Expires,
			HTTPOnly: c.HTTPOnly, Secure: c.Secure, SameSite: c.SameSite, URL: c.URL}
	}
	return out
}

func toMessageCookies(in []browser.Cookie) []messages.Cookie {
	out := make([]messages.Cookie, len(in))
	for i, c := range in {
		out[i] = messages.Cookie{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, Expires: c.Expires,
			HTTPOnly: c.HTTPOnly, Secure: c.Secure, SameSite: c.SameSite, URL: c.URL}
	}
	return out
}
