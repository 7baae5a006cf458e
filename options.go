package sharpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of a Client. They follow SharpAPI's own guidance and the official
// SDKs: poll every 10 s unless Retry-After says otherwise.
const (
	DefaultBaseURL      = "https://sharpapi.com/api/v1"
	DefaultPollInterval = 10 * time.Second
	// DefaultMaxPollInterval caps any single wait between two status polls,
	// including one asked for by Retry-After.
	DefaultMaxPollInterval = time.Minute
	// DefaultWebhookGrace is how long Wait trusts the webhook before it
	// starts polling. SharpAPI jobs take "a couple of seconds to a minute";
	// a webhook that has not come 90 s after dispatch is more likely lost
	// than late, and polling from then on costs a few requests at most.
	DefaultWebhookGrace = 90 * time.Second
	DefaultRetryMax     = 4
	DefaultRetryWaitMin = 500 * time.Millisecond
	DefaultRetryWaitMax = 30 * time.Second
	// DefaultTimeout bounds one HTTP attempt of the default HTTP client.
	DefaultTimeout = 2 * time.Minute
)

// Option configures a Client in [NewClient]. Every [RequestOption] is an
// Option too, which sets the client's default for that request setting.
// Options that make no sense (a negative duration, an unparsable URL) make
// NewClient fail with an error that matches [ErrInvalidOption].
type Option interface {
	applyClient(*clientConfig) error
}

type optionFunc func(*clientConfig) error

func (f optionFunc) applyClient(c *clientConfig) error { return f(c) }

type clientConfig struct {
	baseURL         *url.URL
	httpClient      *http.Client
	userAgent       string
	logger          *slog.Logger
	retryWaitMin    time.Duration
	retryWaitMax    time.Duration
	pollInterval    time.Duration
	maxPollInterval time.Duration
	webhookGrace    time.Duration
	// webhooks is one pointer further away than it needs to be: fmt,
	// printing a Client value with %s or %q, dereferences a pointer it
	// meets, and the handler's fields hold its secrets; it shows a
	// pointer to a pointer as an address.
	webhooks **WebhookHandler
	// defaults are the RequestOptions given to NewClient: every request's
	// starting point. NewClient moves a default webhook URL, which may carry
	// user info, to webhookURL: fmt prints a *string only as an address.
	defaults           requestConfig
	webhookURL         *string
	unsafeRetryOnError bool
	rateLimit          int
	rateWindow         time.Duration
	rateLimitOff       bool
	observe            observers // WithObserver
	// onDoneTooSoon is how soon after OnDone an ending context is taken
	// for a mistake (a request's context) and warned about; tests shorten
	// or lengthen it.
	onDoneTooSoon time.Duration
}

func defaultClientConfig() clientConfig {
	u, _ := url.Parse(DefaultBaseURL)
	return clientConfig{
		baseURL:         u,
		userAgent:       "sharpapi-go/" + Version,
		defaults:        requestConfig{maxRetries: DefaultRetryMax},
		retryWaitMin:    DefaultRetryWaitMin,
		retryWaitMax:    DefaultRetryWaitMax,
		pollInterval:    DefaultPollInterval,
		maxPollInterval: DefaultMaxPollInterval,
		webhookGrace:    DefaultWebhookGrace,
		onDoneTooSoon:   time.Second,
	}
}

func invalidOption(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidOption, fmt.Sprintf(format, args...))
}

// WithBaseURL points the client at another SharpAPI base URL, such as an
// sharpapitest emulator's URL. It must be absolute http or https.
func WithBaseURL(raw string) Option {
	return optionFunc(func(c *clientConfig) error {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalidOption("base URL %q is not an absolute http(s) URL", redactURL(raw))
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return invalidOption("base URL %q must not carry user info, a query or a fragment", redactURL(raw))
		}
		c.baseURL = u
		return nil
	})
}

// WithHTTPClient sends requests through hc instead of a client of the SDK's
// own (which has a 2-minute per-attempt timeout). The SDK never modifies hc
// and never closes its idle connections. It sends through a copy of hc
// that follows no redirect of a dispatch and none to another scheme, host
// or port; hc's own CheckRedirect rules the redirects left.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *clientConfig) error {
		if hc == nil {
			return invalidOption("HTTP client is nil")
		}
		c.httpClient = hc
		return nil
	})
}

// WithUserAgent replaces the User-Agent header (sharpapi-go/<version>), as
// SharpAPI's affiliate program asks of its members.
func WithUserAgent(ua string) Option {
	return optionFunc(func(c *clientConfig) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
			return invalidOption("user agent must be a non-empty single line")
		}
		c.userAgent = ua
		return nil
	})
}

// WithLogger sends the SDK's log lines to l. Without it the SDK is silent,
// but for a panicking [Job.OnDone] callback: a bug in the caller's code, it
// goes to slog.Default().
// It configures a Client and a WebhookHandler alike. Per-job traffic
// (dispatches, responses, retries, deliveries) is logged at Debug; Info and
// Warn are for what an operator acts on (a 429 pause, a webhook that did not
// come within the grace period, a misconfiguration, a rejected delivery, an
// event bus failing); Error for a panicking callback. No line ever carries
// the API key, a webhook secret or a URL's query or user info.
func WithLogger(l *slog.Logger) LoggerOption { return LoggerOption{l} }

