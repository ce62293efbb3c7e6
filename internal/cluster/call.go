package cluster

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

// call runs one etcd request within the member's request timeout. It first waits (within the
// same timeout) for a connection to etcd: when none comes, the request was never sent, and the
// error says that nothing was written. A request sent but not answered in time is reported as
// such: its outcome is unknown.
func (m *Member) call(ctx context.Context, op string, write bool, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.RequestTimeout)
	defer cancel()
	if err := waitReady(ctx, m.cli.ActiveConnection()); err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return &UnavailableError{Op: op, Endpoints: m.cli.Endpoints(), Write: write, Err: err}
	}
	err := fn(ctx)
	if err != nil && unanswered(err) {
		return &UnavailableError{Op: op, Endpoints: m.cli.Endpoints(), Write: write, Sent: true, Err: err}
	}
	return err
}

// waitReady waits for conn to be ready, or for ctx to end.
func waitReady(ctx context.Context, conn *grpc.ClientConn) error {
	for {
		s := conn.GetState()
		switch s {
		case connectivity.Ready:
			return nil
		case connectivity.Idle:
			conn.Connect()
		case connectivity.Shutdown:
			return errors.New("the etcd client is closed")
		}
		if !conn.WaitForStateChange(ctx, s) {
			if ctx.Err() == context.Canceled {
				return ctx.Err()
			}
			return fmt.Errorf("no connection within the request timeout (last state %s)", s)
		}
	}
}

// unanswered reports whether err means that etcd did not answer, rather than that it refused.
func unanswered(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}

// get reads key (with opts: a prefix, a range) within the request timeout.
func (m *Member) get(ctx context.Context, op, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	var resp *clientv3.GetResponse
	err := m.call(ctx, op, false, func(ctx context.Context) (err error) {
		resp, err = m.cli.Get(ctx, key, opts...)
		return err
	})
	return resp, err
}
