package sharpapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Client calls SharpAPI. It is safe for concurrent use; build one per API
// key and share it.
type Client struct {
	// apiKey and cfg (which holds the default webhook URL, user info and
	// all) are behind pointers because fmt prints a Client value field by
	// field, bypassing methods, and shows a pointer only as its address.
	apiKey *string
	cfg    *clientConfig
	log    *slog.Logger // never nil: a discarding logger when silent
	// keyID is the key's fingerprint for a ledger (ledgerKeyID), worked
	// out once rather than at every dispatch.
	keyID string

	// reads sends status polls and synchronous calls, which change nothing
	// and so retry any transient failure; dispatches sends job POSTs, which
	// retry only what proves SharpAPI created no job. They share one
	// http.Client and differ only in their retry policy.
	reads, dispatches *retryablehttp.Client

	rateLimit atomic.Pointer[RateLimit]
	limiter   *limiter // spaces requests within the plan (ratelimit.go)

	// warnNoHandler says once that jobs are dispatched with a webhook URL
	// but their awaits cannot hear it.
	warnNoHandler sync.Once
	// callbackPanics counts the OnDone callbacks that panicked (await.go).
	callbackPanics atomic.Uint64
}

// errZeroClient is what a zero Client's methods report.
var errZeroClient = fmt.Errorf("%w: a zero Client: build one with NewClient", ErrNotInitialized)

// ready reports why c cannot send a request for ctx: a zero Client, or a
// nil Context.
func (c *Client) ready(ctx context.Context) error {
	if c == nil || c.apiKey == nil || c.cfg == nil {
		return errZeroClient
	}
	if ctx == nil {
		return fmt.Errorf("%w: nil Context", ErrInvalidParams)
	}
	return nil
}

// NewClient returns a client that authenticates with apiKey. opts are the
// client's [Option]s, among them any [RequestOption], which then sets the
// default of every request (for example [WithWebhook] for every dispatch,
// [WithMaxRetries] for every request). An empty key or an invalid option is
// an error; nothing is sent until the first call.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, ErrNoAPIKey
	}
	if strings.ContainsAny(apiKey, "\r\n") {
		return nil, fmt.Errorf("%w: API key contains a line break", ErrInvalidOption)
	}
	cfg := defaultClientConfig()
	var errs []error
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.applyClient(&cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if u := cfg.defaults.webhook; u != "" {
		cfg.webhookURL, cfg.defaults.webhook = &u, ""
	}
	c := &Client{apiKey: &apiKey, keyID: ledgerKeyID(apiKey), cfg: &cfg, log: cfg.logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.limiter = newLimiter(cfg, c.log)
	hc := cfg.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	// retryablehttp closes idle connections when it gives up; on a client
	// the caller shares, that would cost everyone else their pool.
	shared := *hc
	rt := shared.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	shared.Transport = keepIdle{rt}
	shared.CheckRedirect = checkRedirect(hc.CheckRedirect)
	shared.Transport = c.limiter.wrap(shared.Transport) // every attempt, retries included, passes the limiter
	c.reads = c.newRetryClient(&shared, c.retryRead)
	c.dispatches = c.newRetryClient(&shared, c.retryDispatch)
	if h := cfg.webhookHandler(); h != nil {
		h.adoptClient(c) // with a ledger, the handler's sweeper polls through c
	}
	return c, nil
}

// checkRedirect refuses what would carry the key or a job elsewhere: any
// redirect of a POST (a 307 would re-send the job to another URL, a 302
// would turn it into a GET whose 202 looks like a created job), and any
// redirect to another scheme, host or port (Go keeps Authorization when
// only the scheme or port changes). Other redirects go to next, the
// caller's own policy, or Go's default of at most 10.
func checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0]
		status := 0
		if req.Response != nil {
			status = req.Response.StatusCode
		}
		if first.Method == http.MethodPost {
			return &redirectError{fmt.Errorf("answered %d redirect to another URL; dispatches follow no redirect", status)}
		}
		if origin(req.URL) != origin(first.URL) {
			return &redirectError{fmt.Errorf("answered %d redirect to another origin, %s; redirects are followed within the origin only",
				status, origin(req.URL))}
		}
		if next == nil {
			if len(via) >= 10 {
				return &redirectError{errors.New("stopped after 10 redirects")}
			}
			return nil
		}
		err := next(req, via)
		if err == nil || errors.Is(err, http.ErrUseLastResponse) {
			return err
		}
		return &redirectError{err}
	}
}

