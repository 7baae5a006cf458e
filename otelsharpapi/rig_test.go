package otelsharpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const (
	testKey    = "sk-test-APIKEY-0123456789"
	testSecret = "whsec-test-SECRET-9876543210"
)

// telemetry is a real OpenTelemetry SDK whose spans and metrics the test
// reads: a span recorder and a manual metric reader.
type telemetry struct {
	sr     *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	obs    *Observer
}

func newTelemetry(t testing.TB, opts ...Option) *telemetry {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	return &telemetry{sr: sr, reader: reader,
		obs: New(append([]Option{WithTracerProvider(tp), WithMeterProvider(mp)}, opts...)...)}
}

// rig is a client and a webhook handler, both observed, the emulator they
// talk to, and a channel that says when the handler answered a delivery.
type rig struct {
	*telemetry
	emu      *sharpapitest.Server
	hooks    *sharpapi.WebhookHandler
	hookURL  string
	answered chan int // the status of each delivery the handler answered
	client   *sharpapi.Client
}

func newRig(t *testing.T, grace time.Duration, clientOpts []sharpapi.Option, emuOpts ...sharpapitest.Option) *rig {
	t.Helper()
	r := &rig{telemetry: newTelemetry(t), answered: make(chan int, 64)}
	hooks, err := sharpapi.NewWebhookHandler(testSecret, sharpapi.WithObserver(r.obs))
	if err != nil {
		t.Fatal(err)
	}
	r.hooks = hooks
	recv := httptest.NewServer(r.answering(hooks))
	t.Cleanup(recv.Close)
	t.Cleanup(func() { hooks.Close() })
	r.hookURL = recv.URL + "/hooks/sharpapi"
	r.emu = sharpapitest.NewServer(append([]sharpapitest.Option{
		sharpapitest.WithAPIKey(testKey),
		sharpapitest.WithWebhookSecret(testSecret),
		sharpapitest.WithJobDuration(time.Millisecond),
		sharpapitest.WithRetryAfter(time.Millisecond),
		sharpapitest.WithWebhookRetryDelay(time.Millisecond),
		sharpapitest.WithSeed(3),
	}, emuOpts...)...)
	t.Cleanup(r.emu.Close)
	r.client, err = sharpapi.NewClient(testKey, append([]sharpapi.Option{
		sharpapi.WithObserver(r.obs),
		sharpapi.WithBaseURL(r.emu.URL),
		sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhookGrace(grace),
		sharpapi.WithPollInterval(time.Millisecond),
		sharpapi.WithRetryWait(time.Millisecond, 5*time.Millisecond),
	}, clientOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// answering wraps h so that each delivery's answer is told on r.answered
// once the handler returned (its delivery span has ended by then).
func (r *rig) answering(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, req)
		r.answered <- sw.code
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

// awaitAnswers waits for n deliveries to be answered and returns their
// statuses.
func (r *rig) awaitAnswers(t *testing.T, n int) []int {
	t.Helper()
	var codes []int
	for range n {
		select {
		case c := <-r.answered:
			codes = append(codes, c)
		case <-time.After(time.Minute): // a bound on a hang, not a wait for something
			t.Fatalf("%d of %d deliveries answered within a minute", len(codes), n)
		}
	}
	return codes
}

var italian = sharpapi.TranslateParams{Content: "hello", Language: "Italian"}

// spans returns the ended spans named name.
func spans(sr *tracetest.SpanRecorder, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range sr.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// jobSpan returns the one ended job span with the given id.
func jobSpan(t *testing.T, sr *tracetest.SpanRecorder, id string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range sr.Ended() {
		if strings.HasPrefix(s.Name(), "sharpapi.job") && attrs(s)["sharpapi.job.id"] == id {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d ended job spans for job %s, want 1", len(found), id)
	}
	return found[0]
}

// children returns the ended spans whose parent is p, by name.
func children(sr *tracetest.SpanRecorder, p sdktrace.ReadOnlySpan) map[string][]sdktrace.ReadOnlySpan {
	out := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range sr.Ended() {
		if s.Parent().SpanID() == p.SpanContext().SpanID() && s.Parent().TraceID() == p.SpanContext().TraceID() {
			out[s.Name()] = append(out[s.Name()], s)
		}
	}
	return out
}

// attrs renders a span's attributes as strings, by key.
func attrs(s sdktrace.ReadOnlySpan) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// events returns the names of a span's events.
func events(s sdktrace.ReadOnlySpan) []string {
	var names []string
	for _, e := range s.Events() {
		names = append(names, e.Name)
	}
	return names
}

// linksTo reports whether s links to the span context sc.
func linksTo(s sdktrace.ReadOnlySpan, sc trace.SpanContext) bool {
	for _, l := range s.Links() {
		if l.SpanContext.TraceID() == sc.TraceID() && l.SpanContext.SpanID() == sc.SpanID() {
			return true
		}
	}
	return false
}

// point is one data point of a metric: a sum's value, or a histogram's
// count (and its sum, for the integer ones, whose sums are exact).
type point struct {
	Value int64
	Count uint64
	Sum   int64
}

// metrics collects every metric, as metric name → attributes (encoded
// "k=v,k=v", sorted) → point.
func (tel *telemetry) metrics(t testing.TB) map[string]map[string]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	enc := attribute.DefaultEncoder()
	out := map[string]map[string]point{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			pts := map[string]point{}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					pts[p.Attributes.Encoded(enc)] = point{Value: p.Value}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					pts[p.Attributes.Encoded(enc)] = point{Count: p.Count}
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					pts[p.Attributes.Encoded(enc)] = point{Count: p.Count, Sum: p.Sum}
				}
			default:
				t.Fatalf("metric %s has data of type %T", m.Name, m.Data)
			}
			out[m.Name] = pts
		}
	}
	return out
}

// metricAttrs returns every attribute of every data point of every metric.
func (tel *telemetry) metricAttrs(t testing.TB) []attribute.KeyValue {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
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
