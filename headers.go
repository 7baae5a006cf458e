package sharpapi

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimit is what SharpAPI's X-RateLimit-* headers said. A zero field
// means the header was absent (SharpAPI omits them on /ping and /quota).
// As JSON, Reset is RFC 3339 and left out when unknown.
type RateLimit struct {
	// Limit is the number of requests allowed per window.
	Limit int `json:"limit"`
	// Remaining is the number of requests left in the window.
	Remaining int `json:"remaining"`
	// Reset is when the window resets.
	Reset time.Time `json:"reset,omitzero"`
}

// ResponseMeta is what a SharpAPI response said besides its body: its
// status and SharpAPI's own headers, parsed. A [Job] keeps its dispatch
// answer's for as long as it lives, so it holds no raw header map (which
// would cost a pending job over a kilobyte, and may carry cookies); an
// [*APIError] keeps the whole header of an error answer. As JSON (see
// [ResponseMeta.MarshalJSON]) it reads in plain units.
type ResponseMeta struct {
	// StatusCode is the HTTP status.
	StatusCode int `json:"status_code"`
	// JobID is the SharpAPI-Job-Id header of a dispatch.
	JobID string `json:"job_id,omitempty"`
	// Cost is the SharpAPI-Cost header (USD, as SharpAPI formats it).
	Cost string `json:"cost,omitempty"`
	// RetryAfter is the Retry-After header, uncapped; zero if absent.
	RetryAfter time.Duration `json:"-"`
	// RateLimit holds the X-RateLimit-* headers.
	RateLimit RateLimit `json:"rate_limit,omitzero"`
}

// MarshalJSON writes m as a service would return it: RetryAfter as
// "retry_after_seconds" (left out when zero).
func (m ResponseMeta) MarshalJSON() ([]byte, error) {
	type fields ResponseMeta // without this method
	return json.Marshal(struct {
		fields
		RetryAfter float64 `json:"retry_after_seconds,omitempty"`
	}{fields(m), m.RetryAfter.Seconds()})
}

func newResponseMeta(resp *http.Response, now time.Time) ResponseMeta {
	ra, _ := parseRetryAfter(resp.Header.Get("Retry-After"), now)
	return ResponseMeta{
		StatusCode: resp.StatusCode,
		JobID:      resp.Header.Get("SharpAPI-Job-Id"),
		Cost:       resp.Header.Get("SharpAPI-Cost"),
		RetryAfter: ra,
		RateLimit:  parseRateLimit(resp.Header),
	}
}

func parseRateLimit(h http.Header) RateLimit {
	var rl RateLimit
	rl.Limit, _ = strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit")))
	rl.Remaining, _ = strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining")))
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
			rl.Reset = time.Unix(secs, 0)
		} else if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f < 1<<40 { // emulators with a short window send milliseconds
			rl.Reset = time.UnixMilli(int64(math.Round(f * 1000)))
		} else if t, err := http.ParseTime(v); err == nil {
			rl.Reset = t
		}
	}
	return rl
}

// maxRetryAfter bounds a parsed Retry-After so that arithmetic on it cannot
// overflow; callers apply their own, much smaller, caps.
const maxRetryAfter = 365 * 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delay-seconds (integer or
// decimal) or an HTTP-date. Garbage, negative, NaN and infinite values are
// reported as absent; a date in the past is a zero delay.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 {
			return 0, false
		}
		if secs >= maxRetryAfter.Seconds() {
			return maxRetryAfter, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > maxRetryAfter:
		return maxRetryAfter, true
	}
	return d, true
}