// redirectError is a redirect the client refused. It is final: retrying
// would meet the same redirect.
type redirectError struct{ err error }

func (e *redirectError) Error() string { return e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// keepIdle hides the transport's CloseIdleConnections from retryablehttp.
type keepIdle struct{ http.RoundTripper }

func (c *Client) newRetryClient(hc *http.Client, check retryablehttp.CheckRetry) *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient:   hc,
		RetryMax:     c.cfg.defaults.maxRetries,
		RetryWaitMin: c.cfg.retryWaitMin,
		RetryWaitMax: c.cfg.retryWaitMax,
		CheckRetry:   check,
		Backoff:      backoff,
		// Hand back the last response as it is, so it becomes an *APIError
		// with its status and body instead of "giving up after N attempts".
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		// retryablehttp's own log lines print whole URLs, query and user
		// info included: it gets no logger, and each retry is logged here.
		Logger: nil,
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, attempt int) {
			if attempt > 0 {
				c.log.LogAttrs(req.Context(), slog.LevelDebug, "sharpapi retrying request", slog.String("method", req.Method),
					slog.String("url", redactURL(req.URL.String())), slog.Int("attempt", attempt+1))
			}
		},
	}
}

// retryRead is the policy of GETs: they change nothing, so any error that
// may be transient is retried.
func (c *Client) retryRead(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return transientNetError(err), nil
	}
	return resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented), nil
}

// retryDispatch is the policy of job dispatches. SharpAPI has no idempotency
// key, so a POST it may have received is never re-sent: a second one would
// create, and bill, a second job. 429 and 503 say the request was refused
// before any work; a dial error says it never left.
func (c *Client) retryDispatch(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if c.cfg.unsafeRetryOnError {
		return c.retryRead(ctx, resp, err)
	}
	if err != nil {
		return neverSent(err), nil
	}
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable, nil
}

// neverSent reports errors that prove no byte of the request reached a
// server: failing to resolve or to connect.
func neverSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// transientNetError reports transport errors worth retrying: not a bad
// certificate, scheme or a refused redirect, which will fail the same way
// again.
func transientNetError(err error) bool {
	var (
		verifyErr    *tls.CertificateVerificationError
		authorityErr x509.UnknownAuthorityError
		hostErr      x509.HostnameError
		invalidErr   x509.CertificateInvalidError
		redirectErr  *redirectError
	)
	if errors.As(err, &verifyErr) || errors.As(err, &authorityErr) ||
		errors.As(err, &hostErr) || errors.As(err, &invalidErr) || errors.As(err, &redirectErr) {
		return false
	}
	msg := err.Error()
	return !strings.Contains(msg, "unsupported protocol scheme") && !strings.Contains(msg, "invalid header")
}

// backoff waits what Retry-After asks on 429 and 503, capped at max, and
// otherwise an exponential delay with equal jitter (half fixed, half random)
// so that many clients refused together do not come back together.
func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp == nil {
		return retryDelay(min, max, attempt, 0, nil)
	}
	return retryDelay(min, max, attempt, resp.StatusCode, resp.Header)
}

// retryDelay is backoff for an answer known by its status and header; zero
// and nil for a request that got no answer.
func retryDelay(min, max time.Duration, attempt, status int, header http.Header) time.Duration {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if d, ok := parseRetryAfter(header.Get("Retry-After"), time.Now()); ok {
			return minDuration(d, max)
		}
	}
	d := max
	if attempt < 32 && min<<attempt > 0 && min<<attempt < max {
		d = min << attempt
	}
	return d/2 + rand.N(d/2+1)
}

func minDuration(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}

// maxResponseBody bounds a successful response body read into memory.
const maxResponseBody = 64 << 20

