package metrics

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/metric"
)

// Health is whether one task does its work, reported by the callback given
// to [Metrics.ObserveHealth].
type Health struct {
	Pipeline string
	Task     int
	// Healthy is true for a task that is RUNNING with no problem: nothing
	// is being retried and its connector waits for nothing. A task that
	// is starting, retrying, waiting or FAILED is not.
	Healthy bool
}

// healthInstruments creates pipectl_task_healthy.
func (m *Metrics) healthInstruments(meter metric.Meter) error {
	var err error
	m.healthy, err = meter.Int64ObservableGauge("pipectl.task.healthy",
		metric.WithDescription("1 while a task is RUNNING with nothing retried and nothing waited for, 0 while it starts, retries, waits or has FAILED."))
	if err != nil {
		return fmt.Errorf("metrics: create instruments: %w", err)
	}
	if _, err := meter.RegisterCallback(m.observeHealth, m.healthy); err != nil {
		return fmt.Errorf("metrics: register health callback: %w", err)
	}
	return nil
}

// ObserveHealth sets the function that reports the health of the
// worker's tasks at each scrape; nil removes it. fn runs on the scraping
// goroutine and must be safe to call concurrently with the worker.
func (m *Metrics) ObserveHealth(fn func() []Health) {
	if m == nil {
		return
	}
	if fn == nil {
		m.healthFn.Store(nil)
		return
	}
	m.healthFn.Store(&fn)
}

func (m *Metrics) observeHealth(_ context.Context, o metric.Observer) error {
	fn := m.healthFn.Load()
	if fn == nil {
		return nil
	}
	for _, h := range (*fn)() {
		v := int64(0)
		if h.Healthy {
			v = 1
		}
		o.ObserveInt64(m.healthy, v, m.Task(h.Pipeline, h.Task).observe...)
	}
	return nil
}
