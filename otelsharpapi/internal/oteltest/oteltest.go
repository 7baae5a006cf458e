// Package oteltest holds the otelsharpapi tests' view of a real
// OpenTelemetry SDK: a span recorder and a manual metric reader, and the
// queries the tests make of them. It is shared by the module's own tests and
// by the test-only module internal/e2e (tests across replicas over Redis).
package oteltest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// SDK is a real tracer and meter provider whose spans and metrics a test
// reads.
type SDK struct {
	SR     *tracetest.SpanRecorder
	Reader *sdkmetric.ManualReader
	TP     *sdktrace.TracerProvider
	MP     *sdkmetric.MeterProvider
}

// New returns an SDK that is shut down when t ends.
func New(t testing.TB) *SDK {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	return &SDK{SR: sr, Reader: reader, TP: tp, MP: mp}
}

// Spans returns the ended spans named name.
func Spans(sr *tracetest.SpanRecorder, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range sr.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// JobSpan returns the one ended job span with the given id.
func JobSpan(t testing.TB, sr *tracetest.SpanRecorder, id string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range sr.Ended() {
		if strings.HasPrefix(s.Name(), "sharpapi.job") && Attrs(s)["sharpapi.job.id"] == id {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d ended job spans for job %s, want 1", len(found), id)
	}
	return found[0]
}

// Children returns the ended spans whose parent is p, by name.
func Children(sr *tracetest.SpanRecorder, p sdktrace.ReadOnlySpan) map[string][]sdktrace.ReadOnlySpan {
	out := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range sr.Ended() {
		if s.Parent().SpanID() == p.SpanContext().SpanID() && s.Parent().TraceID() == p.SpanContext().TraceID() {
			out[s.Name()] = append(out[s.Name()], s)
		}
	}
	return out
}

// Attrs renders a span's attributes as strings, by key.
func Attrs(s sdktrace.ReadOnlySpan) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// Events returns the names of a span's events.
func Events(s sdktrace.ReadOnlySpan) []string {
	var names []string
	for _, e := range s.Events() {
		names = append(names, e.Name)
	}
	return names
}

// LinksTo reports whether s links to the span context sc.
func LinksTo(s sdktrace.ReadOnlySpan, sc trace.SpanContext) bool {
	for _, l := range s.Links() {
		if l.SpanContext.TraceID() == sc.TraceID() && l.SpanContext.SpanID() == sc.SpanID() {
			return true
		}
	}
	return false
}

// Point is one data point of a metric: a sum's value, or a histogram's
// count (and its sum, for the integer ones, whose sums are exact).
type Point struct {
	Value int64
	Count uint64
	Sum   int64
}

// Metrics collects every metric that reader has, as metric name → attributes (encoded
// "k=v,k=v", sorted) → point.
func Metrics(t testing.TB, reader *sdkmetric.ManualReader) map[string]map[string]Point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	enc := attribute.DefaultEncoder()
	out := map[string]map[string]Point{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			pts := map[string]Point{}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					pts[p.Attributes.Encoded(enc)] = Point{Value: p.Value}
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					pts[p.Attributes.Encoded(enc)] = Point{Value: p.Value}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					pts[p.Attributes.Encoded(enc)] = Point{Count: p.Count}
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					pts[p.Attributes.Encoded(enc)] = Point{Count: p.Count, Sum: p.Sum}
				}
			default:
				t.Fatalf("metric %s has data of type %T", m.Name, m.Data)
			}
			out[m.Name] = pts
		}
	}
	return out
}

// MetricAttrs returns every attribute of every data point of every metric.
func MetricAttrs(t testing.TB, reader *sdkmetric.ManualReader) []attribute.KeyValue {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var kvs []attribute.KeyValue
	add := func(s attribute.Set) { kvs = append(kvs, s.ToSlice()...) }
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					add(p.Attributes)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					add(p.Attributes)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					add(p.Attributes)
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					add(p.Attributes)
				}
			}
		}
	}
	return kvs
}

// LedgerMetrics returns the metrics named sharpapi.ledger.*.
func LedgerMetrics(all map[string]map[string]Point) map[string]map[string]Point {
	out := map[string]map[string]Point{}
	for name, pts := range all {
		if strings.HasPrefix(name, "sharpapi.ledger.") {
			out[name] = pts
		}
	}
	return out
}

// Answers tells the status code of each request a handler answered.
type Answers chan int

// Wrap wraps h so that each answer's status is told on a once the handler
// returned (its delivery span has ended by then).
func (a Answers) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, req)
		a <- sw.code
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Await waits for n answers and returns their statuses.
func (a Answers) Await(t testing.TB, n int) []int {
	t.Helper()
	return receive(t, a, n, "deliveries answered")
}

// receive receives n values from ch; a minute bounds a hang (it is not a
// wait for something), and what names the values in the failure.
func receive[T any](t testing.TB, ch <-chan T, n int, what string) []T {
	t.Helper()
	var got []T
	for range n {
		select {
		case v := <-ch:
			got = append(got, v)
		case <-time.After(time.Minute):
			t.Fatalf("%d of %d %s within a minute", len(got), n, what)
		}
	}
	return got
}

// PostSigned POSTs body with signature sig to url, as SharpAPI delivers a
// webhook, and returns the answer's status.
func PostSigned(t testing.TB, url, body, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Ended tells each span named name on the channel it returns as the span
// ends, so that a test waits for a span ended on another goroutine
// without polling. The channel holds 64 spans.
func Ended(tp *sdktrace.TracerProvider, name string) <-chan sdktrace.ReadOnlySpan {
	ch := make(chan sdktrace.ReadOnlySpan, 64)
	tp.RegisterSpanProcessor(endSignal{name, ch})
	return ch
}

// AwaitEnded waits for n spans from ch (see Ended) and returns them.
func AwaitEnded(t testing.TB, ch <-chan sdktrace.ReadOnlySpan, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	return receive(t, ch, n, "spans ended")
}

type endSignal struct {
	name string
	ch   chan sdktrace.ReadOnlySpan
}

func (e endSignal) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (e endSignal) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.Name() == e.name {
		e.ch <- s
	}
}
func (e endSignal) Shutdown(context.Context) error   { return nil }
func (e endSignal) ForceFlush(context.Context) error { return nil }
