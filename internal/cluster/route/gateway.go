package route

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
)

// The names of the gateway's two processes, the same on every node.
const (
	gatewayName  = "troupe-gateway"
	progressName = "troupe-progress"
)

// Handler runs a call that came from another node, on this node: the Router's local side.
type Handler func(ctx context.Context, msg any, timeout time.Duration) (any, error)

// GatewayOptions configure a node's gateway.
type GatewayOptions struct {
	// Node is this node's name (cluster.node), for the answers that name it.
	Node string
	// Advertise is the host:port other nodes reach this gateway on (cluster.advertise); it is
	// also where it listens unless Listen is set.
	Advertise string
	// Listen is the host:port to listen on when it differs from Advertise (behind a NAT); a
	// port 0 picks a free one, which Address then reports.
	Listen string
	// Progress is this node's progress sink (mcpx.Progress.Report): it receives the steps of
	// calls made here and run on another node.
	Progress func(id string, done, total int, message string)
	// Logger receives what the gateway and Proto.Actor's remote do on their own.
	Logger zerolog.Logger
	// Secret, when set, is sent with every call to another gateway and required of every call
	// received (secret.go); the nodes of one cluster share it.
	Secret string
}

// Gateway is a node's door to the others: its own actor system with a Proto.Actor remote,
// the actor "troupe-gateway" that runs the calls other nodes send, and the client side that
// sends this node's calls to theirs.
type Gateway struct {
	opts    GatewayOptions
	sys     *actor.ActorSystem
	remote  *remote.Remote
	addr    string
	log     zerolog.Logger
	handler atomic.Pointer[Handler]
	calls   inflight
	relay   relay
	conns   conns
	sub     *eventstream.Subscription
	stop    sync.Once
}

// maxConnectAttempts is how often Proto.Actor's endpoint writer tries to connect to a node
// before it gives the messages waiting for it back as dead letters. Its default, 5 tries 2 s
// apart (remote/endpoint_writer.go, initialize), holds every call to a stopped node for 8 s;
// with one, such a call is answered at once that nothing was done, and the next call tries
// again.
const maxConnectAttempts = 1

// connectTimeout bounds one attempt to connect to a node, instead of gRPC's 20 s: a node whose
// host is gone (no refusal, only silence) is reported after it, plus the 2 s the endpoint
// writer waits after a failed attempt.
const connectTimeout = 3 * time.Second

// StartGateway starts the gateway: it listens at once, and answers calls that they cannot run
// yet until Serve gives it a Handler. Start it before the actors (its Report is their progress
// sink) and before joining the cluster: Proto.Actor's Remote.Start sets gRPC's process-wide
// logger (remote/server.go, Start: grpclog.SetLoggerV2), which every gRPC connection reads
// without a lock, etcd's client among them; so in one process, start every gateway before any
// other gRPC code runs.
func StartGateway(o GatewayOptions) (*Gateway, error) {
	listen := o.Listen
	if listen == "" {
		listen = o.Advertise
	}
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("route: gateway address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("route: gateway address %q: the port is not a number", listen)
	}
	// Remote.Start panics when it cannot listen: try first, so that a port in use is an
	// error (startRemote still recovers, should the port be taken in between).
	if port != 0 {
		lis, err := net.Listen("tcp", listen)
		if err != nil {
			return nil, fmt.Errorf("route: the gateway cannot listen on %s: %w", listen, err)
		}
		_ = lis.Close()
	}
	g := &Gateway{opts: o, log: o.Logger.With().Str("component", "gateway").Logger()}
	g.relay.m = map[string]relayTo{}
	g.conns.m = map[string]connState{}
	g.sys = actor.NewActorSystemWithConfig(actor.Configure(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
			return slog.New(zerolog.NewSlogHandler(g.log.With().Str("lib", "protoactor").Logger()))
		}),
		actor.WithDeadLetterRequestLogging(false),
	))
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()), // the remote's default, grpc.WithInsecure, spelled as gRPC now wants
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: connectTimeout}),
	}
	opts := []remote.ConfigOption{}
	if o.Secret != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(secretCreds(o.Secret)))
		opts = append(opts, remote.WithServerOptions(secretServerOptions(o.Secret)...))
	}
	opts = append(opts, remote.WithDialOptions(dial...))
	if o.Listen != "" && o.Advertise != "" {
		opts = append(opts, remote.WithAdvertisedHost(o.Advertise))
	}
	cfg := remote.Configure(host, port, opts...)
	cfg.MaxRetryCount = maxConnectAttempts
	g.remote = remote.NewRemote(g.sys, cfg)
	if err := startRemote(g.remote); err != nil {
		g.sys.Shutdown()
		return nil, fmt.Errorf("route: start the gateway on %s: %w", listen, err)
	}
	// After Start, so that conns.event runs after the remote's own handler of each endpoint
	// event (Stop relies on it).
	g.sub = g.sys.EventStream.Subscribe(g.conns.event)
	g.addr = g.sys.Address()
	g.sys.ProcessRegistry.Add(progressSink{g}, progressName)
	if _, err := g.sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &gatewayActor{g} }), gatewayName); err != nil {
		g.Stop(context.Background())
		return nil, fmt.Errorf("route: spawn the gateway actor: %w", err)
	}
	return g, nil
}

