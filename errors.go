package sharpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors. An *APIError matches the status sentinels with errors.Is,
// so callers can branch without string matching:
//
//	if errors.Is(err, sharpapi.ErrQuotaExceeded) { ... }
var (
	// ErrUnauthorized matches an *APIError for HTTP 401 (a missing or wrong API key).
	ErrUnauthorized = errors.New("sharpapi: unauthorized")
	// ErrQuotaExceeded matches an *APIError for HTTP 402 (the word quota is used up).
	ErrQuotaExceeded = errors.New("sharpapi: quota exceeded")
	// ErrNotFound matches an *APIError for HTTP 404.
	ErrNotFound = errors.New("sharpapi: not found")
	// ErrValidation matches an *APIError for HTTP 422 (the server rejected the parameters).
	ErrValidation = errors.New("sharpapi: validation failed")
	// ErrRateLimited matches a *RateLimitError: SharpAPI answered 429, or
	// the client's rate limiter refused to send the request (see
	// [RateLimitError]).
	ErrRateLimited = errors.New("sharpapi: rate limited")
	// ErrJobFailed matches a *JobFailedError: SharpAPI reports the job failed.
	ErrJobFailed = errors.New("sharpapi: job failed")

	// ErrInvalidParams wraps every client-side check of a Params struct; the
	// request was not sent.
	ErrInvalidParams = errors.New("sharpapi: invalid parameters")
	// ErrInvalidOption wraps every rejected option, client-wide or per dispatch.
	ErrInvalidOption = errors.New("sharpapi: invalid option")
	// ErrNoAPIKey is returned by NewClient for an empty API key.
	ErrNoAPIKey = errors.New("sharpapi: API key is required")
	// ErrNotInitialized is returned by the methods of a zero (or nil)
	// Client, Job or WebhookHandler: values that only their constructors
	// ([NewClient], a dispatch method or [ResumeJob], [NewWebhookHandler])
	// make usable.
	ErrNotInitialized = errors.New("sharpapi: not initialized")
	// ErrMalformedResponse wraps a response body SharpAPI should not have sent
	// (not JSON, or missing the fields a job needs).
	ErrMalformedResponse = errors.New("sharpapi: malformed response")
)

// APIError is a non-2xx answer from SharpAPI, kept whole: the status, the
// message and field errors of its JSON body, and the raw body itself. Its
// JSON form has snake_case names and leaves out Header and Body.
type APIError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int `json:"status_code"`
	// Code is the body's "code", when present (402 sends "GEN-PAYMENT-REQUIRED").
	Code string `json:"code,omitempty"`
	// Message is the body's "message" (or "error"), when present.
	Message string `json:"message,omitempty"`
	// Errors holds the per-field messages of a 422 (Laravel's "errors" object).
	Errors map[string][]string `json:"errors,omitempty"`
	// JobID is the job the request concerned: the SharpAPI-Job-Id header, or
	// the job being polled.
	JobID string `json:"job_id,omitempty"`
	// Method and URL identify the request; the URL never carries the API
	// key, a query or user info.
	Method string `json:"method"`
	URL    string `json:"url"`
	// Header is the response header.
	Header http.Header `json:"-"`
	// Body is the raw response body (at most 64 KiB of it), with the
	// client's credentials replaced by "<redacted>", as in every field.
	Body []byte `json:"-"`
}

// Error reports the status and SharpAPI's message; never a credential.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sharpapi: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, " [%s]", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.JobID != "" && !strings.HasSuffix(e.URL, "/"+e.JobID) { // a status URL names its job
		fmt.Fprintf(&b, " (job %s)", e.JobID)
	}
	return b.String()
}

// Is matches the status sentinels: ErrUnauthorized, ErrQuotaExceeded,
// ErrNotFound, ErrValidation and ErrRateLimited.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrQuotaExceeded:
		return e.StatusCode == http.StatusPaymentRequired
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrValidation:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// RateLimitError is a request refused for the plan's rate limit: SharpAPI
// answered 429 and the client's retries ran out, or the client's rate
// limiter refused to send it, because the wait would outlast the caller's
// context (the error then also matches the context's error) or the call
// asked not to wait ([WithMaxRetries](0)). It matches [ErrRateLimited].
type RateLimitError struct {
	// APIError is SharpAPI's 429 answer. When the limiter refused the
	// request, SharpAPI did not answer: only Method and URL are set,
	// StatusCode is 0, and errors.As finds no *APIError in the error.
	APIError
	// RetryAfter is how long to wait before trying again: the 429's
	// Retry-After as SharpAPI sent it (not capped by the client's retry
	// settings; zero if it did not say), or the time until the limiter
	// would have let the request go.
	RetryAfter time.Duration
	// RateLimit holds the X-RateLimit-* headers of the 429, or what the
	// limiter knew of the plan's window.
	RateLimit RateLimit
}

// MarshalJSON writes the [APIError]'s fields, RetryAfter as
// "retry_after_seconds" (left out when zero), and the rate limit.
func (e RateLimitError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		APIError
		RetryAfter float64   `json:"retry_after_seconds,omitempty"`
		RateLimit  RateLimit `json:"rate_limit,omitzero"`
	}{e.APIError, e.RetryAfter.Seconds(), e.RateLimit})
}

