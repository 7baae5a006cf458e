package sharpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RequestOption configures one call: a job dispatch (Translate, ParseResume,
// ...) or a synchronous call (Ping, Quota, ScrapeURL, ...). The client's
// options are the defaults; a RequestOption overrides them for that call
// only, never for the status polls of the job it dispatches. An invalid
// option fails the call, before anything is sent, with an error that
// matches [ErrInvalidOption].
type RequestOption func(*requestConfig) error

// requestConfig is what the RequestOptions of one call asked for.
type requestConfig struct {
	sync      bool // a synchronous call: no job, no webhook
	webhook   string
	noWebhook bool
	timeout   time.Duration
	// maxRetries is the retries after the first attempt; -1 keeps the
	// client's WithRetryMax.
	maxRetries int
	header     http.Header
	// unmetered requests (ping, quota) are neither counted by SharpAPI's
	// rate limit nor held by the client's limiter.
	unmetered bool
}

// newRequestConfig applies opts to the defaults of a dispatch (sync false)
// or of a synchronous call.
func newRequestConfig(opts []RequestOption, sync bool) (*requestConfig, error) {
	rq := &requestConfig{sync: sync, maxRetries: -1}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(rq); err != nil {
			return nil, err
		}
	}
	return rq, nil
}

// WithWebhook asks SharpAPI to send this job's webhook to url (the
// Job-Webhook header), instead of the client's [WithDefaultWebhook]. The URL
// must be absolute http(s). Synchronous calls have no job and no webhook: on
// them WithWebhook is an error (a webhook that never comes is worse than a
// call that fails at once).
func WithWebhook(url string) RequestOption {
	return func(rq *requestConfig) error {
		if rq.sync {
			return invalidOption("WithWebhook applies to job dispatches; a synchronous call sends no webhook")
		}
		if err := checkWebhookURL(url); err != nil {
			return err
		}
		rq.webhook = url
		return nil
	}
}

// WithoutWebhook dispatches this job with no Job-Webhook header even if the
// client has a default webhook URL; Wait then polls. Synchronous calls,
// which send no webhook anyway, accept it.
func WithoutWebhook() RequestOption {
	return func(rq *requestConfig) error {
		rq.noWebhook = true
		return nil
	}
}

// WithRequestTimeout bounds this call, all its attempts, retries and
// rate-limit waits included, by d. It does not bound the job's Wait, which
// takes its own context.
func WithRequestTimeout(d time.Duration) RequestOption {
	return func(rq *requestConfig) error {
		if d <= 0 {
			return invalidOption("request timeout %v is not positive", d)
		}
		rq.timeout = d
		return nil
	}
}

// WithMaxRetries sets how many times this call is retried after its first
// attempt, overriding the client's [WithRetryMax]. Zero fails fast: no retry,
// a 429 included, and no wait for the plan's window either: a request the
// client's rate limiter would hold until the window resets (or a 429's
// pause ends) fails at once with a [*RateLimitError] whose Wait says for
// how long.
func WithMaxRetries(n int) RequestOption {
	return func(rq *requestConfig) error {
		if n < 0 {
			return invalidOption("max retries %d is negative", n)
		}
		rq.maxRetries = n
		return nil
	}
}

// WithHeader adds a header to this call's request, such as a tracing or
// correlation id. Headers the SDK owns or that would break the request are
// refused: Authorization and other credentials, Host and the hop-by-hop
// and framing headers, Content-Type, Accept, User-Agent (see
// [WithUserAgent]) and Job-Webhook (see [WithWebhook]).
func WithHeader(key, value string) RequestOption {
	return func(rq *requestConfig) error {
		if !validHeaderName(key) {
			return invalidOption("header name %q is not a valid HTTP token", key)
		}
		canon := http.CanonicalHeaderKey(key)
		if why, ok := reservedHeaders[canon]; ok {
			return invalidOption("header %s cannot be set per request: %s", canon, why)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return invalidOption("header %s: value contains a line break or NUL", canon)
		}
		if rq.header == nil {
			rq.header = http.Header{}
		}
		rq.header.Add(canon, value)
		return nil
	}
}

// reservedHeaders says why each header is not the caller's to set.
var reservedHeaders = map[string]string{
	"Authorization":       "the client sends the API key",
	"Proxy-Authorization": "a credential",
	"Cookie":              "a credential",
	"Host":                "it names the server",
	"Content-Length":      "the body frames the request",
	"Transfer-Encoding":   "the body frames the request",
	"Content-Type":        "the endpoint sets it",
	"Accept":              "the SDK decodes JSON only",
	"User-Agent":          "use WithUserAgent",
	"Job-Webhook":         "use WithWebhook",
	"Connection":          "a hop-by-hop header",
	"Keep-Alive":          "a hop-by-hop header",
	"Proxy-Connection":    "a hop-by-hop header",
	"Te":                  "a hop-by-hop header",
	"Trailer":             "a hop-by-hop header",
	"Upgrade":             "a hop-by-hop header",
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c <= ' ' || c == 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// unmetered marks ping and quota, which SharpAPI neither counts nor limits.
func unmetered(rq *requestConfig) error {
	rq.unmetered = true
	return nil
}

// withUnmetered appends unmetered to opts without writing into the
// caller's slice.
func withUnmetered(opts []RequestOption) []RequestOption {
	return append(opts[:len(opts):len(opts)], unmetered)
}

// webhookFor returns the Job-Webhook URL of a dispatch: the option's, the
// client's default, or none.
func (rq *requestConfig) webhookFor(c *Client) string {
	switch {
	case rq.noWebhook:
		return ""
	case rq.webhook != "":
		return rq.webhook
	}
	return c.cfg.defaultWebhook
}

// prepareRequest applies r's request options to one pass through the
// pipeline: the timeout, the caller's headers, the retry count, and the
// call's place in the rate limiter. end releases what it holds.
func (c *Client) prepareRequest(ctx context.Context, rc *retryablehttp.Client, r request) (context.Context, *retryablehttp.Client, request, context.CancelFunc) {
	rq := r.opts
	if rq == nil {
		rq = &requestConfig{maxRetries: -1}
	}
	end := func() {}
	if rq.timeout > 0 {
		ctx, end = context.WithTimeout(ctx, rq.timeout)
	}
	if len(rq.header) > 0 {
		h := r.header.Clone()
		if h == nil {
			h = http.Header{}
		}
		for k, v := range rq.header {
			h[k] = v
		}
		r.header = h
	}
	st := &callState{class: classCall, failFast: rq.maxRetries == 0, unmetered: rq.unmetered}
	if r.method == http.MethodGet && r.jobID != "" {
		st.class = classPoll
	}
	ctx = context.WithValue(ctx, callKey{}, st)
	// A copy per call: retryablehttp's RetryMax and CheckRetry belong to
	// its Client, and this call may want its own.
	cp := &retryablehttp.Client{
		HTTPClient:      rc.HTTPClient,
		Logger:          rc.Logger,
		RetryWaitMin:    rc.RetryWaitMin,
		RetryWaitMax:    rc.RetryWaitMax,
		RetryMax:        rc.RetryMax,
		RequestLogHook:  rc.RequestLogHook,
		ResponseLogHook: rc.ResponseLogHook,
		CheckRetry:      c.limiter.checkRetry(rc.CheckRetry),
		Backoff:         c.limiter.backoff(rc.Backoff),
		ErrorHandler:    rc.ErrorHandler,
		PrepareRetry:    rc.PrepareRetry,
	}
	if rq.maxRetries >= 0 {
		cp.RetryMax = rq.maxRetries
	}
	return ctx, cp, r, end
}
