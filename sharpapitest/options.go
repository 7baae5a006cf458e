package sharpapitest

import (
	"log/slog"
	"net/http"
	"time"
)

// Option configures an Emulator or a Server.
type Option func(*config)

// ResultFunc computes the result of one job from its request. Its return
// value is encoded as JSON (a json.RawMessage is sent as is). A non-nil
// error fails the job: its status becomes "failed" and its result null.
type ResultFunc func(r JobRequest) (any, error)

type config struct {
	apiKey            string
	baseURL           string
	webhookURL        string
	webhookSecret     string
	includeResult     bool
	jobDuration       time.Duration
	retryAfter        time.Duration
	fixedRetryAfter   bool
	genericStatusURL  bool
	clock             Clock
	results           map[string]ResultFunc
	workflows         []Workflow
	wordQuota         int
	rateLimit         int
	rateWindow        time.Duration // h6 (issue 11): ratelimit.go
	seed              uint64
	faults            Faults
	webhookRetryDelay time.Duration
	webhookTimeout    time.Duration
	webhookClient     *http.Client
	recordLimit       int
	logger            *slog.Logger
}

// Defaults of the options.
const (
	// DefaultJobDuration is short, so that tests polling in real time finish quickly.
	DefaultJobDuration = 20 * time.Millisecond
	// DefaultWordQuota is the words quota of SharpAPI's documented example.
	DefaultWordQuota = 100000
	// DefaultRateLimit (requests per minute) is far above any plan's, so
	// that a test suite never meets it by accident; WithRateLimit(60)
	// mimics a small plan.
	DefaultRateLimit = 1000
	// DefaultWebhookRetryDelay spaces webhook attempts; SharpAPI does not
	// document its spacing.
	DefaultWebhookRetryDelay = time.Second
	// DefaultWebhookTimeout bounds one webhook attempt.
	DefaultWebhookTimeout = 10 * time.Second
)

func defaultConfig() config {
	return config{
		includeResult:     true,
		jobDuration:       DefaultJobDuration,
		clock:             realClock{},
		results:           map[string]ResultFunc{},
		wordQuota:         DefaultWordQuota,
		rateLimit:         DefaultRateLimit,
		seed:              1,
		webhookRetryDelay: DefaultWebhookRetryDelay,
		webhookTimeout:    DefaultWebhookTimeout,
	}
}

// WithAPIKey makes the emulator accept only "Authorization: Bearer key".
// Without it any non-empty bearer token is accepted. Either way a missing
// or rejected key is answered 401 {"message":"Unauthenticated."}.
func WithAPIKey(key string) Option {
	return func(c *config) { c.apiKey = key }
}

// WithBaseURL sets the external base URL (ending in /api/v1) the emulator
// writes into status URLs and pagination links. NewServer sets it; set it
// yourself only when mounting an Emulator on your own server behind a proxy.
// By default it is derived from each request's Host header.
func WithBaseURL(u string) Option {
	return func(c *config) { c.baseURL = u }
}

// WithWebhookURL sets the account-level webhook URL, SharpAPI's dashboard
// setting. A dispatch's Job-Webhook header overrides it for that job.
// Nothing is delivered unless WithWebhookSecret is also given.
func WithWebhookURL(u string) Option {
	return func(c *config) { c.webhookURL = u }
}

// WithWebhookSecret sets the secret that signs webhooks (the X-Signature
// header). Without a secret the emulator sends no webhooks at all, neither
// to the account URL nor to Job-Webhook URLs.
func WithWebhookSecret(secret string) Option {
	return func(c *config) { c.webhookSecret = secret }
}

// WithWebhookResult sets SharpAPI's "Include AI Job Result" switch: whether
// webhook payloads carry the job's result. The default is true.
func WithWebhookResult(include bool) Option {
	return func(c *config) { c.includeResult = include }
}

