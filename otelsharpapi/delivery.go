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

// StartDelivery starts a webhook delivery's CONSUMER span: a child of the
// request's context span, or of a trace context in its headers, else a
// root.
func (o protocol) StartDelivery(ctx context.Context, r *http.Request) (context.Context, observe.DeliveryObservation) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = o.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
	}
	ctx, span := o.tracer.Start(ctx, "sharpapi.webhook", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path)))
	return ctx, &delivery{o: o.Observer, span: span}
}

// delivery is one webhook delivery's span.
type delivery struct {
	o    *Observer
	span trace.Span
}

// Token is the delivery span's W3C traceparent, which the job it completes
// links to.
func (d *delivery) Token() string { return formatTraceparent(d.span.SpanContext()) }

// End ends the delivery's span with the handler's answer, and counts it.
func (d *delivery) End(e observe.DeliveryEnd) {
	attrs := []attribute.KeyValue{attrDelivery.String(string(e.Outcome)), semconv.HTTPResponseStatusCode(e.StatusCode)}
	d.o.m.deliveries.Add(context.Background(), 1, d.o.measurement(deliveryKey{e.Outcome, e.StatusCode}, func() []attribute.KeyValue {
		return slices.Clone(attrs) // a set sorts what it is given
	}))
	if e.JobID != "" {
		attrs = append(attrs, attrJobID.String(e.JobID), attrJobType.String(string(e.JobType)),
			attrJobStatus.String(string(e.JobStatus)))
	}
	if e.StatusCode >= 400 {
		attrs = append(attrs, semconv.ErrorTypeKey.String(string(e.Outcome)))
		d.span.SetStatus(codes.Error, string(e.Outcome))
	}
	d.span.SetAttributes(attrs...)
	d.span.End()
}

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
