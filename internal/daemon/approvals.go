package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"strconv"

	"github.com/troupe-dev/troupe/internal/approval"
	"github.com/troupe-dev/troupe/internal/principal"
	"github.com/troupe-dev/troupe/internal/process"
)

// Approvals (DESIGN §15): the calls of require_approval's tools that wait for a person, listed
// and decided on the socket by `troupe approvals` / `troupe approve [--deny] ID`, and on the TCP
// listener by the live view's buttons. Never by an MCP tool: the model must not approve itself.
const (
	// ApprovalsPath lists the pending approvals (GET, a JSON array of approval.Request) on the
	// socket; POST ApprovalsPath/ID with DecisionBody decides one.
	ApprovalsPath = "/daemon/approvals"
	// ViewApprovalsPath is the same for the live view on the TCP listener; a POST needs the
	// header ApprovalHeader (a page of another site cannot send it without a CORS preflight).
	ViewApprovalsPath = "/approvals"
	// ApprovalHeader must be "1" on a POST to ViewApprovalsPath.
	ApprovalHeader = "X-Troupe-Approval"
)

// DecisionBody is what a POST to .../approvals/ID sends.
type DecisionBody struct {
	// Decision is "approve" or "deny".
	Decision string `json:"decision"`
}

// DecisionAnswer is what a decision answers.
type DecisionAnswer struct {
	Request  approval.Request  `json:"request"`
	Decision approval.Decision `json:"decision"`
}

// connKey carries a socket request's connection (its peer decides who may approve).
type connKey struct{}

func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// servePending lists the pending approvals keep lets through.
func (d *server) servePending(w http.ResponseWriter, keep func(approval.Request) bool) {
	if d.o.Approvals == nil {
		writeJSONError(w, http.StatusNotFound, "not_found", "this daemon has no approvals (require_approval is not set up)")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(d.o.Approvals.Pending(keep))
}

// decide reads a DecisionBody and takes the decision for approver.
func (d *server) decide(w http.ResponseWriter, r *http.Request, approver string, allowed func(approval.Request) bool) {
	if d.o.Approvals == nil {
		writeJSONError(w, http.StatusNotFound, "not_found", "this daemon has no approvals (require_approval is not set up)")
		return
	}
	var body DecisionBody
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || (body.Decision != "approve" && body.Decision != "deny") {
		writeJSONError(w, http.StatusBadRequest, "invalid_argument", `send {"decision": "approve"} or {"decision": "deny"}`)
		return
	}
	id := r.PathValue("id")
	req, _, ok := d.o.Approvals.Get(id)
	if !ok || (allowed != nil && !allowed(req)) {
		writeJSONError(w, http.StatusNotFound, "not_found", "no approval "+strconv.Quote(id)+" is waiting: "+approval.ErrNotFound.Error()+"; `troupe approvals` lists the waiting ones")
		return
	}
	req, err := d.o.Approvals.Decide(id, approval.Decision{Approve: body.Decision == "approve", Approver: approver})
	switch {
	case errors.Is(err, approval.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, "not_found", "no approval "+strconv.Quote(id)+" is waiting: "+err.Error())
		return
	case errors.Is(err, approval.ErrDecided):
		writeJSONError(w, http.StatusConflict, "already_decided", "approval "+id+" was already decided; the call made again acts on that decision")
		return
	case err != nil:
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	_, got, _ := d.o.Approvals.Get(id)
	ans := DecisionAnswer{Request: req}
	if got != nil {
		ans.Decision = *got
	}
	d.o.Logger.Info().Str("approval", id).Str("tool", req.Tool).Str("approver", approver).Str("decision", body.Decision).Msg("daemon: approval decided")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

// serveSocketDecision decides an approval for `troupe approve`: the approver is this OS user,
// unless the command runs inside one of troupe's own agents, where the model types.
func (d *server) serveSocketDecision(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	pid, uid, err := peerProcess(c)
	if err != nil {
		writeJSONError(w, http.StatusForbidden, "forbidden", "could not tell who is asking ("+err.Error()+"); approvals are refused")
		return
	}
	if agent, why := d.underDaemon(pid); agent {
		writeJSONError(w, http.StatusForbidden, "forbidden", fmt.Sprintf(
			"troupe approve runs inside one of troupe's own agents (%s); the model can type there, so it cannot approve. Run it in a terminal troupe did not start", why))
		return
	}
	d.decide(w, r, "cli:"+userName(uid), nil)
}

// serveViewDecision decides an approval for the live view: the principal must be an admin, or
// the one whose call waits (with scope write).
func (d *server) serveViewDecision(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(ApprovalHeader) != "1" {
		writeJSONError(w, http.StatusForbidden, "forbidden", "a decision needs the header "+ApprovalHeader+": 1")
		return
	}
	p := principal.From(r.Context())
	d.decide(w, r, "view:"+p.Name, func(req approval.Request) bool { return mayDecide(p, req) })
}

// mayDecide reports whether p may see and decide req.
func mayDecide(p principal.Principal, req approval.Request) bool {
	return p.ChangesAll() || (p.MayChange() && p.Name == req.Principal)
}

// userName names a uid ("alice", or "uid 1000" when it has no name).
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid " + strconv.Itoa(uid)
}

// underDaemon reports whether pid is one of this daemon's descendants (an agent, or what an
// agent started), or carries an agent's process token; why says how it was seen.
func (d *server) underDaemon(pid int) (bool, string) {
	return descendsFromOrTagged(pid, os.Getpid(), process.TokenEnv)
}

// ListApprovals asks the data dir's daemon for the pending approvals; ErrNotRunning when none
// answers.
func ListApprovals(ctx context.Context, c *http.Client) ([]approval.Request, error) {
	var out []approval.Request
	err := socketJSON(ctx, c, http.MethodGet, BaseURL+ApprovalsPath, nil, &out)
	return out, err
}

// Decide asks the data dir's daemon to approve or deny an approval.
func Decide(ctx context.Context, c *http.Client, id string, approve bool) (DecisionAnswer, error) {
	var out DecisionAnswer
	body := DecisionBody{Decision: "deny"}
	if approve {
		body.Decision = "approve"
	}
	err := socketJSON(ctx, c, http.MethodPost, BaseURL+ApprovalsPath+"/"+url.PathEscape(id), body, &out)
	return out, err
}

// socketJSON sends body (when not nil) as JSON and decodes a 200 answer into out; another status
// is an error carrying the daemon's message.
func socketJSON(ctx context.Context, c *http.Client, method, u string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		if IsNotRunning(err) {
			return ErrNotRunning
		}
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			return errors.New(e.Message)
		}
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, out)
}
