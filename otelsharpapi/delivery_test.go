package otelsharpapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sharpapi-go/sharpapi"
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
