package otelsharpapi

import (
	"encoding/hex"

	"go.opentelemetry.io/otel/trace"
)

// The token that links a job to the delivery that completed it is the
// delivery span's W3C traceparent, version 00: "00-" trace id "-" span id
// "-" flags, in lowercase hex. It is written and read here, not through
// the propagators, which may be set to none: the token travels between
// replicas of this SDK, not to another system.

const traceparentLen = 2 + 1 + 32 + 1 + 16 + 1 + 2

// formatTraceparent writes sc as a traceparent; "" for an invalid sc.
func formatTraceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	var b [traceparentLen]byte
	tid, sid := sc.TraceID(), sc.SpanID()
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags())})
	return string(b[:])
}

// parseTraceparent reads a version-00 traceparent into a remote span
// context.
func parseTraceparent(s string) (trace.SpanContext, bool) {
	if len(s) != traceparentLen || s[:3] != "00-" || s[35] != '-' || s[52] != '-' {
		return trace.SpanContext{}, false
	}
	var (
		tid   trace.TraceID
		sid   trace.SpanID
		flags [1]byte
	)
	if _, err := hex.Decode(tid[:], []byte(s[3:35])); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(sid[:], []byte(s[36:52])); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(flags[:], []byte(s[53:55])); err != nil {
		return trace.SpanContext{}, false
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(flags[0]), Remote: true})
	return sc, sc.IsValid()
}
