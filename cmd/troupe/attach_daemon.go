package main

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/troupe-dev/troupe/audit"
	"github.com/troupe-dev/troupe/internal/daemon"
	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/messages"
)

// attachFunc is the daemon's side of `troupe attach`: the agent is asked for an attachment, and
// the person's hold is audited (taken, then given back), as every change a person makes is.
func (rt *serverRuntime) attachFunc() daemon.AttachFunc {
	return func(ctx context.Context, req *messages.AttachAgent) (messages.Attachment, *messages.Error) {
		session, _, _ := strings.Cut(req.AgentID, "/")
		ev := audit.Event{Action: "terminal.attach", Stage: audit.StageRequested, Actor: &audit.Actor{Transport: "attach"},
			Principal: principal.LocalName, Session: session, Target: req.AgentID,
			Details: map[string]any{"rows": req.Rows, "cols": req.Cols}}
		if _, err := rt.audit.Append(context.WithoutCancel(ctx), ev); err != nil {
			return nil, messages.Errorf(messages.CodeUnavailable, "the audit log could not record the attach, so it was refused: %v", err)
		}
		start := time.Now()
		res, err := rt.actors.Request(ctx, req, rt.cfg.CallTimeout.D())
		done := audit.Event{Action: ev.Action, Stage: audit.StageFailed, Actor: ev.Actor, Principal: ev.Principal, Session: session,
			Target: req.AgentID, Outcome: audit.OutcomeError}
		var e *messages.Error
		switch r := res.(type) {
		case *messages.AttachAgentResult:
			return &auditedAttachment{Attachment: r.Attachment, done: func() {
				done.Stage, done.Outcome = audit.StageCompleted, audit.OutcomeOK
				done.DurationMS = float64(time.Since(start).Milliseconds())
				done.Details = map[string]any{"detached": true}
				_ = rt.audit.Record(done)
			}}, nil
		case *messages.Error:
			e = r
		default:
			e = messages.Errorf(messages.CodeUnavailable, "attach to %s: %v", req.AgentID, err)
		}
		done.Details = map[string]any{"error": e.Message}
		_ = rt.audit.Record(done)
		return nil, e
	}
}

// auditedAttachment records the end of a person's hold once, when it is closed.
type auditedAttachment struct {
	messages.Attachment
	done func()
	once sync.Once
}

func (a *auditedAttachment) Close() {
	a.Attachment.Close()
	a.once.Do(a.done)
}
