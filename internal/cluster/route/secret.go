package route

import (
	"context"
	"crypto/subtle"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The cluster's shared secret (GatewayOptions.Secret): every gRPC call between gateways carries
// it, and a gateway refuses a call without it before anything runs (a port reachable over the
// network checks who is asking first). It authenticates nodes, it does not encrypt: on an
// untrusted network the remote needs TLS too.

const secretHeader = "troupe-cluster-secret"

// secretCreds attaches the secret to every call this gateway makes.
type secretCreds string

func (s secretCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{secretHeader: string(s)}, nil
}

func (secretCreds) RequireTransportSecurity() bool { return false }

// checkSecret refuses a call whose metadata lacks the secret.
func checkSecret(ctx context.Context, secret string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get(secretHeader) {
		if subtle.ConstantTimeCompare([]byte(v), []byte(secret)) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "troupe cluster: this call does not carry the cluster's secret (blob_dir/cluster.secret)")
}

// secretServerOptions are the interceptors that check the secret on every call.
func secretServerOptions(secret string) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := checkSecret(ctx, secret); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := checkSecret(ss.Context(), secret); err != nil {
				return err
			}
			return h(srv, ss)
		}),
	}
}
