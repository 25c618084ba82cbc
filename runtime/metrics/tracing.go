package metrics

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// SetupTracing installs an OTLP/HTTP trace exporter as the global tracer
// provider when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (the exporter reads the other
// OTEL_EXPORTER_OTLP_* variables itself). It returns a shutdown function
// that flushes the spans; without an endpoint it installs nothing and the
// shutdown does nothing.
func SetupTracing(ctx context.Context, lookupEnv func(string) (string, bool), workerID, version string) (func(context.Context) error, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	_, a := lookupEnv("OTEL_EXPORTER_OTLP_ENDPOINT")
	_, b := lookupEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if !a && !b {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", "pipectl"),
		attribute.String("service.version", version),
		attribute.String("service.instance.id", workerID),
	)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}
