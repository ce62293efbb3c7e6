package cluster

import (
	"errors"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/troupe-dev/troupe/internal/store"
)

var (
	// ErrFenced says that this node's membership ended (its lease could not be renewed in time,
	// or it left): it must not write again; joining again makes a new member with a new lease.
	ErrFenced error = storeUnavailable("this node is fenced off the cluster")
	// ErrAlreadyOwned says that a claimed session already has an owner (see AlreadyOwnedError).
	ErrAlreadyOwned = errors.New("the session is already owned")
	// ErrNotOwner says that a fenced write was refused: this node's current lease does not own
	// the session (see NotOwnerError).
	ErrNotOwner = errors.New("this node does not own the session")
	// ErrNoOwner says that a session has no owner key.
	ErrNoOwner = errors.New("the session has no owner")
	// ErrUnavailable says that etcd could not be reached in time (see UnavailableError).
	ErrUnavailable = errors.New("etcd is unreachable")
	// ErrNodeTaken says that a live member already uses this node name.
	ErrNodeTaken = errors.New("the node name is in use by a live member")
	// ErrNoLiveNode says that no node could take a session.
	ErrNoLiveNode = errors.New("no live node can take the session")
	// ErrInvalidID says that a session id does not follow troupe's id rule.
	ErrInvalidID = errors.New("invalid session id")
	// ErrAuditHeadChanged says that a node's published audit head was rewritten by someone other
	// than its publisher: the publisher stops rather than overwrite the evidence.
	ErrAuditHeadChanged = errors.New("the published audit head was changed by someone else")
	// errConflict says that a record changed between its read and a fenced write (retried).
	errConflict = errors.New("the record changed meanwhile")
)

// AlreadyOwnedError is a claim's answer when another claim won.
type AlreadyOwnedError struct {
	SessionID, Owner string
}

func (e *AlreadyOwnedError) Error() string {
	return fmt.Sprintf("session %q is already owned by node %q", e.SessionID, e.Owner)
}

// Is makes errors.Is(err, ErrAlreadyOwned) hold.
func (e *AlreadyOwnedError) Is(target error) bool { return target == ErrAlreadyOwned }

// NotOwnerError is a refused fenced write: who owns the session instead, if anyone.
type NotOwnerError struct {
	SessionID, Node string
	Lease           clientv3.LeaseID
	// Owner is the owning node ("" when there is none); OwnerLease its lease.
	Owner      string
	OwnerLease clientv3.LeaseID
}

func (e *NotOwnerError) Error() string {
	head := fmt.Sprintf("refused to write session %q from node %q: nothing was written: ", e.SessionID, e.Node)
	switch {
	case e.Owner == "":
		return head + "the session has no owner; claim it first"
	case e.Owner != e.Node:
		return head + fmt.Sprintf("it is owned by node %q", e.Owner)
	default:
		return head + fmt.Sprintf("it is owned by this node's earlier lease %x, not the current %x; claim it again once that lease expires", int64(e.OwnerLease), int64(e.Lease))
	}
}

// Is makes errors.Is(err, ErrNotOwner) hold.
func (e *NotOwnerError) Is(target error) bool {
	return target == ErrNotOwner || target == store.ErrUnavailable
}

// UnavailableError is a request that etcd did not answer in time. Sent tells whether it may
// have reached etcd: a write that was never sent wrote nothing.
type UnavailableError struct {
	Op        string
	Endpoints []string
	Write     bool
	Sent      bool
	Err       error
}

func (e *UnavailableError) Error() string {
	at := strings.Join(e.Endpoints, ", ")
	switch {
	case e.Write && !e.Sent:
		return fmt.Sprintf("%s: etcd is unreachable at %s (%v): nothing was written; check that etcd is up and reachable from this node", e.Op, at, e.Err)
	case e.Write:
		return fmt.Sprintf("%s: etcd at %s did not answer in time (%v): the change may or may not have been made; read it back before retrying", e.Op, at, e.Err)
	default:
		return fmt.Sprintf("%s: etcd is unreachable at %s (%v); check that etcd is up and reachable from this node", e.Op, at, e.Err)
	}
}

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) hold.
func (e *UnavailableError) Is(target error) bool {
	return target == ErrUnavailable || target == store.ErrUnavailable
}

// storeUnavailable is a sentinel that is also store.ErrUnavailable (callers outside the cluster
// package answer it as unavailable).
type storeUnavailable string

func (e storeUnavailable) Error() string        { return string(e) }
func (e storeUnavailable) Is(target error) bool { return target == store.ErrUnavailable }