// LoggerOption is the option WithLogger returns; it is both an Option and a
// WebhookOption.
type LoggerOption struct{ l *slog.Logger }

func (o LoggerOption) applyClient(c *clientConfig) error {
	c.logger = o.l
	return nil
}

// WithRetryWait sets the bounds of the exponential backoff between retries
// (defaults 500 ms and 30 s). max also caps a server's Retry-After.
func WithRetryWait(min, max time.Duration) Option {
	return optionFunc(func(c *clientConfig) error {
		if min <= 0 || max < min {
			return invalidOption("retry wait bounds %v..%v are not 0 < min <= max", min, max)
		}
		c.retryWaitMin, c.retryWaitMax = min, max
		return nil
	})
}

// WithPollInterval sets the wait between status polls when SharpAPI sends
// no Retry-After (default 10 s).
func WithPollInterval(d time.Duration) Option {
	return optionFunc(func(c *clientConfig) error {
		if d <= 0 {
			return invalidOption("poll interval %v is not positive", d)
		}
		c.pollInterval = d
		return nil
	})
}

// WithMaxPollInterval caps every wait between status polls, Retry-After
// included (default 1 min), and how long the client's rate limiter holds a
// status poll: a poll held that long goes anyway, as the one request that
// probes the plan's window again (at most one such poll per interval).
func WithMaxPollInterval(d time.Duration) Option {
	return optionFunc(func(c *clientConfig) error {
		if d <= 0 {
			return invalidOption("max poll interval %v is not positive", d)
		}
		c.maxPollInterval = d
		return nil
	})
}

// WithWebhookHandler makes jobs dispatched with a webhook URL ([WithWebhook])
// await their webhook through h, which must be the handler that the URL
// reaches and one [NewWebhookHandler] built: a nil or zero handler makes
// [NewClient] fail with an error wrapping [ErrInvalidOption]. A client that dispatches a job with a webhook URL but has no
// handler logs one Warn: its awaits poll, and the webhook reaches no waiter.
// With several replicas of a service, give h an [eventbus.Bus] ([WithEventBus]):
// the webhook may reach another replica. When that bus keeps a [Ledger],
// the client records each job it dispatches with a webhook there before
// the dispatch returns, and the first client built with h starts h's
// sweeper, which polls overdue jobs through that client; h's Close stops it.
func WithWebhookHandler(h *WebhookHandler) Option {
	return optionFunc(func(c *clientConfig) error {
		if h == nil {
			return invalidOption("webhook handler is nil")
		}
		if h.waiting == nil {
			// A zero handler has no secret and no table of waiters: its
			// webhooks would all be refused and its jobs would poll at
			// once, with nothing said. Refused here, where it is made.
			return invalidOption("webhook handler is a zero WebhookHandler: build it with NewWebhookHandler")
		}
		c.webhooks = &h
		return nil
	})
}

// webhookHandler returns the handler of WithWebhookHandler, or nil.
func (c *clientConfig) webhookHandler() *WebhookHandler {
	if c.webhooks == nil {
		return nil
	}
	return *c.webhooks
}

// WithWebhookGrace sets how long Wait relies on the webhook alone before it
// starts polling as a fallback (default 90 s). Zero polls from the start.
func WithWebhookGrace(d time.Duration) Option {
	return optionFunc(func(c *clientConfig) error {
		if d < 0 {
			return invalidOption("webhook grace %v is negative", d)
		}
		c.webhookGrace = d
		return nil
	})
}

// WithUnsafeDispatchRetries also retries a dispatch POST on 5xx answers and
// on network errors that may have happened after SharpAPI received it. That
// can create, and bill, the same job twice; without this option a dispatch
// is retried only on 429, 503 and errors that prove it never arrived.
func WithUnsafeDispatchRetries() Option {
	return optionFunc(func(c *clientConfig) error {
		c.unsafeRetryOnError = true
		return nil
	})
}

// WithRateLimit tells the client the plan's limit up front: n requests per
// window per (SharpAPI's window is a minute). Without it the limiter learns
// the limit from the first answer's X-RateLimit-* headers, and from Quota
// when it is called; with it, requests are also spaced n per window when
// the server sends no such headers. A window other than a minute serves
// emulators with a short one.
func WithRateLimit(n int, per time.Duration) Option {
	return optionFunc(func(c *clientConfig) error {
		if n <= 0 || per <= 0 {
			return invalidOption("rate limit %d per %v is not positive", n, per)
		}
		c.rateLimit, c.rateWindow = n, per
		return nil
	})
}

// WithoutRateLimiter turns the client's rate limiter off: requests go as
// soon as they are made and a 429 delays only the request that drew it (by
// its retries). For callers that limit their own rate. [Client.Limiter]
// still counts requests and 429s.
func WithoutRateLimiter() Option {
	return optionFunc(func(c *clientConfig) error {
		c.rateLimitOff = true
		return nil
	})
}

func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(raw, "\r\n") {
		return invalidOption("webhook URL %q is not an absolute http(s) URL", redactURL(raw))
	}
	return nil
}
