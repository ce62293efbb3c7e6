package main

import "github.com/spf13/cobra"

// netFlags are `troupe daemon`'s TCP listener flags (DESIGN §12).
type netFlags struct {
	listen, tlsCert, tlsKey, metricsListen string
	allowInsecureHTTP, noAuth              bool
}

func (f *netFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "", "also serve MCP over TCP at HOST:PORT (e.g. 127.0.0.1:7700; port 0 picks one): /mcp with a bearer token, /healthz, /metrics")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve --listen over HTTPS with this certificate (PEM; with --tls-key)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the private key (PEM) of --tls-cert")
	fl.BoolVar(&f.allowInsecureHTTP, "allow-insecure-http", false, "accept a non-loopback --listen without TLS: only behind a TLS-terminating proxy")
	fl.BoolVar(&f.noAuth, "no-auth", false, "every --listen client is the admin principal local, no token needed (loopback --listen only; Host/Origin still checked)")
	fl.StringVar(&f.metricsListen, "metrics-listen", "", "serve only /metrics, without auth, at this loopback HOST:PORT (for a local scraper)")
}
