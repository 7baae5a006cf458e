package sharpapitest

import (
	"bytes"
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
	// Body is the request body, cut to its first [DefaultRecordBodyLimit]
	// bytes (see [WithRecordBodyLimit]); BodyLen is its full length.
	Body    []byte
	BodyLen int
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
	// Body and Signature are exactly what was sent (Signature is the
	// X-Signature header), except that Body is cut to its first
	// [DefaultRecordBodyLimit] bytes (see [WithRecordBodyLimit]); BodyLen is
	// its full length.
	Body      []byte
	BodyLen   int
	Signature string
	// Time is when the attempt started, by the emulator's Clock.
	Time time.Time
	// StatusCode is the receiver's answer; 0 if the attempt failed.
	StatusCode int
	// Err describes a failed attempt (connection refused, timeout). URLs
	// in it carry no query and no user info.
	Err string
	// Dropped reports a webhook a fault suppressed; nothing was sent.
	Dropped bool
}

// recorder keeps what happened, for tests to assert on, within bounds: a
// count of records of each kind (0 for none), a prefix of each body, and a
// byte budget for the records of each kind.
type recorder struct {
	mu         sync.Mutex
	limit      int
	bodyLimit  int
	budget     int
	requests   []RecordedRequest
	reqBytes   int
	deliveries []Delivery
	dlBytes    int
}

func (r *recorder) addRequest(req RecordedRequest) {
	req.Body, req.BodyLen = clip(req.Body, r.bodyLimit), len(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests, r.reqBytes = appendBounded(r.requests, req, r.reqBytes, r.limit, r.budget, RecordedRequest.size)
}

func (r *recorder) addDelivery(d Delivery) {
	d.Body, d.BodyLen = clip(d.Body, r.bodyLimit), len(d.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries, r.dlBytes = appendBounded(r.deliveries, d, r.dlBytes, r.limit, r.budget, Delivery.size)
}

// clip returns at most the first n bytes of b. A longer b is copied, so
// that the record does not keep the whole of it alive.
func clip(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return bytes.Clone(b[:n])
}

// appendBounded appends v to s, whose records weigh used bytes, then drops
// the oldest records until at most limit (if positive) remain and they
// weigh at most budget bytes; the newest record is always kept. It returns
// the new slice and its weight.
func appendBounded[T any](s []T, v T, used, limit, budget int, size func(T) int) ([]T, int) {
	s, used = append(s, v), used+size(v)
	drop := 0
	for drop < len(s)-1 && ((limit > 0 && len(s)-drop > limit) || used > budget) {
		used -= size(s[drop])
		drop++
	}
	return slices.Delete(s, 0, drop), used
}

// size is roughly the memory a record holds: its variable-length parts.
func (r RecordedRequest) size() int {
	n := len(r.Method) + len(r.Path) + len(r.Body) + len(r.JobID) + headerSize(r.Header)
	for k, vs := range r.Query {
		n += len(k)
		for _, v := range vs {
			n += len(v)
		}
	}
	return n
}

func (d Delivery) size() int {
	return len(d.JobID) + len(d.URL) + len(d.Body) + len(d.Signature) + len(d.Err)
}

func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		n += len(k)
		for _, v := range vs {
			n += len(v)
		}
	}
	return n
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
