package otelsharpapi

import (
	"cmp"
	"context"
	"time"

	"github.com/sharpapi-go/sharpapi/observe"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.39.0"
	"go.opentelemetry.io/otel/trace"
)

// StartJob starts a job's span, a child of ctx's; see [observe.Observer].
func (o protocol) StartJob(ctx context.Context, s observe.JobStart) (context.Context, observe.JobObservation) {
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, attrJobType.String(string(s.Type)), attrJobWebhook.Bool(s.Webhook))
	if s.ID != "" {
		attrs = append(attrs, attrJobID.String(s.ID))
	}
	if s.Resumed {
		attrs = append(attrs, attrJobResumed.Bool(true))
	}
	if o.genAI {
		attrs = append(attrs, attrGenAIProvider.String("sharpapi"), attrGenAIOp.String(string(s.Type)))
	}
	name := "sharpapi.job"
	if s.Type != "" {
		name += " " + string(s.Type)
	}
	ctx, span := o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	j := &job{o: o.Observer, span: span, start: time.Now(), typ: s.Type}
	if s.ID != "" {
		j.addPending(ctx)
	}
	return ctx, j
}

// job is one job's observation: its span, and what its metrics need.
// Note and End come from the SDK's goroutines; the fields they share are
// written before the job is awaited (at StartJob or the dispatch note).
type job struct {
	o       *Observer
	span    trace.Span
	start   time.Time
	typ     string
	pending bool // counted in sharpapi.job.pending, and the span has (or will have) the job's id
	// id is the id the dispatch learnt, set on the span at its end with
	// the outcome: one call to the span, not two.
	id string
}

func (j *job) addPending(ctx context.Context) {
	j.pending = true
	j.o.m.jobPending.Add(ctx, 1, j.typeSet())
}

// typeSet is the job type's metric attributes, sharpapi.job.pending's.
func (j *job) typeSet() metric.MeasurementOption {
	return measurement(j.o, jobTypeKey(j.typ), func() []attribute.KeyValue {
		return []attribute.KeyValue{attrJobType.String(string(j.typ))}
	})
}

// Token is the job span's W3C traceparent: the ledger records it with the
// job, so that a sweeper completing the job elsewhere links to the span.
func (j *job) Token() string { return formatTraceparent(j.span.SpanContext()) }

// Context puts the job's span in an await's ctx, so that its polls are
// the span's children.
func (j *job) Context(ctx context.Context) context.Context { return trace.ContextWithSpan(ctx, j.span) }

// Note records what happened to the job on its span.
func (j *job) Note(n observe.JobNote) {
	switch n.Kind {
	case observe.JobDispatched:
		j.id = n.ID
		j.addPending(context.Background())
	case observe.JobWebhookReceived:
		j.span.AddEvent("sharpapi.webhook.received", trace.WithAttributes(attrJobStatus.String(string(n.Status))))
		if link, ok := deliveryLink(n.Trace); ok {
			j.span.AddLink(link)
		}
	case observe.JobGraceExpired:
		j.span.AddEvent("sharpapi.webhook.grace_expired")
	case observe.JobAwaitEnded:
		j.span.AddEvent("sharpapi.await.ended", trace.WithAttributes(semconv.ErrorTypeKey.String(errorType(n.Err))))
	}
}

// End ends the job's span and records its metrics.
func (j *job) End(e observe.JobEnd) {
	typ := cmp.Or(e.Type, j.typ)
	var errType string
	if e.Err != nil && e.Outcome != observe.JobCancelled {
		errType = errorType(e.Err)
		j.span.SetStatus(codes.Error, errorDescription(e.Err))
	}
	ctx := context.Background()
	if j.o.m.jobDuration.Enabled(ctx) {
		k := jobEndKey{typ, e.Outcome, e.Via, errType}
		j.o.m.jobDuration.Record(ctx, time.Since(j.start).Seconds(), measurement(j.o, k, k.attributes))
	}
	if j.o.m.jobPolls.Enabled(ctx) {
		k := jobEndKey{typ, e.Outcome, e.Via, ""}
		j.o.m.jobPolls.Record(ctx, int64(e.Polls), measurement(j.o, k, k.attributes))
	}
	if j.pending {
		j.o.m.jobPending.Add(ctx, -1, j.typeSet())
	}
	if j.span.IsRecording() {
		// The span has the type already (and the id, when StartJob knew
		// it): a key set twice costs the SDK a pass to drop the first.
		attrs := make([]attribute.KeyValue, 0, 6)
		if j.id != "" {
			attrs = append(attrs, attrJobID.String(j.id))
		}
		attrs = append(attrs, attrJobOutcome.String(string(e.Outcome)))
		if e.Via != "" {
			attrs = append(attrs, attrJobVia.String(string(e.Via)))
		}
		if errType != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		}
		attrs = append(attrs, attrJobPolls.Int(e.Polls))
		if typ != j.typ {
			attrs = append(attrs, attrJobType.String(typ))
		}
		if e.ID != "" && !j.pending {
			attrs = append(attrs, attrJobID.String(e.ID))
		}
		j.span.SetAttributes(attrs...)
	}
	j.span.End()
}

// jobEndKey keys the cached attribute sets of a job's end: those of
// sharpapi.job.duration, and of sharpapi.job.polls (no error.type).
type jobEndKey struct {
	typ     string
	outcome observe.JobOutcome
	via     observe.JobVia
	errType string
}

func (k jobEndKey) attributes() []attribute.KeyValue {
	attrs := []attribute.KeyValue{attrJobType.String(k.typ), attrJobOutcome.String(string(k.outcome))}
	if k.via != "" {
		attrs = append(attrs, attrJobVia.String(string(k.via)))
	}
	if k.errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(k.errType))
	}
	return attrs
}

// linkAttrs mark a job's link to its delivery (shared, never modified).
var linkAttrs = []attribute.KeyValue{attribute.String("sharpapi.link", "webhook_delivery")}

// deliveryLink is the link to the delivery span a token names.
func deliveryLink(token string) (trace.Link, bool) {
	sc, ok := parseTraceparent(token)
	if !ok {
		return trace.Link{}, false
	}
	return trace.Link{SpanContext: sc, Attributes: linkAttrs}, true
}
