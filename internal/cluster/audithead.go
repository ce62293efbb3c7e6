package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// AuditHead is what /troupe/audit/<node> holds: the last seq of node's audit chain known durable
// and its hash, and when it was published. It is not under the node's lease: a lost node's
// last head stays, so that its chain can still be checked against it.
type AuditHead struct {
	Node string    `json:"node"`
	Seq  uint64    `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
}

// AuditHead reads the head this member's node published last, or nil when there is none.
func (m *Member) AuditHead(ctx context.Context) (*AuditHead, error) {
	resp, err := m.get(ctx, "read this node's published audit head", auditHeadKey(m.cfg.Node))
	if err != nil || len(resp.Kvs) == 0 {
		return nil, err
	}
	return decodeAuditHead(resp.Kvs[0])
}

// ReadAuditHeads reads every node's published audit head from etcd, by node, without joining.
func ReadAuditHeads(ctx context.Context, cfg Config) (map[string]AuditHead, error) {
	cli, err := dial(cfg, DefaultRequestTimeout, "read the published audit heads", false)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
	defer cancel()
	resp, err := cli.Get(ctx, auditPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, &UnavailableError{Op: "read the published audit heads", Endpoints: cfg.Etcd, Err: err}
	}
	out := make(map[string]AuditHead, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		h, err := decodeAuditHead(kv)
		if err != nil {
			return nil, err
		}
		out[h.Node] = *h
	}
	return out, nil
}

func decodeAuditHead(kv *mvccpb.KeyValue) (*AuditHead, error) {
	var h AuditHead
	if err := json.Unmarshal(kv.Value, &h); err != nil {
		return nil, fmt.Errorf("audit head %s: %w", kv.Key, err)
	}
	h.Node = strings.TrimPrefix(string(kv.Key), auditPrefix) // the key, not the value, says whose
	return &h, nil
}

// AuditHeadPublisher keeps /troupe/audit/<node> at the node's durable audit head.
type AuditHeadPublisher struct {
	m     *Member
	head  func() (seq uint64, hash string)
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	err   error // the last publish's error; only the loop touches it until done
	last  AuditHead
	rev   int64 // mod revision of the key as last written or read, once known
	known bool
	// tried holds the heads ("seq hash") sent since the last confirmed write: one whose answer was
	// lost may have been written, and finding it there is no sign of another writer.
	tried map[string]bool
}

// PublishAuditHeads publishes head() as this member's node's audit head at once, then every
// `every` (1 s when 0) when it changed, until Stop. Pass the audit log's DurableHead: a head
// published is always on disk. Writes are plain puts, not under the lease and not fenced (a
// fenced node still records its children stopping), but compared with the key's revision: if
// anyone else rewrote the head, the publisher logs it, stops and leaves it for `troupe audit
// verify --cluster` to report. Failed writes are logged and retried at the next tick. Stop it
// before the member's Close or Leave, which may close the etcd client.
func PublishAuditHeads(m *Member, head func() (seq uint64, hash string), every time.Duration) *AuditHeadPublisher {
	if every <= 0 {
		every = time.Second
	}
	p := &AuditHeadPublisher{m: m, head: head, stop: make(chan struct{}), done: make(chan struct{}), tried: map[string]bool{}}
	go p.loop(every)
	return p
}

func (p *AuditHeadPublisher) loop(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := p.publish(); errors.Is(err, ErrAuditHeadChanged) {
			return
		}
		select {
		case <-p.stop:
			p.publish() // the last events, audit.close among them when the log was closed first
			return
		case <-t.C:
		}
	}
}

// publish writes the current head when it differs from the last one published.
func (p *AuditHeadPublisher) publish() error {
	seq, hash := p.head()
	if p.known && seq == p.last.Seq && hash == p.last.Hash {
		return p.err
	}
	h := AuditHead{Node: p.m.cfg.Node, Seq: seq, Hash: hash, Time: time.Now().UTC()}
	val, _ := json.Marshal(h)
	key := auditHeadKey(h.Node)
	p.tried[triedKey(seq, hash)] = true
	var resp *clientv3.TxnResponse
	err := p.m.call(context.Background(), "publish this node's audit head", true, func(ctx context.Context) (err error) {
		if !p.known {
			var g *clientv3.GetResponse
			if g, err = p.m.cli.Get(ctx, key); err != nil {
				return err
			}
			p.rev, p.known = 0, true
			if len(g.Kvs) == 1 {
				p.rev = g.Kvs[0].ModRevision
			}
		}
		resp, err = p.m.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", p.rev)).
			Then(clientv3.OpPut(key, string(val))).Else(clientv3.OpGet(key)).Commit()
		return err
	})
	switch {
	case err != nil:
		p.m.log.Warn().Err(err).Uint64("seq", seq).Msg("cluster: could not publish the audit head; retrying")
	case resp.Succeeded:
		p.rev, p.last = resp.Header.Revision, h
		clear(p.tried)
	case p.ownLostWrite(resp):
		return p.publish() // an earlier write of ours landed after all: go on from it
	default:
		err = fmt.Errorf("%w: node %q's head at %s is not the one it published last (seq %d): "+
			"it stops publishing; run `troupe audit verify --cluster`", ErrAuditHeadChanged, h.Node, key, p.last.Seq)
		p.m.log.Error().Err(err).Msg("cluster: audit head")
	}
	p.err = err
	return err
}

// ownLostWrite reports whether the head a refused compare found is one this publisher sent
// without hearing back; if so it adopts its revision.
func (p *AuditHeadPublisher) ownLostWrite(resp *clientv3.TxnResponse) bool {
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) != 1 {
		return false
	}
	cur, err := decodeAuditHead(kvs[0])
	if err != nil || !p.tried[triedKey(cur.Seq, cur.Hash)] {
		return false
	}
	p.rev, p.last = kvs[0].ModRevision, *cur
	clear(p.tried)
	return true
}

func triedKey(seq uint64, hash string) string { return fmt.Sprint(seq, " ", hash) }

// Stop publishes the head once more if it changed, stops, and returns the last publish's error.
// It may be called more than once, and on nil (a daemon that runs alone has no publisher).
func (p *AuditHeadPublisher) Stop() error {
	if p == nil {
		return nil
	}
	p.once.Do(func() { close(p.stop) })
	<-p.done
	return p.err
}

// Published is the head last published; false before Stop returned (only the loop may read
// it until then) or when none was.
func (p *AuditHeadPublisher) Published() (AuditHead, bool) {
	select {
	case <-p.done:
		return p.last, p.last.Hash != ""
	default:
		return AuditHead{}, false
	}
}
