package route

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/troupe-dev/troupe/messages"
)

// Cluster-wide reads: list_sessions and session_metrics ask every live node at once and merge
// the answers as one node would give them. A node that does not answer within FanoutTimeout
// is named in the answer's Unanswered; this node's own refusal (a bad label filter) is the
// answer.

// nodeAnswer is one node's answer to a cluster-wide read.
type nodeAnswer struct {
	node Node
	res  any
}

// fanout sends msg to every live node (and this one) and returns their answers, this node's
// first.
func (r *Router) fanout(ctx context.Context, msg any, timeout time.Duration) []nodeAnswer {
	timeout = min(timeout, r.opts.FanoutTimeout)
	self := r.cluster.Self()
	nodes := []Node{{Name: self, Address: r.gw.Address()}}
	for _, n := range r.cluster.Nodes() {
		if n.Name != self {
			nodes = append(nodes, n)
		}
	}
	out := make([]nodeAnswer, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		out[i].node = n
		wg.Go(func() {
			if n.Name == self {
				out[i].res = r.here(ctx, msg, timeout)
				return
			}
			out[i].res = r.gw.call(ctx, n, msg, timeout, "part of the answer")
		})
	}
	wg.Wait()
	return out
}

// unanswered says why node gave no usable answer.
func unanswered(a nodeAnswer) string {
	if e, ok := a.res.(*messages.Error); ok && strings.Contains(e.Message, fmt.Sprintf("node %q", a.node.Name)) {
		return e.Message
	}
	if e, ok := a.res.(*messages.Error); ok {
		return fmt.Sprintf("node %q (%s): %s", a.node.Name, a.node.Address, e.Message)
	}
	return fmt.Sprintf("node %q (%s): answered with a %T", a.node.Name, a.node.Address, a.res)
}

func (r *Router) listSessions(ctx context.Context, msg *messages.ListSessions, timeout time.Duration) any {
	answers := r.fanout(ctx, msg, timeout)
	if e, ok := answers[0].res.(*messages.Error); ok {
		return e
	}
	out := &messages.ListSessionsResult{Sessions: []messages.SessionSummary{}}
	seen := map[string]int{} // session id → index in out.Sessions
	for _, a := range answers {
		res, ok := a.res.(*messages.ListSessionsResult)
		if !ok {
			out.Unanswered = append(out.Unanswered, unanswered(a))
			continue
		}
		out.Unanswered = append(out.Unanswered, res.Unanswered...)
		for _, s := range res.Sessions {
			// A session taken over a moment ago can be listed by its old node and its new one:
			// the owner etcd names wins.
			if i, dup := seen[s.SessionID]; dup {
				if r.cluster.CachedOwner(s.SessionID) == s.Node {
					out.Sessions[i] = s
				}
				continue
			}
			seen[s.SessionID] = len(out.Sessions)
			out.Sessions = append(out.Sessions, s)
		}
	}
	sort.Slice(out.Sessions, func(i, j int) bool { return out.Sessions[i].SessionID < out.Sessions[j].SessionID })
	return out
}

func (r *Router) metrics(ctx context.Context, msg *messages.SessionMetrics, timeout time.Duration) any {
	answers := r.fanout(ctx, msg, timeout)
	if e, ok := answers[0].res.(*messages.Error); ok {
		return e
	}
	var out *messages.SessionMetricsResult
	var ageSum time.Duration
	for _, a := range answers {
		m, ok := a.res.(*messages.SessionMetricsResult)
		if !ok {
			if out != nil {
				out.Unanswered = append(out.Unanswered, unanswered(a))
			}
			continue
		}
		ageSum += m.AvgAge * time.Duration(m.TotalSessions)
		if out == nil { // this node's: its limits and idle timeout stand for the cluster's
			c := *m
			c.Sessions, c.Children, c.ChildrenRunning = sum(nil, m.Sessions), sum(nil, m.Children), sum(nil, m.ChildrenRunning)
			out = &c
			continue
		}
		addMetrics(out, m)
	}
	if out.TotalSessions > 0 {
		out.AvgAge = ageSum / time.Duration(out.TotalSessions)
	}
	return out
}

// addMetrics adds one more node's metrics to out: counts and counters summed, the oldest
// session the oldest of all and the newest the newest, the counters since the earliest start,
// and the session limit the cluster's total.
func addMetrics(out, m *messages.SessionMetricsResult) {
	if m.TotalSessions > 0 {
		if out.TotalSessions == 0 || m.NewestAge < out.NewestAge {
			out.NewestAge = m.NewestAge
		}
		out.OldestAge = max(out.OldestAge, m.OldestAge)
	}
	out.TotalSessions += m.TotalSessions
	out.ActiveSessions += m.ActiveSessions
	out.DeletingSessions += m.DeletingSessions
	out.IdleSessions += m.IdleSessions
	out.Sessions = sum(out.Sessions, m.Sessions)
	out.Children = sum(out.Children, m.Children)
	out.ChildrenRunning = sum(out.ChildrenRunning, m.ChildrenRunning)
	out.RunningChildren += m.RunningChildren
	out.Created += m.Created
	out.Deleted += m.Deleted
	out.Expired += m.Expired
	out.Restored += m.Restored
	out.Rollbacks += m.Rollbacks
	out.MaxSessions += m.MaxSessions
	if !m.CountersSince.IsZero() && (out.CountersSince.IsZero() || m.CountersSince.Before(out.CountersSince)) {
		out.CountersSince = m.CountersSince
	}
	out.Unanswered = append(out.Unanswered, m.Unanswered...)
}

// sum adds the counts of b to a (a new map when a is nil).
func sum[K comparable](a, b map[K]int) map[K]int {
	if a == nil {
		a = make(map[K]int, len(b))
	}
	for k, n := range b {
		a[k] += n
	}
	return a
}
