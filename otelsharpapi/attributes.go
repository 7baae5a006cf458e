package otelsharpapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"

	"github.com/sharpapi-go/sharpapi"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.39.0"
)

// The attributes of this package's spans and metrics, beside the semantic
// conventions' own.
const (
	attrJobID         = attribute.Key("sharpapi.job.id")
	attrJobType       = attribute.Key("sharpapi.job.type")
	attrJobStatus     = attribute.Key("sharpapi.job.status")
	attrJobWebhook    = attribute.Key("sharpapi.job.webhook")
	attrJobResumed    = attribute.Key("sharpapi.job.resumed")
	attrJobOutcome    = attribute.Key("sharpapi.job.outcome")
	attrJobVia        = attribute.Key("sharpapi.job.completed_via")
	attrJobPolls      = attribute.Key("sharpapi.job.polls")
	attrRequestKind   = attribute.Key("sharpapi.request.kind")
	attrLimiterWhy    = attribute.Key("sharpapi.limiter.reason")
	attrLimiterWait   = attribute.Key("sharpapi.limiter.wait")
	attrLimiterGaveUp = attribute.Key("sharpapi.limiter.gave_up")
	attrDelivery      = attribute.Key("sharpapi.webhook.outcome")
	attrBusOp         = attribute.Key("sharpapi.bus.operation")
	attrBusStored     = attribute.Key("sharpapi.bus.stored")
	attrLedgerResult  = attribute.Key("sharpapi.ledger.result")
	attrLedgerVia     = attribute.Key("sharpapi.ledger.completed_via")
	attrLedgerReason  = attribute.Key("sharpapi.ledger.reason")
	attrLedgerOp      = attribute.Key("sharpapi.ledger.operation")
	attrLedgerTries   = attribute.Key("sharpapi.ledger.tries")
	attrClaimOutcome  = attribute.Key("sharpapi.ledger.claim.outcome")
	attrHookRuns      = attribute.Key("sharpapi.hook.runs")
	attrHookOutcome   = attribute.Key("sharpapi.hook.outcome")
	attrGenAIOp       = attribute.Key("gen_ai.operation.name")
	attrGenAIProvider = attribute.Key("gen_ai.provider.name")
)

// errorType is error.type for an error the SDK returned: one of a fixed
// list, so that it can label a metric. It is "job_failed", "rate_limited",
// "unauthorized", "quota_exceeded", "not_found", "validation",
// "malformed_response", "canceled", "timeout", another HTTP status code
// ("500", one of those net/http names), or "_OTHER".
func errorType(err error) string {
	var apiErr *sharpapi.APIError
	switch {
	case errors.Is(err, sharpapi.ErrJobFailed):
		return "job_failed"
	case errors.Is(err, sharpapi.ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, sharpapi.ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, sharpapi.ErrQuotaExceeded):
		return "quota_exceeded"
	case errors.Is(err, sharpapi.ErrNotFound):
		return "not_found"
	case errors.Is(err, sharpapi.ErrValidation):
		return "validation"
	case errors.Is(err, sharpapi.ErrMalformedResponse):
		return "malformed_response"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &apiErr) && http.StatusText(apiErr.StatusCode) != "":
		// A status code Go knows: a fixed set, whatever a server sends.
		return strconv.Itoa(apiErr.StatusCode)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "timeout"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// errorDescription is a span status's description for err: its message,
// but for a failed job, whose message quotes SharpAPI's result for it.
func errorDescription(err error) string {
	var failed *sharpapi.JobFailedError
	if errors.As(err, &failed) {
		return "sharpapi: job " + failed.JobID + " failed"
	}
	return err.Error()
}
