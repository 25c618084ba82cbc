package engine

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracer makes one span per batch: a source's polled batch, a sink's
// fetched batch, a sink's flush and commit. Without a tracer provider
// (OTEL_EXPORTER_OTLP_ENDPOINT unset) the spans cost next to nothing.
var tracer = otel.Tracer("github.com/pipectl/pipectl/runtime/engine")

// span starts a batch span with the task's attributes.
func (t *task) span(name string, records int) (context.Context, trace.Span) {
	return tracer.Start(context.Background(), name, trace.WithAttributes(
		attribute.String("pipectl.pipeline", t.p.address),
		attribute.Int("pipectl.task", t.a.Task),
		attribute.Int("pipectl.records", records),
	))
}

// endSpan records err, if any, and ends the span.
func endSpan(sp trace.Span, err error) {
	if err != nil {
		sp.RecordError(err)
		sp.SetStatus(codes.Error, err.Error())
	}
	sp.End()
}

// observe reports a batch's duration to TaskArgs.ObserveBatch.
func (t *task) observe(start time.Time) {
	if t.a.ObserveBatch != nil {
		t.a.ObserveBatch(time.Since(start))
	}
}