// startRemote starts r, turning the panic with which Remote.Start reports an address it cannot
// listen on (remote/server.go, Start: panic(fmt.Errorf("failed to listen: %v", err))) into an
// error. Nothing else runs yet when it panics.
func startRemote(r *remote.Remote) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	r.Start()
	return nil
}

// Address is where other nodes reach this gateway: the advertised address, or the one it
// listens on.
func (g *Gateway) Address() string { return g.addr }

// Serve makes the gateway run the calls of other nodes with h (the Router does this); nil
// makes it answer them that this node is not ready.
func (g *Gateway) Serve(h Handler) {
	if h == nil {
		g.handler.Store(nil)
		return
	}
	g.handler.Store(&h)
}

// Stop refuses new calls, waits for those running to answer (until ctx ends), then stops the
// remote and the actor system. Calls still running then are answered by no one: their
// callers time out. Later calls do nothing.
func (g *Gateway) Stop(ctx context.Context) {
	g.stop.Do(func() { g.shutdown(ctx) })
}

func (g *Gateway) shutdown(ctx context.Context) {
	if !g.calls.stop(ctx) {
		g.log.Warn().Msg("gateway: stopping with calls still running")
	}
	g.conns.quiesce()
	// Shutdown can panic: it sends on the channel of each endpoint reader, which a reader
	// whose stream just ended has closed (remote/endpoint_manager.go stop, endpoint_reader.go
	// Receive). The server is stopped either way.
	func() {
		defer func() {
			if p := recover(); p != nil {
				g.log.Warn().Interface("panic", p).Msg("gateway: remote shutdown")
			}
		}()
		g.remote.Shutdown(true)
	}()
	_ = g.sys.Root.StopFuture(actor.NewPID(g.sys.Address(), gatewayName)).Wait()
	g.sys.ProcessRegistry.Remove(actor.NewPID(g.sys.Address(), progressName))
	g.sys.EventStream.Unsubscribe(g.sub)
	g.sys.Shutdown()
}

// inflight counts the calls the gateway runs, so that Stop can wait for them.
type inflight struct {
	mu       sync.Mutex
	n        int
	stopping bool
	idle     chan struct{} // closed when n drops to 0 while stopping
}

// begin counts a call in; false once stopping.
func (f *inflight) begin() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopping {
		return false
	}
	f.n++
	return true
}

func (f *inflight) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
}

// stop refuses new calls and waits until none runs or ctx ends; it reports whether none runs.
func (f *inflight) stop(ctx context.Context) bool {
	f.mu.Lock()
	f.stopping = true
	if f.n == 0 {
		f.mu.Unlock()
		return true
	}
	idle := make(chan struct{})
	f.idle = idle
	f.mu.Unlock()
	select {
	case <-idle:
		return true
	case <-ctx.Done():
		return false
	}
}