// WithWebhookRetryDelay sets the wait between delivery attempts of one
// webhook (DefaultWebhookRetryDelay). It is measured with the emulator's Clock.
func WithWebhookRetryDelay(d time.Duration) Option {
	return func(c *config) { c.webhookRetryDelay = max(d, 0) }
}

// WithWebhookTimeout bounds each webhook attempt (DefaultWebhookTimeout).
// It is ignored when WithWebhookClient is given.
func WithWebhookTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.webhookTimeout = d
		}
	}
}

// WithWebhookClient sets the client that delivers webhooks, for example a
// receiver's httptest TLS client.
func WithWebhookClient(hc *http.Client) Option {
	return func(c *config) { c.webhookClient = hc }
}

// WithJobDuration sets how long a job takes from dispatch to its final
// state (DefaultJobDuration). Zero finishes jobs at once.
func WithJobDuration(d time.Duration) Option {
	return func(c *config) { c.jobDuration = max(d, 0) }
}

// WithRetryAfter fixes the Retry-After header of dispatch answers and of
// unfinished status answers, zero included. By default it is the time left
// until the job finishes, rounded up to whole seconds and at least 1 while
// the job is unfinished. Unlike SharpAPI, which sends whole seconds, a
// fixed value below a second is written as a decimal ("0.05") so that
// clients under test need not wait a full second; parse it accordingly.
func WithRetryAfter(d time.Duration) Option {
	return func(c *config) { c.retryAfter, c.fixedRetryAfter = max(d, 0), true }
}

// WithGenericStatusURL makes dispatches hand out the older, generic status
// URL {base}/job/status/{id}, whose answers carry the result as a
// JSON-encoded string. By default they hand out the endpoint-specific
// {base}/{group}/{action}/job/status/{id}. Both URLs work for every job.
func WithGenericStatusURL() Option {
	return func(c *config) { c.genericStatusURL = true }
}

// WithClock sets the emulator's source of time; see ManualClock.
func WithClock(clk Clock) Option {
	return func(c *config) {
		if clk != nil {
			c.clock = clk
		}
	}
}

// WithResult replaces the canned result of one job type (such as
// "content_translate", "invoice_parse" or "custom_sentiment_analysis") with
// f's answer to each request.
func WithResult(jobType string, f ResultFunc) Option {
	return func(c *config) {
		if f != nil {
			c.results[jobType] = f
		}
	}
}

// WithWorkflow adds a custom workflow, or replaces the built-in one with
// the same slug.
func WithWorkflow(w Workflow) Option {
	return func(c *config) { c.workflows = append(c.workflows, w) }
}

// WithWordQuota sets the monthly word quota (DefaultWordQuota). Words are
// counted in the "content" field of each dispatch. Once the quota is used
// up, or when a dispatch's words would go past it, the dispatch is answered
// 402 GEN-PAYMENT-REQUIRED. Failed jobs are not charged, as on SharpAPI.
func WithWordQuota(words int) Option {
	return func(c *config) { c.wordQuota = max(words, 0) }
}

// WithRateLimit sets the requests allowed per minute (DefaultRateLimit, at
// least 1), counted in fixed one-minute windows of the emulator's Clock. /ping and
// /quota are neither counted nor limited, and carry no X-RateLimit-* headers.
func WithRateLimit(perMinute int) Option {
	return func(c *config) { c.rateLimit = max(perMinute, 1) }
}

// WithSeed seeds the random choices of the fault options (default 1), so a
// given sequence of requests meets the same faults on every run.
func WithSeed(seed uint64) Option {
	return func(c *config) { c.seed = seed }
}

// WithRecordLimit keeps only the latest n recorded requests and deliveries
// of each kind (0, the default, keeps all).
func WithRecordLimit(n int) Option {
	return func(c *config) { c.recordLimit = max(n, 0) }
}

// WithLogger logs each request and each webhook attempt to l. API keys,
// webhook secrets and URL queries are never logged. The default is silence.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
