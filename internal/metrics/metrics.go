// Package metrics is what `tocsin serve` and `tocsin worker` show on
// /metrics (Prometheus): the Temporal SDK's own metrics, and Tocsin's sends
// by channel and outcome with the providers' latency. Labels never carry a
// person's contact or name: channels, outcomes, incident IDs and duty names.
package metrics

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	sdkclient "go.temporal.io/sdk/client"
)

// Set is one process's metrics.
type Set struct {
	registry *prometheus.Registry
	// Sends counts each send to a provider by channel and outcome
	// (accepted, refused, not_sent, rate_limited, in_doubt).
	Sends *prometheus.CounterVec
	// ProviderSeconds is how long the provider took to answer a send.
	ProviderSeconds *prometheus.HistogramVec

	mu  sync.Mutex
	sdk map[string]any // SDK metric name -> its vector
}

// New makes a process's metrics, with the Go runtime's and the process's.
func New() *Set {
	s := &Set{registry: prometheus.NewRegistry(), sdk: map[string]any{}}
	s.Sends = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tocsin_sends_total", Help: "Sends to a provider, by channel and outcome."}, []string{"channel", "outcome"})
	s.ProviderSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tocsin_provider_seconds", Help: "Time a provider took to answer one send.",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60}}, []string{"channel"})
	s.registry.MustRegister(s.Sends, s.ProviderSeconds, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return s
}

// Register adds a collector (the API's incident gauges).
func (s *Set) Register(c prometheus.Collector) error { return s.registry.Register(c) }

// Handler serves the metrics in Prometheus' text format.
func (s *Set) Handler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry})
}

// Send records one send's outcome and the provider's time.
func (s *Set) Send(channel, outcome string, took time.Duration) {
	if s == nil {
		return
	}
	s.Sends.WithLabelValues(channel, outcome).Inc()
	s.ProviderSeconds.WithLabelValues(channel).Observe(took.Seconds())
}

// sdkLabels are the tags the Go SDK puts on its metrics: every SDK metric
// carries all of them (empty when a tag is not set), since Prometheus wants
// one label set per metric name. Other tags are dropped.
var sdkLabels = []string{"namespace", "task_queue", "worker_type", "workflow_type", "activity_type", "poller_type", "operation", "status_code", "failure_reason", "cause", "client_name"}

// Temporal is the SDK's metrics handler (client.Options.MetricsHandler).
func (s *Set) Temporal() sdkclient.MetricsHandler { return sdkHandler{set: s} }

type sdkHandler struct {
	set  *Set
	tags map[string]string
}

func (h sdkHandler) WithTags(tags map[string]string) sdkclient.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return sdkHandler{set: h.set, tags: merged}
}

func (h sdkHandler) values() []string {
	out := make([]string, len(sdkLabels))
	for i, l := range sdkLabels {
		out[i] = h.tags[l]
	}
	return out
}

// vec finds or makes the vector of one SDK metric.
func (h sdkHandler) vec(name string, make func(name string) prometheus.Collector) any {
	h.set.mu.Lock()
	defer h.set.mu.Unlock()
	if v, ok := h.set.sdk[name]; ok {
		return v
	}
	c := make(promName(name))
	if err := h.set.registry.Register(c); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			c = are.ExistingCollector
		}
	}
	h.set.sdk[name] = c
	return c
}

func (h sdkHandler) Counter(name string) sdkclient.MetricsCounter {
	v, ok := h.vec(name, func(n string) prometheus.Collector {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: n + "_total", Help: "Temporal SDK counter " + name + "."}, sdkLabels)
	}).(*prometheus.CounterVec)
	if !ok {
		return sdkclient.MetricsNopHandler.Counter(name)
	}
	c := v.WithLabelValues(h.values()...)
	return counterFunc(func(d int64) { c.Add(float64(d)) })
}

func (h sdkHandler) Gauge(name string) sdkclient.MetricsGauge {
	v, ok := h.vec(name, func(n string) prometheus.Collector {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: n, Help: "Temporal SDK gauge " + name + "."}, sdkLabels)
	}).(*prometheus.GaugeVec)
	if !ok {
		return sdkclient.MetricsNopHandler.Gauge(name)
	}
	g := v.WithLabelValues(h.values()...)
	return gaugeFunc(g.Set)
}

func (h sdkHandler) Timer(name string) sdkclient.MetricsTimer {
	v, ok := h.vec(name, func(n string) prometheus.Collector {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: strings.TrimSuffix(n, "_latency") + "_latency_seconds", Help: "Temporal SDK timer " + name + ".",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, sdkLabels)
	}).(*prometheus.HistogramVec)
	if !ok {
		return sdkclient.MetricsNopHandler.Timer(name)
	}
	o := v.WithLabelValues(h.values()...)
	return timerFunc(func(d time.Duration) { o.Observe(d.Seconds()) })
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// promName makes an SDK metric name a valid Prometheus one.
func promName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == ':' {
			return r
		}
		return '_'
	}, name)
}

// Gauges is a collector whose values are read when Prometheus scrapes, by
// a function that says what is true now (open duties' time left, a
// campaign's ETA): nothing is left behind once an incident closes.
type Gauges struct {
	Descs map[string]*Desc
	Read  func(emit func(name string, value float64, labels ...string))
}

// Desc describes one gauge.
type Desc = prometheus.Desc

// NewGauge describes one gauge of a Gauges.
func NewGauge(name, help string, labels ...string) *Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

func (g *Gauges) Describe(ch chan<- *prometheus.Desc) {
	names := make([]string, 0, len(g.Descs))
	for n := range g.Descs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ch <- g.Descs[n]
	}
}

func (g *Gauges) Collect(ch chan<- prometheus.Metric) {
	g.Read(func(name string, value float64, labels ...string) {
		if d, ok := g.Descs[name]; ok {
			if m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, value, labels...); err == nil {
				ch <- m
			}
		}
	})
}
