package otelsharpapi

import (
	"testing"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/observe"
	"github.com/sharpapi-go/sharpapi/otelsharpapi/internal/benchcycle"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// BenchmarkJob times one dispatch and webhook-awaited wait, in memory and
// over loopback TCP (see internal/benchcycle), with no observer (off: the core's default, a
// nil check), with otelsharpapi on OpenTelemetry's no-op providers (what a
// program gets that sets up no SDK), and with the real SDK recording every
// span (AlwaysSample) and metric, exporting nothing. compare.sh in
// internal/benchcycle also times the core before the seam and prints the
// ratios.
func BenchmarkJob(b *testing.B) {
	for _, c := range []struct {
		name string
		new  func(testing.TB, []sharpapi.Option, []sharpapi.WebhookOption) func()
	}{{"memory", benchcycle.New}, {"loopback", benchcycle.NewLoopback}} {
		b.Run(c.name, func(b *testing.B) { benchmarkJob(b, c.new) })
	}
}

func benchmarkJob(b *testing.B, newCycle func(testing.TB, []sharpapi.Option, []sharpapi.WebhookOption) func()) {
	b.Run("off", func(b *testing.B) { runCycle(b, newCycle, nil) })
	b.Run("noop", func(b *testing.B) {
		runCycle(b, newCycle, New(WithTracerProvider(tracenoop.NewTracerProvider()), WithMeterProvider(metricnoop.NewMeterProvider())))
	})
	b.Run("sdk", func(b *testing.B) {
		runCycle(b, newCycle, New(WithTracerProvider(sdkTracer(b)), WithMeterProvider(sdkMeter(b))))
	})
}

// BenchmarkJobRecording splits BenchmarkJob/memory/sdk in two: the SDK
// recording the spans with metrics on the no-op provider, and aggregating
// the metrics with spans on the no-op provider, to show what each costs
// (benchmarks/RESULTS.md).
func BenchmarkJobRecording(b *testing.B) {
	b.Run("spans", func(b *testing.B) {
		runCycle(b, benchcycle.New, New(WithTracerProvider(sdkTracer(b)), WithMeterProvider(metricnoop.NewMeterProvider())))
	})
	b.Run("metrics", func(b *testing.B) {
		runCycle(b, benchcycle.New, New(WithTracerProvider(tracenoop.NewTracerProvider()), WithMeterProvider(sdkMeter(b))))
	})
}

// runCycle times a job's cycle with obs observing the client and the
// handler (nil: none).
func runCycle(b *testing.B, newCycle func(testing.TB, []sharpapi.Option, []sharpapi.WebhookOption) func(), obs observe.Provider) {
	var (
		co []sharpapi.Option
		ho []sharpapi.WebhookOption
	)
	if obs != nil {
		co, ho = []sharpapi.Option{sharpapi.WithObserver(obs)}, []sharpapi.WebhookOption{sharpapi.WithObserver(obs)}
	}
	cycle := newCycle(b, co, ho)
	b.ReportAllocs()
	for b.Loop() {
		cycle()
	}
}

// sdkTracer is the SDK's tracer provider sampling and recording every
// span, exporting none.
func sdkTracer(b *testing.B) *sdktrace.TracerProvider {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() { tp.Shutdown(b.Context()) })
	return tp
}

// sdkMeter is the SDK's meter provider aggregating every metric for a
// reader that never collects.
func sdkMeter(b *testing.B) *sdkmetric.MeterProvider {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { mp.Shutdown(b.Context()) })
	return mp
}
