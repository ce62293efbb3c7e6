package messages

// SessionTargeted is a request for one session: the orchestrator routes every such request to
// the session it names, in one place, so that a new request type needs no routing case.
type SessionTargeted interface {
	TargetSession() string
}

// ChildTargeted is a request for one child of a session, named "<session_id>/<name>", and for
// one kind of child: the session refuses it, with a hint, when the child is of another kind.
type ChildTargeted interface {
	TargetChild() string
	TargetKind() ChildKind
}

// TargetSession implements SessionTargeted.
func (m *GetSession) TargetSession() string { return m.SessionID }

// TargetSession implements SessionTargeted.
func (m *UpdateSessionState) TargetSession() string { return m.SessionID }

// TargetSession implements SessionTargeted.
func (m *DeleteSession) TargetSession() string { return m.SessionID }

// TargetSession implements SessionTargeted.
func (m *CreateAgent) TargetSession() string { return m.SessionID }

// TargetSession implements SessionTargeted.
func (m *OpenPage) TargetSession() string { return m.SessionID }

// TargetSession implements SessionTargeted; an empty SessionID means a throwaway context.
func (m *CrawlURL) TargetSession() string { return m.SessionID }

// TargetSession implements SessionTargeted.
func (m *SetCookies) TargetSession() string { return m.SessionID }

// TargetSession implements SessionTargeted.
func (m *GetCookies) TargetSession() string { return m.SessionID }

// TargetChild implements ChildTargeted.
func (m *SendToAgent) TargetChild() string { return m.AgentID }

// TargetKind implements ChildTargeted.
func (m *SendToAgent) TargetKind() ChildKind { return KindAgent }

// TargetChild implements ChildTargeted.
func (m *ReadAgentOutput) TargetChild() string { return m.AgentID }

// TargetKind implements ChildTargeted.
func (m *ReadAgentOutput) TargetKind() ChildKind { return KindAgent }

// TargetChild implements ChildTargeted.
func (m *DeleteAgent) TargetChild() string { return m.AgentID }

// TargetKind implements ChildTargeted.
func (m *DeleteAgent) TargetKind() ChildKind { return KindAgent }

// TargetChild implements ChildTargeted.
func (m *NavigatePage) TargetChild() string { return m.PageID }

// TargetKind implements ChildTargeted.
func (m *NavigatePage) TargetKind() ChildKind { return KindPage }

// TargetChild implements ChildTargeted.
func (m *PageContent) TargetChild() string { return m.PageID }

// TargetKind implements ChildTargeted.
func (m *PageContent) TargetKind() ChildKind { return KindPage }

// TargetChild implements ChildTargeted.
func (m *PageAction) TargetChild() string { return m.PageID }

// TargetKind implements ChildTargeted.
func (m *PageAction) TargetKind() ChildKind { return KindPage }

// TargetChild implements ChildTargeted.
func (m *ScreenshotPage) TargetChild() string { return m.PageID }

// TargetKind implements ChildTargeted.
func (m *ScreenshotPage) TargetKind() ChildKind { return KindPage }

// TargetChild implements ChildTargeted.
func (m *ClosePage) TargetChild() string { return m.PageID }

// TargetKind implements ChildTargeted.
func (m *ClosePage) TargetKind() ChildKind { return KindPage }
