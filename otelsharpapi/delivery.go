package otelsharpapi

import (
	"context"
	"net/http"
	"slices"

	"github.com/sharpapi-go/sharpapi/observe"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.39.0"
	"go.opentelemetry.io/otel/trace"
)

// StartDelivery starts a webhook delivery's CONSUMER span.
//
// The span ends linked to the span of the job the delivery completes
// (sharpapi.link=job) when the handler's eventbus.Ledger kept the job's
// token (observe.DeliveryEnd.JobTrace): the job may have been dispatched
// on another replica, whose trace the delivery's is not.
//
// A webhook receiver is a public endpoint: anyone can POST to it, with any
// trace header. So by default the delivery's span starts a trace of its
// own, and a trace context the request brings (in its headers, or a
// remote one in its context) becomes a link, added only once the
// delivery's signature verified: an unsigned request can neither join a
// trace nor have its span sampled by a ParentBased sampler.
// [WithTrustedDeliveries] makes that trace context the span's parent
// instead. A span the request's context holds that was started in this
// process (an otelhttp middleware's server span) is the parent either way:
// that middleware's own options decide whether it trusts the headers.
func (o protocol) StartDelivery(ctx context.Context, r *http.Request) (context.Context, observe.DeliveryObservation) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path))}
	d := &delivery{o: o.Observer}
	if sc := trace.SpanContextFromContext(ctx); !sc.IsValid() || sc.IsRemote() {
		if !sc.IsValid() {
			ctx = o.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
		}
		if !o.trustDeliveries {
			// With no trace context to ignore, the span is a root anyway.
			if d.incoming = trace.SpanContextFromContext(ctx); d.incoming.IsValid() {
				opts = append(opts, trace.WithNewRoot())
			}
		}
	}
	ctx, d.span = o.tracer.Start(ctx, "sharpapi.webhook", opts...)
	return ctx, d
}

// delivery is one webhook delivery's span.
type delivery struct {
	o    *Observer
	span trace.Span
	// incoming is the trace context the request brought, linked to once
	// the delivery is verified (not WithTrustedDeliveries).
	incoming trace.SpanContext
}

// Token is the delivery span's W3C traceparent, which the job it completes
// links to.
func (d *delivery) Token() string { return formatTraceparent(d.span.SpanContext()) }

// End ends the delivery's span with the handler's answer, and counts it.
func (d *delivery) End(e observe.DeliveryEnd) {
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, attrDelivery.String(string(e.Outcome)), semconv.HTTPResponseStatusCode(e.StatusCode))
	d.o.m.deliveries.Add(context.Background(), 1, measurement(d.o, deliveryKey{e.Outcome, e.StatusCode}, func() []attribute.KeyValue {
		return slices.Clone(attrs) // a set sorts what it is given
	}))
	if e.JobID != "" {
		// The core sets the job only once the signature verified.
		attrs = append(attrs, attrJobID.String(e.JobID), attrJobType.String(string(e.JobType)),
			attrJobStatus.String(string(e.JobStatus)))
		if d.incoming.IsValid() {
			d.span.AddLink(trace.Link{SpanContext: d.incoming, Attributes: incomingLinkAttrs})
		}
		// The job's span, on whichever replica dispatched it, named by the
		// token its dispatcher recorded in the ledger: read from Redis, so
		// anything that is not a well-formed traceparent is dropped.
		if job, ok := parseTraceparent(e.JobTrace); ok {
			d.span.AddLink(trace.Link{SpanContext: job, Attributes: jobLinkAttrs})
		}
	}
	if e.StatusCode >= 400 {
		attrs = append(attrs, semconv.ErrorTypeKey.String(string(e.Outcome)))
		d.span.SetStatus(codes.Error, string(e.Outcome))
	}
	d.span.SetAttributes(attrs...)
	d.span.End()
}

// incomingLinkAttrs mark a delivery's link to the trace context its
// request brought (shared, never modified).
var incomingLinkAttrs = []attribute.KeyValue{attribute.String("sharpapi.link", "delivery_request")}

// BusCalled counts a failed event-bus call, and records a Store on the
// delivery's span.
func (o protocol) BusCalled(ctx context.Context, c observe.BusCall) {
	if c.Op == observe.BusStore {
		attrs := []attribute.KeyValue{attrBusStored.Bool(c.Stored)}
		if c.Err != nil {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(c.Err)))
		}
		trace.SpanFromContext(ctx).AddEvent("sharpapi.bus.store", trace.WithAttributes(attrs...))
	}
	if c.Err != nil {
		o.m.busErrors.Add(ctx, 1, metric.WithAttributes(attrBusOp.String(string(c.Op)),
			semconv.ErrorTypeKey.String(errorType(c.Err))))
	}
}
