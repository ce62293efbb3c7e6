package testutil

import "github.com/troupe-dev/troupe/messages"

// The actors answer a request with its result, or with a *messages.Error instead. Tests read
// either as one value: a reply type embeds the result (nil on failure) beside Err (nil on
// success), so that a test says r.Session or r.Err.

// Split returns the result of type T a reply carries, or the error it is; any other reply is an
// internal error that names its type.
func Split[T any](res any) (T, *messages.Error) {
	var zero T
	if e, ok := res.(*messages.Error); ok {
		return zero, e
	}
	if r, ok := res.(T); ok {
		return r, nil
	}
	return zero, messages.Errorf(messages.CodeInternal, "unexpected reply %T", res)
}

// SessionReply is a reply to a request answered by messages.SessionResult.
type SessionReply struct {
	*messages.SessionResult
	Err *messages.Error
}

// AsSession reads a reply as a SessionReply.
func AsSession(res any) SessionReply {
	r, e := Split[*messages.SessionResult](res)
	return SessionReply{r, e}
}

// ListSessionsReply is a reply to a request answered by messages.ListSessionsResult.
type ListSessionsReply struct {
	*messages.ListSessionsResult
	Err *messages.Error
}

// AsListSessions reads a reply as a ListSessionsReply.
func AsListSessions(res any) ListSessionsReply {
	r, e := Split[*messages.ListSessionsResult](res)
	return ListSessionsReply{r, e}
}

// UpdateSessionStateReply is a reply to a request answered by messages.UpdateSessionStateResult.
type UpdateSessionStateReply struct {
	*messages.UpdateSessionStateResult
	Err *messages.Error
}

// AsUpdateSessionState reads a reply as a UpdateSessionStateReply.
func AsUpdateSessionState(res any) UpdateSessionStateReply {
	r, e := Split[*messages.UpdateSessionStateResult](res)
	return UpdateSessionStateReply{r, e}
}

// DeleteSessionReply is a reply to a request answered by messages.DeleteSessionResult.
type DeleteSessionReply struct {
	*messages.DeleteSessionResult
	Err *messages.Error
}

// AsDeleteSession reads a reply as a DeleteSessionReply.
func AsDeleteSession(res any) DeleteSessionReply {
	r, e := Split[*messages.DeleteSessionResult](res)
	return DeleteSessionReply{r, e}
}

// SessionMetricsReply is a reply to a request answered by messages.SessionMetricsResult.
type SessionMetricsReply struct {
	*messages.SessionMetricsResult
	Err *messages.Error
}

// AsSessionMetrics reads a reply as a SessionMetricsReply.
func AsSessionMetrics(res any) SessionMetricsReply {
	r, e := Split[*messages.SessionMetricsResult](res)
	return SessionMetricsReply{r, e}
}

// SweepIdleReply is a reply to a request answered by messages.SweepIdleResult.
type SweepIdleReply struct {
	*messages.SweepIdleResult
	Err *messages.Error
}

// AsSweepIdle reads a reply as a SweepIdleReply.
func AsSweepIdle(res any) SweepIdleReply {
	r, e := Split[*messages.SweepIdleResult](res)
	return SweepIdleReply{r, e}
}

// ListSnapshotsReply is a reply to a request answered by messages.ListSnapshotsResult.
type ListSnapshotsReply struct {
	*messages.ListSnapshotsResult
	Err *messages.Error
}

// AsListSnapshots reads a reply as a ListSnapshotsReply.
func AsListSnapshots(res any) ListSnapshotsReply {
	r, e := Split[*messages.ListSnapshotsResult](res)
	return ListSnapshotsReply{r, e}
}

// AgentReply is a reply to a request answered by messages.AgentResult.
type AgentReply struct {
	*messages.AgentResult
	Err *messages.Error
}

// AsAgent reads a reply as a AgentReply.
func AsAgent(res any) AgentReply {
	r, e := Split[*messages.AgentResult](res)
	return AgentReply{r, e}
}