// request is one call through the pipeline.
type request struct {
	method      string
	url         string
	body        any // nil, []byte or retryablehttp.ReaderFunc
	contentType string
	header      http.Header
	jobID       string         // for errors about a known job
	opts        *requestConfig // the call's RequestOptions; nil for polls
	// maxBody, when positive, bounds a successful body instead of
	// maxResponseBody: a sweeper reads a status answer under a webhook
	// body's cap.
	maxBody int64
}

// errResponseTooLarge marks (besides ErrMalformedResponse) a successful
// response whose body exceeds the bound the caller set.
var errResponseTooLarge = errors.New("response body too large")

// do sends r and returns the 2xx response with its body read, or an error:
// an *APIError (or *RateLimitError) for any other status, a wrapped
// transport error, or a wrapped ctx error.
func (c *Client) do(ctx context.Context, rc *retryablehttp.Client, r request) (*http.Response, []byte, error) {
	ctx, rc, r, end := c.prepareRequest(ctx, rc, r)
	defer end()
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, r.url, r.body)
	if err != nil {
		return nil, nil, fmt.Errorf("sharpapi: %s %s: %w", r.method, redactURL(r.url), err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	// The key goes to SharpAPI's origin only, whatever URL reached here.
	if c.sameOrigin(req.URL) {
		req.Header.Set("Authorization", "Bearer "+*c.apiKey)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.userAgent)
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		// Go's transport quotes a malformed answer as sent: scrubbed.
		err = newScrubber(*c.apiKey, requestCredential(req.Request)).err(scrubURLError(err))
		return nil, nil, fmt.Errorf("sharpapi: %s %s: %w", r.method, redactURL(r.url), err)
	}
	defer resp.Body.Close()
	if rl := parseRateLimit(resp.Header); rl != (RateLimit{}) {
		c.rateLimit.Store(&rl)
	}
	limit := int64(maxResponseBody)
	if r.maxBody > 0 {
		limit = r.maxBody
	}
	if resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		err = newScrubber(*c.apiKey, requestCredential(req.Request)).err(err)
		return nil, nil, fmt.Errorf("sharpapi: %s %s: reading response: %w", r.method, redactURL(r.url), err)
	}
	if int64(len(body)) > limit && resp.StatusCode < 300 {
		return nil, nil, fmt.Errorf("%w: %s %s: body exceeds %d bytes (%w)", ErrMalformedResponse, r.method, redactURL(r.url), limit, errResponseTooLarge)
	}
	// An error body over maxErrorBody is cut by newAPIError, once scrubbed.
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return nil, nil, newAPIError(resp, body, r.jobID, *c.apiKey)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "sharpapi response",
		slog.String("method", r.method), slog.String("url", redactURL(r.url)), slog.Int("status", resp.StatusCode))
	return resp, body, nil
}

// scrubURLError drops the *url.Error layer, whose message repeats the URL
// with its query; the caller's message names the URL without it.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// endpoint resolves an API path (such as "/content/translate") against the
// base URL, with an optional query.
func (c *Client) endpoint(path string, query url.Values) string {
	u := *c.cfg.baseURL
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return u.String()
}

// sameOrigin reports whether u has the base URL's scheme, host and port:
// the only origin the API key is sent to.
func (c *Client) sameOrigin(u *url.URL) bool {
	return origin(u) == origin(c.cfg.baseURL)
}

// origin returns u's scheme, host and port, the port made explicit, so
// that "http://h" and "http://h:80" compare equal.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// getJSON calls a synchronous endpoint and decodes its JSON answer into out.
func (c *Client) getJSON(ctx context.Context, path string, query url.Values, out any, opts ...RequestOption) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	rq, err := c.newRequestConfig(opts, true)
	if err != nil {
		return err
	}
	u := c.endpoint(path, query)
	_, body, err := c.do(ctx, c.reads, request{method: http.MethodGet, url: u, opts: rq})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%w: GET %s: %w", ErrMalformedResponse, redactURL(u), err)
	}
	return nil
}

// RateLimit returns the X-RateLimit-* headers of the most recent response
// that carried them; the zero value before any did.
func (c *Client) RateLimit() RateLimit {
	if c == nil {
		return RateLimit{}
	}
	if rl := c.rateLimit.Load(); rl != nil {
		return *rl
	}
	return RateLimit{}
}
