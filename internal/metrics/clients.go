package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

var clientsDesc = prometheus.NewDesc("troupe_daemon_clients", "Clients connected to the daemon now.", nil, nil)

// clientsCollector reports the count SetClients gave it a way to read; nothing before that.
type clientsCollector struct {
	count atomic.Pointer[func() int]
}

// SetClients makes troupe_daemon_clients report count() at every scrape; until it is called
// (a server without a daemon) the metric is absent. The daemon's client count is known only
// once the daemon serves, after the metrics are built: hence a setter rather than an Option.
func (m *Metrics) SetClients(count func() int) {
	if count == nil {
		m.clients.count.Store(nil)
		return
	}
	m.clients.count.Store(&count)
}

// Describe implements prometheus.Collector.
func (c *clientsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- clientsDesc }

// Collect implements prometheus.Collector.
func (c *clientsCollector) Collect(ch chan<- prometheus.Metric) {
	if fn := c.count.Load(); fn != nil {
		ch <- prometheus.MustNewConstMetric(clientsDesc, prometheus.GaugeValue, float64((*fn)()))
	}
}
