package otelsharpapi

import (
	"context"

	"github.com/sharpapi-go/sharpapi/observe"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.39.0"
	"go.opentelemetry.io/otel/trace"
)

// The spans of the webhook handler's own work after a delivery: each
// OnEvent run, each ledger entry a sweeper completes, and the ledger
// record inside a dispatch. None of them is on the per-job path without
// a ledger or an OnEvent hook.

// StartHook starts an OnEvent run's span, sharpapi.on_event: a child of
// the span in ctx (a sweeper's sharpapi.ledger.complete), else of the
// delivery that brought the event (its token, a traceparent this package
// wrote after the delivery verified), else a root. A run that is not the
// child of a span in ctx links to the job's own span (sharpapi.link=job)
// when its hook lease read the job's token from the ledger
// (observe.HookStart.JobTrace), once validated: the span in ctx is the
// job's own (its poll found the outcome) or a sweeper's, which links to
// the job already. The run's ctx carries the span, so that OnEvent's own
// spans nest under it.
func (o protocol) StartHook(ctx context.Context, s observe.HookStart) (context.Context, observe.HookObservation) {
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, attrJobID.String(s.JobID), attrJobType.String(s.JobType), attrJobStatus.String(s.JobStatus))
	if s.Leased {
		attrs = append(attrs, attrHookRuns.Int(s.Runs))
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...)}
	inSpan := trace.SpanContextFromContext(ctx).IsValid()
	if job, ok := parseTraceparent(s.JobTrace); ok && !inSpan {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: job, Attributes: jobLinkAttrs}))
	}
	if delivery, ok := parseTraceparent(s.Delivery); ok {
		if inSpan {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: delivery, Attributes: linkAttrs}))
		} else {
			ctx = trace.ContextWithRemoteSpanContext(ctx, delivery)
		}
	}
	ctx, span := o.tracer.Start(ctx, "sharpapi.on_event", opts...)
	return ctx, hookRun{span}
}

// hookRun is an OnEvent run's span.
type hookRun struct{ span trace.Span }

// End ends the run's span with its outcome.
func (h hookRun) End(e observe.HookEnd) {
	h.span.SetAttributes(attrHookOutcome.String(string(e.Outcome)))
	if e.Err != nil {
		errType := "panic"
		if !e.Panicked {
			errType = errorType(e.Err)
		}
		h.span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		h.span.SetStatus(codes.Error, e.Err.Error())
	}
	h.span.End()
}

// StartClaim starts the span of a sweeper's work for a claimed ledger
// entry, sharpapi.ledger.complete: a root (the sweep is no one's child)
// linked to the job's own span, named by the token its dispatcher recorded
// with the entry, once validated (the ledger is in Redis: anything may be
// there). Its poll's GET span and the OnEvent run's span are its
// children.
func (o protocol) StartClaim(ctx context.Context, c observe.ClaimStart) (context.Context, observe.ClaimObservation) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithNewRoot(),
		trace.WithAttributes(attrJobID.String(c.JobID), attrJobType.String(c.JobType), attrLedgerTries.Int(c.Tries))}
	if sc, ok := parseTraceparent(c.Trace); ok {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc, Attributes: jobLinkAttrs}))
	}
	ctx, span := o.tracer.Start(ctx, "sharpapi.ledger.complete", opts...)
	return ctx, claim{span}
}

// jobLinkAttrs mark a link to the job's own span, named by the token its
// dispatcher recorded in the ledger: a sweeper's, a delivery's, an OnEvent
// run's (shared, never modified).
var jobLinkAttrs = []attribute.KeyValue{attribute.String("sharpapi.link", "job")}

// claim is the span of a sweeper's work for a claimed entry.
type claim struct{ span trace.Span }

// End ends the claim's span with what the sweeper made of the entry.
func (c claim) End(e observe.ClaimEnd) {
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, attrClaimOutcome.String(string(e.Outcome)))
	if e.Via != "" {
		attrs = append(attrs, attrLedgerVia.String(string(e.Via)))
	}
	if e.Reason != "" {
		attrs = append(attrs, attrLedgerReason.String(string(e.Reason)))
	}
	if e.Err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(e.Err)))
	}
	c.span.SetAttributes(attrs...)
	c.span.End()
}

// StartLedgerRecord starts the span of a job's record in the ledger,
// sharpapi.ledger.record, a child of the job's; the LedgerRecorded note
// ends it.
func (o protocol) StartLedgerRecord(ctx context.Context, jobID string) context.Context {
	job := trace.SpanFromContext(ctx)
	ctx, span := o.tracer.Start(ctx, "sharpapi.ledger.record", trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attrJobID.String(jobID)))
	return context.WithValue(ctx, recordKey{}, &record{span: span, job: job})
}

// recordKey is the context key of a record's spans: the LedgerRecorded
// note ends the record's span only if StartLedgerRecord started it.
type recordKey struct{}

// record is a ledger record's span, and its job's.
type record struct{ span, job trace.Span }

// endRecord ends the record span in ctx, if there is one, with the
// record's error; it returns the job's span.
func endRecord(ctx context.Context, err error) trace.Span {
	r, ok := ctx.Value(recordKey{}).(*record)
	if !ok {
		return trace.SpanFromContext(ctx)
	}
	result := "ok"
	if err != nil {
		result = "error"
		r.span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		r.span.SetStatus(codes.Error, err.Error())
	}
	r.span.SetAttributes(attrLedgerResult.String(result))
	r.span.End()
	return r.job
}

var _ observe.JobToken = (*job)(nil)
