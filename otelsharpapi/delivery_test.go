package otelsharpapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/observe"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// forgedParent is the trace context an attacker's request brings: sampled.
const forgedParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// postDelivery sends one delivery with a traceparent header to a handler
// observed by a tracer with sampler s, signed with secret, and returns
// the recorded delivery spans.
func postDelivery(t *testing.T, s sdktrace.Sampler, secret string, opts ...Option) []sdktrace.ReadOnlySpan {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr), sdktrace.WithSampler(s))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	obs := New(append([]Option{WithTracerProvider(tp), WithPropagators(propagation.TraceContext{})}, opts...)...)
	h, err := sharpapi.NewWebhookHandler(testSecret, sharpapi.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	body := []byte(`{"id":"5de4887a-0dfd-49b6-8edb-9280e468c210","status":"success","type":"content_translate","result":{}}`)
	req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
	req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapi.SignWebhook(body, secret))
	req.Header.Set("Traceparent", forgedParent)
	h.ServeHTTP(httptest.NewRecorder(), req)
	return spans(sr, "sharpapi.webhook")
}

func forged(t *testing.T) trace.SpanContext {
	t.Helper()
	sc, ok := parseTraceparent(forgedParent)
	if !ok {
		t.Fatal("forgedParent does not parse")
	}
	return sc
}

// TestForgedTraceparentIsNotJoined: an unsigned delivery with a sampled
// traceparent, under ParentBased(NeverSample), is neither recorded in the
// attacker's trace nor sampled at all; under AlwaysSample its span is a
// root with no link.
func TestForgedTraceparentIsNotJoined(t *testing.T) {
	if ds := postDelivery(t, sdktrace.ParentBased(sdktrace.NeverSample()), "not-the-secret"); len(ds) != 0 {
		t.Fatalf("%d delivery spans recorded under ParentBased(NeverSample), trace %s, parent %s; want none",
			len(ds), ds[0].SpanContext().TraceID(), ds[0].Parent().SpanID())
	}
	ds := postDelivery(t, sdktrace.AlwaysSample(), "not-the-secret")
	if len(ds) != 1 {
		t.Fatalf("%d delivery spans, want 1", len(ds))
	}
	if ds[0].Parent().IsValid() || ds[0].SpanContext().TraceID() == forged(t).TraceID() || len(ds[0].Links()) != 0 {
		t.Errorf("unsigned delivery: parent %v, trace %s, links %v; want a root of its own trace, no link",
			ds[0].Parent(), ds[0].SpanContext().TraceID(), ds[0].Links())
	}
}

// TestVerifiedDeliveryLinksToItsTraceparent: a signed delivery's span
// starts its own trace and links to the request's trace context; with
// WithTrustedDeliveries it is that context's child.
func TestVerifiedDeliveryLinksToItsTraceparent(t *testing.T) {
	ds := postDelivery(t, sdktrace.AlwaysSample(), testSecret)
	if len(ds) != 1 {
		t.Fatalf("%d delivery spans, want 1", len(ds))
	}
	if ds[0].Parent().IsValid() || ds[0].SpanContext().TraceID() == forged(t).TraceID() || !linksTo(ds[0], forged(t)) {
		t.Errorf("signed delivery: parent %v, links %v; want a root linking to the traceparent", ds[0].Parent(), ds[0].Links())
	}
	ds = postDelivery(t, sdktrace.ParentBased(sdktrace.NeverSample()), testSecret, WithTrustedDeliveries())
	if len(ds) != 1 {
		t.Fatalf("trusted: %d delivery spans, want 1 (sampled as its parent is)", len(ds))
	}
	if p := ds[0].Parent(); p.TraceID() != forged(t).TraceID() || p.SpanID() != forged(t).SpanID() {
		t.Errorf("trusted delivery's parent %v, want the traceparent's", p)
	}
}

// jobTokens are job tokens as a ledger in Redis may hold them: the first
// a well-formed traceparent, the others not (anything may be there).
var jobTokens = []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "",
	"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
	"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
	"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "sk-live-0123456789abcdef0123456789abcdef"}

// checkJobLinks checks that the span given jobTokens[0] links to that
// token's span context (sharpapi.link=job) besides its other links, and
// that a span given any other token has only its other links and holds
// the token nowhere (attributes, events, links).
func checkJobLinks(t *testing.T, ss []sdktrace.ReadOnlySpan, otherLinks int) {
	t.Helper()
	if len(ss) != len(jobTokens) {
		t.Fatalf("%d spans, want %d", len(ss), len(jobTokens))
	}
	job, _ := parseTraceparent(jobTokens[0])
	for i, s := range ss {
		wantLinks := otherLinks
		if i == 0 {
			wantLinks++
			var linked []string
			for _, l := range s.Links() {
				if l.SpanContext.Equal(job) {
					linked = append(linked, attrsOf(l.Attributes)["sharpapi.link"])
				}
			}
			if diff := cmp.Diff([]string{"job"}, linked); diff != "" {
				t.Errorf("span %s with a valid job token: links to the job (-want +got):\n%s", s.Name(), diff)
			}
		}
		if len(s.Links()) != wantLinks {
			t.Errorf("span %s with job token %q: %d links %v; want %d", s.Name(), jobTokens[i], len(s.Links()), s.Links(), wantLinks)
		}
		if i > 0 && jobTokens[i] != "" && spanHolds(s, jobTokens[i]) {
			t.Errorf("span %s holds the invalid job token %q", s.Name(), jobTokens[i])
		}
	}
}

// attrsOf is kvs as strings.
func attrsOf(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// spanHolds reports whether s holds v in any attribute, event or link.
func spanHolds(s sdktrace.ReadOnlySpan, v string) bool {
	all := slices.Clone(s.Attributes())
	for _, e := range s.Events() {
		all = append(all, e.Attributes...)
	}
	for _, l := range s.Links() {
		all = append(all, l.Attributes...)
	}
	for _, kv := range all {
		if strings.Contains(kv.Value.Emit(), v) {
			return true
		}
	}
	return s.Name() == v || strings.Contains(s.Status().Description, v)
}

// TestDeliveryLinksToTheJob: a verified delivery whose handler's ledger
// kept the job's token (observe.DeliveryEnd.JobTrace) ends linked to the
// job's span, marked sharpapi.link=job, besides its link to the
// traceparent its request brought; a token that is not a well-formed
// traceparent is dropped, and a rejected delivery links to nothing.
func TestDeliveryLinksToTheJob(t *testing.T) {
	tel := newTelemetry(t, WithPropagators(propagation.TraceContext{}))
	deliveries := tel.obs.Observer().(observe.DeliveryObserver)
	start := func() observe.DeliveryObservation {
		req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", nil)
		req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		_, d := deliveries.StartDelivery(req.Context(), req)
		return d
	}
	for _, token := range jobTokens {
		start().End(observe.DeliveryEnd{StatusCode: 200, Outcome: observe.DeliveryStoredDelivered, JobID: "j1",
			JobType: "content_translate", JobStatus: "success", JobTrace: token})
	}
	checkJobLinks(t, spans(tel.sr, "sharpapi.webhook"), 1)
	tel.sr.Reset()
	start().End(observe.DeliveryEnd{StatusCode: 401, Outcome: observe.DeliveryRejectedSig, JobTrace: jobTokens[0]})
	if ds := spans(tel.sr, "sharpapi.webhook"); len(ds) != 1 || len(ds[0].Links()) != 0 {
		t.Errorf("rejected delivery spans %v; want one, with no link", ds)
	}
}
