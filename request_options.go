package sharpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RequestOption configures requests. Passed to a method ([Client.Translate],
// [Client.Ping], ...), it applies to that call only. Passed to [NewClient],
// it sets the client's default for every request the client sends, status
// polls included; an option of the same kind given to a method overrides
// the default for that call ([WithoutWebhook] overrides a default
// [WithWebhook]). An invalid option fails NewClient, or the call before
// anything is sent, with an error that matches [ErrInvalidOption].
type RequestOption interface {
	Option
	applyRequest(*requestConfig) error
}

// requestOption is a RequestOption: as an Option it edits the client's
// defaults.
type requestOption func(*requestConfig) error

func (o requestOption) applyRequest(rq *requestConfig) error { return o(rq) }

func (o requestOption) applyClient(c *clientConfig) error { return o(&c.defaults) }

// requestConfig is what the RequestOptions of one call asked for, on top of
// the client's defaults (a requestConfig too).
type requestConfig struct {
	sync    bool   // a synchronous call: no job, no webhook
	webhook string // the Job-Webhook URL of a dispatch; "" for none
	timeout time.Duration
	// maxRetries is the retries after the first attempt.
	maxRetries int
	header     http.Header
	// unmetered requests (ping, quota) are neither counted by SharpAPI's
	// rate limit nor held by the client's limiter.
	unmetered bool
}

// newRequestConfig applies opts on top of the client's defaults, for a
// dispatch (sync false) or a synchronous call. A header given here replaces
// a default header of the same name.
func (c *Client) newRequestConfig(opts []RequestOption, sync bool) (*requestConfig, error) {
	rq := &requestConfig{sync: sync, timeout: c.cfg.defaults.timeout, maxRetries: c.cfg.defaults.maxRetries}
	if u := c.cfg.webhookURL; u != nil {
		rq.webhook = *u
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.applyRequest(rq); err != nil {
			return nil, err
		}
	}
	if len(c.cfg.defaults.header) > 0 {
		h := c.cfg.defaults.header.Clone()
		for k, v := range rq.header {
			h[k] = v
		}
		rq.header = h
	}
	return rq, nil
}

// WithWebhook asks SharpAPI to send the job's webhook to url (the
// Job-Webhook header); the client's [WebhookHandler], mounted at url, then
// hands it to the job's await. Given to [NewClient], it is the webhook URL of
// every dispatch. The URL must be absolute http(s). Synchronous calls have
// no job and no webhook: given to one of them, WithWebhook is an error (a
// webhook that never comes is worse than a call that fails at once); a
// client default does not apply to them.
func WithWebhook(url string) RequestOption {
	return requestOption(func(rq *requestConfig) error {
		if rq.sync {
			return invalidOption("WithWebhook applies to job dispatches; a synchronous call sends no webhook")
		}
		if err := checkWebhookURL(url); err != nil {
			return err
		}
		rq.webhook = url
		return nil
	})
}

// WithoutWebhook dispatches the job with no Job-Webhook header even if the
// client has a default webhook URL; its awaits then poll. Synchronous
// calls, which send no webhook anyway, accept it.
func WithoutWebhook() RequestOption {
	return requestOption(func(rq *requestConfig) error {
		rq.webhook = ""
		return nil
	})
}

// WithRequestTimeout bounds a call, all its attempts, retries and
// rate-limit waits included, by d (given to [NewClient]: each call, and each
// status poll). It does not bound a job's await, which takes its own
// context.
func WithRequestTimeout(d time.Duration) RequestOption {
	return requestOption(func(rq *requestConfig) error {
		if d <= 0 {
			return invalidOption("request timeout %v is not positive", d)
		}
		rq.timeout = d
		return nil
	})
}

// WithMaxRetries sets how many times a request is retried after its first
// attempt (default [DefaultRetryMax]). Zero fails fast: no retry, a 429
// included, and no wait for the plan's window either: a request the
// client's rate limiter would hold until the window resets (or a 429's
// pause ends) fails at once with a [*RateLimitError] whose RetryAfter says
// for how long.
func WithMaxRetries(n int) RequestOption {
	return requestOption(func(rq *requestConfig) error {
		if n < 0 {
			return invalidOption("max retries %d is negative", n)
		}
		rq.maxRetries = n
		return nil
	})
}

// WithHeader adds a header to a request, such as a tracing or correlation
// id (given to [NewClient]: to every request; given to a call, it replaces a
// default of the same name). Headers the SDK owns or that would break the
// request are refused: Authorization and other credentials, Host and the
// hop-by-hop and framing headers, Content-Type, Accept, User-Agent (see
// [WithUserAgent]) and Job-Webhook (see [WithWebhook]).
func WithHeader(key, value string) RequestOption {
	return requestOption(func(rq *requestConfig) error {
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
	})
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
var unmetered = requestOption(func(rq *requestConfig) error {
	rq.unmetered = true
	return nil
})

// withUnmetered appends unmetered to opts without writing into the
// caller's slice.
func withUnmetered(opts []RequestOption) []RequestOption {
	return append(opts[:len(opts):len(opts)], unmetered)
}

// prepareRequest applies r's request options to one pass through the
// pipeline: the timeout, the caller's headers, the retry count, and the
// call's place in the rate limiter. end releases what it holds.
func (c *Client) prepareRequest(ctx context.Context, rc *retryablehttp.Client, r request) (context.Context, *retryablehttp.Client, request, context.CancelFunc) {
	rq := r.opts
	if rq == nil {
		rq = &c.cfg.defaults // a status poll
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
		st.class, st.jobID = classPoll, r.jobID
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
	cp.RetryMax = rq.maxRetries
	return ctx, cp, r, end
}
