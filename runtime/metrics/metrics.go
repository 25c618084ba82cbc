package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/resource"
)

// scopeName is the instrumentation scope of every instrument.
const scopeName = "github.com/pipectl/pipectl/runtime/metrics"

// Attribute keys, which become Prometheus label names.
const (
	attrPipeline  = "pipeline"
	attrTask      = "task"
	attrPartition = "partition"
)

// batchBuckets are the bucket bounds of pipectl_batch_seconds, from half a
// millisecond to ten seconds (OpenTelemetry's defaults are meant for
// milliseconds).
var batchBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Options says who the worker is; it appears in target_info.
type Options struct {
	WorkerID string // service.instance.id
	Version  string // service.version; empty leaves it out
}

// Lag is the consumer lag of one task, reported by the callback given to
// [Metrics.ObserveLag].
type Lag struct {
	Pipeline string // pipeline address, e.g. sink.file.orders_out
	Task     int
	Records  int64 // records between the committed position and the end of the log, summed over partitions
}

// SourceLag is how far one source partition of a task is behind the
// outside system, reported by the callback given to
// [Metrics.ObserveSourceLag].
type SourceLag struct {
	Pipeline  string // pipeline address, e.g. source.kafka.mirror
	Task      int
	Partition string        // the source partition, compact: "orders/0", "file=/var/log/app.log"
	Records   int64         // records the outside system holds past the last one polled
	Latency   time.Duration // age of the last record polled when it was polled; 0 when caught up
}

// Metrics holds a worker's instruments and the registry that exposes them.
// Build it with [New] and release it with [Metrics.Shutdown].
type Metrics struct {
	provider *sdkmetric.MeterProvider
	registry *prometheus.Registry
	handler  http.Handler

	in, out, filtered, failed metric.Int64ObservableCounter
	dropped                   metric.Int64ObservableCounter
	batch                     metric.Float64Histogram
	lag                       metric.Int64ObservableGauge

	lagFn atomic.Pointer[func() []Lag]

	srcLag     metric.Int64ObservableGauge
	srcLatency metric.Float64ObservableGauge
	srcLagFn   atomic.Pointer[func() []SourceLag]

	healthy  metric.Int64ObservableGauge // health.go
	healthFn atomic.Pointer[func() []Health]

	mu    sync.Mutex
	tasks map[taskKey]*TaskMetrics
}

type taskKey struct {
	pipeline string
	task     int
}

// New builds the MeterProvider, the Prometheus exporter on a fresh registry,
// and the instruments.
func New(opts Options) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("metrics: register Go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("metrics: register process collector: %w", err)
	}
	exp, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		return nil, fmt.Errorf("metrics: prometheus exporter: %w", err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", "pipectl")}
	if opts.WorkerID != "" {
		attrs = append(attrs, attribute.String("service.instance.id", opts.WorkerID))
	}
	if opts.Version != "" {
		attrs = append(attrs, attribute.String("service.version", opts.Version))
	}
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exp),
		sdkmetric.WithResource(resource.NewSchemaless(attrs...)),
		// No traces feed exemplars here; turning them off keeps Record cheap.
		sdkmetric.WithExemplarFilter(exemplar.AlwaysOffFilter),
	)
	m := &Metrics{
		provider: provider,
		registry: reg,
		handler:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		tasks:    map[taskKey]*TaskMetrics{},
	}
	if err := errors.Join(m.instruments(provider.Meter(scopeName)), m.healthInstruments(provider.Meter(scopeName))); err != nil {
		return nil, errors.Join(err, provider.Shutdown(context.Background()))
	}
	return m, nil
}

// instruments creates every instrument on meter. OpenTelemetry names are
// dotted; the exporter turns them into the Prometheus names in the package
// documentation (adding _total to counters and _seconds for unit "s").
//
// The record counters are observable: a task adds to atomic integers of its
// own and the collection reads them, which keeps the hot path to one atomic
// add (a synchronous OpenTelemetry counter costs a hashed attribute lookup
// per Add). The batch histogram has no observable form and is synchronous.
func (m *Metrics) instruments(meter metric.Meter) error {
	var errs []error
	counter := func(name, desc string) metric.Int64ObservableCounter {
		c, err := meter.Int64ObservableCounter(name, metric.WithDescription(desc), metric.WithUnit("{record}"))
		errs = append(errs, err)
		return c
	}
	m.in = counter("pipectl.records.in", "Records a task read from its source system or topics.")
	m.out = counter("pipectl.records.out", "Records a task delivered to Kafka or to its sink system.")
	m.filtered = counter("pipectl.records.filtered", "Records a transform filter dropped.")
	m.failed = counter("pipectl.records.failed", "Records that failed: sent to the dead-letter topic or failing the task.")
	m.dropped = counter("pipectl.records.dropped", "Records a source lost before it handed them over because the pipeline could not keep up (a UDP listener's full queue).")
	var err error
	m.batch, err = meter.Float64Histogram("pipectl.batch",
		metric.WithDescription("Time a task took to process one batch of records."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(batchBuckets...))
	errs = append(errs, err)
	m.lag, err = meter.Int64ObservableGauge("pipectl.consumer.lag",
		metric.WithDescription("Records between a sink task's committed position and the end of its topics."),
		metric.WithUnit("{record}"))
	errs = append(errs, err)
	m.srcLag, err = meter.Int64ObservableGauge("pipectl.source.lag",
		metric.WithDescription("Records the outside system holds past the last one a source task polled, by source partition."),
		metric.WithUnit("{record}"))
	errs = append(errs, err)
	m.srcLatency, err = meter.Float64ObservableGauge("pipectl.source.latency",
		metric.WithDescription("Age of the last record a source task polled, when it polled it, by source partition; 0 when caught up."),
		metric.WithUnit("s"))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("metrics: create instruments: %w", err)
	}
	if _, err := meter.RegisterCallback(m.observeCounters, m.in, m.out, m.filtered, m.failed, m.dropped); err != nil {
		return fmt.Errorf("metrics: register counter callback: %w", err)
	}
	if _, err := meter.RegisterCallback(m.observeLag, m.lag); err != nil {
		return fmt.Errorf("metrics: register lag callback: %w", err)
	}
	if _, err := meter.RegisterCallback(m.observeSourceLag, m.srcLag, m.srcLatency); err != nil {
		return fmt.Errorf("metrics: register source lag callback: %w", err)
	}
	return nil
}

