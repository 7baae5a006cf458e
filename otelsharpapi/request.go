package otelsharpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sharpapi-go/sharpapi/observe"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.39.0"
	"go.opentelemetry.io/otel/trace"
)

// request is one HTTP attempt's span and what its metric needs.
type request struct {
	span    trace.Span
	start   time.Time
	method  string
	kind    observe.RequestKind
	address string
	port    int
}

type requestKey struct{}

// StartRequest starts an HTTP attempt's CLIENT span, a child of the job's
// (or of the caller's span, for a synchronous call).
func (o protocol) StartRequest(ctx context.Context, r observe.RequestStart) context.Context {
	rq := &request{start: time.Now(), method: r.Method, kind: r.Kind}
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLFull(r.URL), attrRequestKind.String(string(r.Kind)))
	rq.address, rq.port = hostPort(r.URL, r.Host)
	attrs = append(attrs, semconv.ServerAddress(rq.address), semconv.ServerPort(rq.port))
	tmpl := r.Path
	if r.JobID != "" {
		tmpl = strings.Replace(tmpl, "/"+r.JobID, "/{id}", 1)
	}
	attrs = append(attrs, semconv.URLTemplate(tmpl))
	if r.Resend > 0 {
		attrs = append(attrs, semconv.HTTPRequestResendCount(r.Resend))
	}
	if r.JobID != "" {
		attrs = append(attrs, attrJobID.String(r.JobID))
	}
	_, rq.span = o.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, requestKey{}, rq)
}

// hostPort splits a URL's host into its name and port, the scheme's when
// the URL names none. url.URL's Hostname and Port read the host as
// net/http does, with no error to build for a host with no port.
func hostPort(rawURL, host string) (string, int) {
	u := url.URL{Host: host}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			return u.Hostname(), n
		}
	}
	if strings.HasPrefix(rawURL, "http:") {
		return u.Hostname(), 80
	}
	return u.Hostname(), 443
}

// EndRequest ends the attempt's span and records its duration (and a 429).
func (o protocol) EndRequest(ctx context.Context, r observe.RequestEnd) {
	rq, ok := ctx.Value(requestKey{}).(*request)
	if !ok {
		return
	}
	var errType string
	switch {
	case r.Err != nil:
		errType = errorType(r.Err)
		if errType != "canceled" { // an intended cancellation is no error
			rq.span.SetStatus(codes.Error, errType)
		}
	case r.StatusCode >= 400:
		errType = strconv.Itoa(r.StatusCode)
		rq.span.SetStatus(codes.Error, http.StatusText(r.StatusCode))
	}
	if r.StatusCode > 0 {
		rq.span.SetAttributes(semconv.HTTPResponseStatusCode(r.StatusCode))
	}
	if errType != "" {
		rq.span.SetAttributes(semconv.ErrorTypeKey.String(errType))
	}
	if o.m.httpDuration.Enabled(ctx) {
		k := httpDurationKey{rq.method, rq.kind, rq.address, rq.port, r.StatusCode, errType}
		o.m.httpDuration.Record(ctx, time.Since(rq.start).Seconds(), measurement(o.Observer, k, k.attributes))
	}
	if r.StatusCode == http.StatusTooManyRequests {
		o.m.rateLimited.Add(ctx, 1, metric.WithAttributes(attrRequestKind.String(string(rq.kind))))
	}
	rq.span.End()
}

// httpDurationKey keys the cached attribute sets of
// http.client.request.duration. The address and port are the client's
// base URL's (a status URL or redirect of another origin is refused), and
// Go reads only three-digit status codes.
type httpDurationKey struct {
	method  string
	kind    observe.RequestKind
	address string
	port    int
	status  int // 0: no answer
	errType string
}

func (k httpDurationKey) attributes() []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(k.method), attrRequestKind.String(string(k.kind)),
		semconv.ServerAddress(k.address), semconv.ServerPort(k.port))
	if k.status > 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(k.status))
	}
	if k.errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(k.errType))
	}
	return attrs
}

// LimiterHeld records a rate-limiter wait: an event on the span of ctx (the
// job's, for a dispatch or a poll) and the wait's duration.
func (o protocol) LimiterHeld(ctx context.Context, h observe.LimiterHold) {
	attrs := []attribute.KeyValue{
		attrRequestKind.String(string(h.Kind)), attrLimiterWhy.String(string(h.Reason)), attrLimiterGaveUp.Bool(h.GaveUp),
	}
	trace.SpanFromContext(ctx).AddEvent("sharpapi.limiter.hold",
		trace.WithAttributes(append(attrs, attrLimiterWait.Float64(h.Waited.Seconds()))...))
	o.m.limiterWait.Record(ctx, h.Waited.Seconds(), metric.WithAttributes(attrs...))
}
