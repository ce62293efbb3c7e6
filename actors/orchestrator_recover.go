package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/troupe-dev/troupe/internal/store"
	"github.com/troupe-dev/troupe/messages"
)

// recoverSessions asks the orchestrator to re-create every session found in the store.
type recoverSessions struct{}

// recoverResult answers recoverSessions.
type recoverResult struct {
	recovered, finished int
	err                 error
}

// recover re-creates the live sessions of the store and finishes the deletes a crash interrupted.
func (o *orchestrator) recover(ctx actor.Context) *recoverResult {
	recs, err := o.opts.Store.LoadSessions()
	if err != nil {
		return &recoverResult{err: fmt.Errorf("load sessions: %w", err)}
	}
	res := &recoverResult{}
	for _, rec := range recs {
		if rec.Status == messages.StatusDeleting {
			o.resumeDelete(ctx, rec)
			res.finished++
			continue
		}
		pid, err := o.spawnSession(ctx, rec, startRecovered)
		if err != nil {
			return &recoverResult{err: fmt.Errorf("recover session %q: %w", rec.ID, err)}
		}
		o.register(rec, pid, messages.StatusActive)
		res.recovered++
	}
	if o.opts.Events != nil && (res.recovered > 0 || res.finished > 0) {
		o.opts.Events.Record("server.recover", "", "", "ok", map[string]any{"sessions": res.recovered, "deletes_finished": res.finished})
	}
	o.log.Info().Int("sessions", res.recovered).Int("deletes_finished", res.finished).Msg("recovered sessions from the store")
	return res
}

// adopt brings up the sessions the store now gives this node that it does not run yet: in a
// cluster, those it claimed after their node was lost (DESIGN §16), brought back as after a crash.
// Sessions it runs already are left alone, so adopting twice changes nothing.
func (o *orchestrator) adopt(ctx actor.Context) *messages.AdoptSessionsResult {
	recs, err := o.opts.Store.LoadSessions()
	if err != nil {
		return &messages.AdoptSessionsResult{Err: messages.Errorf(messages.CodeUnavailable, "load sessions: %v", err)}
	}
	res := &messages.AdoptSessionsResult{}
	for _, rec := range recs {
		if o.sessions[rec.ID] != nil {
			continue
		}
		if rec.Status == messages.StatusDeleting {
			o.resumeDelete(ctx, rec)
			res.Adopted = append(res.Adopted, rec.ID)
			continue
		}
		pid, err := o.spawnSession(ctx, rec, startRecovered)
		if err != nil {
			o.log.Error().Err(err).Str("session", rec.ID).Msg("could not adopt a session")
			continue
		}
		o.register(rec, pid, messages.StatusActive)
		res.Adopted = append(res.Adopted, rec.ID)
	}
	if len(res.Adopted) > 0 {
		if o.opts.Events != nil {
			o.opts.Events.Record("server.adopt", "", "", "ok", map[string]any{"sessions": res.Adopted})
		}
		o.log.Info().Strs("sessions", res.Adopted).Msg("adopted sessions of a lost node")
	}
	return res
}

// resumeDelete finishes, off the mailbox, a delete that a crash interrupted: ending what the
// crashed run left of the children's processes takes their grace periods, and the server
// answers meanwhile. The session shows as being deleted until it is done.
func (o *orchestrator) resumeDelete(ctx actor.Context, rec store.SessionRecord) {
	o.register(rec, nil, messages.StatusDeleting)
	root, self := ctx.ActorSystem().Root, ctx.Self()
	o.opts.background.Add(1)
	go func() {
		defer o.opts.background.Done()
		err := o.finishInterruptedDelete(rec)
		root.Send(self, &deleteResumed{id: rec.ID, err: err})
	}()
}

// deleteResumed reports the end of resumeDelete.
type deleteResumed struct {
	id  string
	err error
}

func (o *orchestrator) onDeleteResumed(msg *deleteResumed) {
	if msg.err != nil {
		o.log.Error().Err(msg.err).Str("session", msg.id).Msg("could not finish the delete a crash interrupted; it is retried at the next start")
		if e := o.sessions[msg.id]; e != nil {
			e.stuck = fmt.Sprintf("the delete of session %q, interrupted by a crash, could not be finished (%v); it is retried when troupe next starts", msg.id, msg.err)
		}
		return
	}
	o.forget(msg.id)
	o.counters.deleted++
}