// observeCounters reports the counters of every task that [Metrics.Task]
// has returned, zeros included, so that a series exists from the task's
// start (rate() then sees its first records).
func (m *Metrics) observeCounters(_ context.Context, o metric.Observer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tasks {
		for _, c := range []struct {
			inst metric.Int64ObservableCounter
			n    *atomic.Int64
		}{{m.in, &t.in}, {m.out, &t.out}, {m.filtered, &t.filtered}, {m.failed, &t.failed}, {m.dropped, &t.dropped}} {
			o.ObserveInt64(c.inst, c.n.Load(), t.observe...)
		}
	}
	return nil
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// Registry is the Prometheus registry the metrics are exposed on, for a
// caller that adds collectors of its own.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.registry
}

// Shutdown stops the MeterProvider; the handler then serves no pipectl
// instruments.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if m == nil {
		return nil
	}
	return m.provider.Shutdown(ctx)
}

// ObserveLag sets the function that reports consumer lag at each scrape; a
// later call replaces the earlier function and nil removes it. fn runs on
// the scraping goroutine and must be safe to call concurrently with the
// worker.
func (m *Metrics) ObserveLag(fn func() []Lag) {
	if m == nil {
		return
	}
	if fn == nil {
		m.lagFn.Store(nil)
		return
	}
	m.lagFn.Store(&fn)
}

func (m *Metrics) observeLag(_ context.Context, o metric.Observer) error {
	fn := m.lagFn.Load()
	if fn == nil {
		return nil
	}
	for _, l := range (*fn)() {
		o.ObserveInt64(m.lag, l.Records, m.Task(l.Pipeline, l.Task).observe...)
	}
	return nil
}

// ObserveSourceLag sets the function that reports the lag of source
// partitions at each scrape; a later call replaces the earlier function
// and nil removes it. fn runs on the scraping goroutine and must be safe
// to call concurrently with the worker.
func (m *Metrics) ObserveSourceLag(fn func() []SourceLag) {
	if m == nil {
		return
	}
	if fn == nil {
		m.srcLagFn.Store(nil)
		return
	}
	m.srcLagFn.Store(&fn)
}

// observeSourceLag builds an attribute set per source partition at each
// scrape: the partitions come and go with the tasks, and a scrape is
// seconds apart, so nothing is kept.
func (m *Metrics) observeSourceLag(_ context.Context, o metric.Observer) error {
	fn := m.srcLagFn.Load()
	if fn == nil {
		return nil
	}
	for _, l := range (*fn)() {
		set := metric.WithAttributeSet(attribute.NewSet(attribute.String(attrPipeline, l.Pipeline),
			attribute.Int(attrTask, l.Task), attribute.String(attrPartition, l.Partition)))
		o.ObserveInt64(m.srcLag, l.Records, set)
		o.ObserveFloat64(m.srcLatency, l.Latency.Seconds(), set)
	}
	return nil
}

// Task returns the instruments of one task of a pipeline, with its attribute
// set built once. Calls with the same pipeline and task return the same
// value; a task engine calls it when the task starts and keeps the result.
func (m *Metrics) Task(pipeline string, task int) *TaskMetrics {
	if m == nil {
		return nil
	}
	k := taskKey{pipeline, task}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tasks[k]; ok {
		return t
	}
	set := attribute.NewSet(attribute.String(attrPipeline, pipeline), attribute.Int(attrTask, task))
	t := &TaskMetrics{
		m:       m,
		record:  []metric.RecordOption{metric.WithAttributeSet(set)},
		observe: []metric.ObserveOption{metric.WithAttributeSet(set)},
	}
	m.tasks[k] = t
	return t
}

// TaskMetrics records the measurements of one task. Its methods are safe for
// concurrent use, do not allocate, and do nothing on a nil receiver.
type TaskMetrics struct {
	in, out, filtered, failed atomic.Int64
	dropped                   atomic.Int64

	m       *Metrics
	record  []metric.RecordOption
	observe []metric.ObserveOption
}

// AddIn counts n records read by the task.
func (t *TaskMetrics) AddIn(n int64) {
	if t != nil {
		t.in.Add(n)
	}
}

// AddOut counts n records delivered by the task.
func (t *TaskMetrics) AddOut(n int64) {
	if t != nil {
		t.out.Add(n)
	}
}

// AddFiltered counts n records dropped by a filter. Filtered records are not
// failures.
func (t *TaskMetrics) AddFiltered(n int64) {
	if t != nil {
		t.filtered.Add(n)
	}
}

// AddFailed counts n records that failed, whether tolerated (sent to the
// dead-letter topic) or not.
func (t *TaskMetrics) AddFailed(n int64) {
	if t != nil {
		t.failed.Add(n)
	}
}

// AddDropped counts n records a source lost before it handed them over.
func (t *TaskMetrics) AddDropped(n int64) {
	if t != nil {
		t.dropped.Add(n)
	}
}

// ObserveBatch records how long one batch took.
func (t *TaskMetrics) ObserveBatch(d time.Duration) {
	if t != nil {
		t.m.batch.Record(context.Background(), d.Seconds(), t.record...)
	}
}