// SendToAgentReply is a reply to a request answered by messages.SendToAgentResult.
type SendToAgentReply struct {
	*messages.SendToAgentResult
	Err *messages.Error
}

// AsSendToAgent reads a reply as a SendToAgentReply.
func AsSendToAgent(res any) SendToAgentReply {
	r, e := Split[*messages.SendToAgentResult](res)
	return SendToAgentReply{r, e}
}

// ReadAgentOutputReply is a reply to a request answered by messages.ReadAgentOutputResult.
type ReadAgentOutputReply struct {
	*messages.ReadAgentOutputResult
	Err *messages.Error
}

// AsReadAgentOutput reads a reply as a ReadAgentOutputReply.
func AsReadAgentOutput(res any) ReadAgentOutputReply {
	r, e := Split[*messages.ReadAgentOutputResult](res)
	return ReadAgentOutputReply{r, e}
}

// DeleteAgentReply is a reply to a request answered by messages.DeleteAgentResult.
type DeleteAgentReply struct {
	*messages.DeleteAgentResult
	Err *messages.Error
}

// AsDeleteAgent reads a reply as a DeleteAgentReply.
func AsDeleteAgent(res any) DeleteAgentReply {
	r, e := Split[*messages.DeleteAgentResult](res)
	return DeleteAgentReply{r, e}
}

// PageReply is a reply to a request answered by messages.PageResult.
type PageReply struct {
	*messages.PageResult
	Err *messages.Error
}

// AsPage reads a reply as a PageReply.
func AsPage(res any) PageReply {
	r, e := Split[*messages.PageResult](res)
	return PageReply{r, e}
}

// NavigatePageReply is a reply to a request answered by messages.NavigatePageResult.
type NavigatePageReply struct {
	*messages.NavigatePageResult
	Err *messages.Error
}

// AsNavigatePage reads a reply as a NavigatePageReply.
func AsNavigatePage(res any) NavigatePageReply {
	r, e := Split[*messages.NavigatePageResult](res)
	return NavigatePageReply{r, e}
}

// PageContentReply is a reply to a request answered by messages.PageContentResult.
type PageContentReply struct {
	*messages.PageContentResult
	Err *messages.Error
}

// AsPageContent reads a reply as a PageContentReply.
func AsPageContent(res any) PageContentReply {
	r, e := Split[*messages.PageContentResult](res)
	return PageContentReply{r, e}
}

// PageActionReply is a reply to a request answered by messages.PageActionResult.
type PageActionReply struct {
	*messages.PageActionResult
	Err *messages.Error
}

// AsPageAction reads a reply as a PageActionReply.
func AsPageAction(res any) PageActionReply {
	r, e := Split[*messages.PageActionResult](res)
	return PageActionReply{r, e}
}

// ScreenshotPageReply is a reply to a request answered by messages.ScreenshotPageResult.
type ScreenshotPageReply struct {
	*messages.ScreenshotPageResult
	Err *messages.Error
}

// AsScreenshotPage reads a reply as a ScreenshotPageReply.
func AsScreenshotPage(res any) ScreenshotPageReply {
	r, e := Split[*messages.ScreenshotPageResult](res)
	return ScreenshotPageReply{r, e}
}

// ClosePageReply is a reply to a request answered by messages.ClosePageResult.
type ClosePageReply struct {
	*messages.ClosePageResult
	Err *messages.Error
}

// AsClosePage reads a reply as a ClosePageReply.
func AsClosePage(res any) ClosePageReply {
	r, e := Split[*messages.ClosePageResult](res)
	return ClosePageReply{r, e}
}

// CookiesReply is a reply to a request answered by messages.CookiesResult.
type CookiesReply struct {
	*messages.CookiesResult
	Err *messages.Error
}

// AsCookies reads a reply as a CookiesReply.
func AsCookies(res any) CookiesReply {
	r, e := Split[*messages.CookiesResult](res)
	return CookiesReply{r, e}
}
