package sharpapitest

import (
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// RecordedRequest is one request the emulator answered.
type RecordedRequest struct {
	Method string
	// Path is the URL path, /api/v1 included.
	Path  string
	Query url.Values
	// Header holds the request headers; Authorization reads "[redacted]".
	Header http.Header
	Body   []byte
	// Time is when the request arrived, by the emulator's Clock.
	Time time.Time
	// StatusCode is the status the emulator answered.
	StatusCode int
	// JobID is the job the request created or polled, if any.
	JobID string
}

// Delivery is one webhook attempt, or one webhook dropped by a fault.
type Delivery struct {
	JobID string
	URL   string
	// Copy numbers the duplicates of one webhook (see Faults.Duplicates), from 1.
	Copy int
	// Attempt numbers the tries of one copy, from 1 to 4 (three retries).
	Attempt int
	// Body and Signature are exactly what was sent (Signature is the X-Signature header).
	Body      []byte
	Signature string
	// Time is when the attempt started, by the emulator's Clock.
	Time time.Time
	// StatusCode is the receiver's answer; 0 if the attempt failed.
	StatusCode int
	// Err describes a failed attempt (connection refused, timeout).
	Err string
	// Dropped reports a webhook a fault suppressed; nothing was sent.
	Dropped bool
}

// recorder keeps what happened, for tests to assert on.
type recorder struct {
	mu         sync.Mutex
	limit      int
	requests   []RecordedRequest
	deliveries []Delivery
}

func (r *recorder) addRequest(req RecordedRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = appendBounded(r.requests, req, r.limit)
}

func (r *recorder) addDelivery(d Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = appendBounded(r.deliveries, d, r.limit)
}

func appendBounded[T any](s []T, v T, limit int) []T {
	if limit > 0 && len(s) >= limit {
		s = slices.Delete(s, 0, len(s)-limit+1)
	}
	return append(s, v)
}

// Requests returns the requests answered so far, oldest first.
func (e *Emulator) Requests() []RecordedRequest {
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	return slices.Clone(e.rec.requests)
}

// Deliveries returns the webhook attempts made so far, oldest first,
// including webhooks dropped by a fault (Dropped set, nothing sent).
func (e *Emulator) Deliveries() []Delivery {
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	return slices.Clone(e.rec.deliveries)
}

// redactHeader copies h with the credential removed.
func redactHeader(h http.Header) http.Header {
	c := h.Clone()
	if c.Get("Authorization") != "" {
		c.Set("Authorization", "[redacted]")
	}
	return c
}