// Error reports the 429, or the wait the client's limiter refused.
func (e *RateLimitError) Error() string {
	if e.StatusCode != 0 {
		return e.APIError.Error()
	}
	return fmt.Sprintf("sharpapi: %s %s: rate limited: the plan's window opens in %v",
		e.Method, e.URL, e.RetryAfter.Round(time.Millisecond))
}

// Is matches ErrRateLimited, whether SharpAPI answered 429 or the client
// held the request back.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns SharpAPI's answer, so that errors.As finds an *APIError;
// nil when the limiter refused the request and SharpAPI did not answer.
func (e *RateLimitError) Unwrap() error {
	if e.StatusCode == 0 {
		return nil
	}
	return &e.APIError
}

// JobFailedError is returned by Wait when SharpAPI reports the job failed.
// SharpAPI does not charge for failed jobs; the same request may be re-sent.
type JobFailedError struct {
	// JobID and Type identify the job.
	JobID string  `json:"job_id"`
	Type  JobType `json:"type,omitempty"`
	// Detail is whatever SharpAPI sent as the job's result (often null),
	// with the client's API key replaced by <redacted> wherever it quotes it.
	Detail json.RawMessage `json:"detail,omitempty"`
}

// Is matches [ErrJobFailed].
func (e *JobFailedError) Is(target error) bool { return target == ErrJobFailed }

// Error names the job and what SharpAPI said of its failure, if anything.
func (e *JobFailedError) Error() string {
	msg := "sharpapi: job " + e.JobID + " failed"
	if d := strings.TrimSpace(string(e.Detail)); d != "" && d != "null" {
		if len(d) > 200 {
			d = d[:200] + "..."
		}
		msg += ": " + d
	}
	return msg
}

// waitError is Wait's error when ctx ends first. It names the job once
// and wraps ctx's error and the last failed poll, if the last poll failed.
type waitError struct {
	jobID, statusURL string
	cause, last      error
}

func (e *waitError) Error() string {
	msg := "sharpapi: waiting for job " + e.jobID + ": " + e.cause.Error()
	if e.last != nil {
		// The failure came from the pipeline, which begins by naming the
		// request; the job is named already.
		last := strings.TrimPrefix(e.last.Error(), "sharpapi: GET "+redactURL(e.statusURL)+": ")
		msg += "; the last poll failed: " + last
	}
	return msg
}

func (e *waitError) Unwrap() []error {
	if e.last == nil {
		return []error{e.cause}
	}
	return []error{e.cause, e.last}
}

// maxErrorBody bounds how much of an error response is kept.
const maxErrorBody = 64 << 10

// newAPIError builds the error for a non-2xx response whose body has already
// been read (up to a little more than maxErrorBody: it is cut here, once
// scrubbed, so that no credential straddling the cut is left in part). Bodies that are not JSON are kept raw, with no message. The
// credential the request carried, and secrets, are scrubbed from everything
// the server sent (see scrubAPIError).
func newAPIError(resp *http.Response, body []byte, jobID string, secrets ...string) error {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Body:       body,
		JobID:      jobID,
	}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		e.URL = redactURL(resp.Request.URL.String())
	}
	if id := resp.Header.Get("SharpAPI-Job-Id"); id != "" && e.JobID == "" {
		e.JobID = id
	}
	var parsed struct {
		Code    string              `json:"code"`
		Message string              `json:"message"`
		Error   string              `json:"error"`
		Errors  map[string][]string `json:"errors"`
	}
	if json.Unmarshal(body, &parsed) == nil {
		e.Code, e.Message, e.Errors = parsed.Code, parsed.Message, parsed.Errors
		if e.Message == "" {
			e.Message = parsed.Error
		}
	}
	scrubAPIError(e, resp.Request, secrets)
	if len(e.Body) > maxErrorBody { // nothing to scrub: just cut
		e.Body = e.Body[:maxErrorBody]
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		ra, _ := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return &RateLimitError{APIError: *e, RetryAfter: ra, RateLimit: parseRateLimit(resp.Header)}
	}
	return e
}

// redactURL drops a URL's user info, query and fragment: a URL in an error
// or a log line must not carry a credential someone put there. It never
// quotes what could be a password, even of a URL that does not parse: a
// password may hold the '/', '?', '#' or '@' that would tell where it ends.
func redactURL(raw string) string {
	if !strings.Contains(raw, "@") {
		return cutQuery(raw) // no user info: the common case
	}
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i > 0 && isScheme(raw[:i]) {
		prefix, rest = raw[:i+3], raw[i+3:]
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest, '@')
	if at < end {
		// Every '@' is in the authority: the user info ends at the last
		// one, as url.Parse reads it.
		return prefix + cutQuery(rest[at+1:])
	}
	// An '@' after a '/', '?' or '#': it may end user info that holds
	// them ("http://u:p/w@host", "http://u:1?2@host" parses with host
	// "u:1"). All up to the last '@' goes, and the result says so.
	return prefix + redactedText + "@" + cutQuery(rest[at+1:])
}

// cutQuery drops a URL's query and fragment.
func cutQuery(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return s[:i]
	}
	return s
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter, then
// letters, digits, '+', '-' and '.').
func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}
