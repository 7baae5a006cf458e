package sharpapitest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Option configures an Emulator or a Server. An option given a value that
// makes no sense (a negative duration, a rate outside [0, 1], a nil
// function, an empty secret) makes [New] and [NewEmulator] return an error
// that wraps [ErrInvalidOption], and [NewServer] panic with it.
type Option func(*config) error

// ErrInvalidOption wraps every option value the emulator rejects.
var ErrInvalidOption = errors.New("sharpapitest: invalid option")

// invalid reports a bad value given to the option named opt.
func invalid(opt, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidOption, opt, fmt.Sprintf(format, args...))
}

// nonNegative rejects a negative duration given to opt.
func nonNegative(opt string, d time.Duration) error {
	if d < 0 {
		return invalid(opt, "negative duration %v", d)
	}
	return nil
}

// httpURL rejects what is not an absolute http or https URL. The URL is
// not quoted back: its query or user info may hold a credential.
func httpURL(opt, raw string) error {
	if !validWebhookURL(raw) {
		return invalid(opt, "%q is not an absolute http(s) URL", redactURL(raw))
	}
	return nil
}

// apply runs opts on cfg and reports every bad value at once. The faults
// are checked last, as a whole, since several options set them.
func (cfg *config) apply(opts []Option) error {
	var errs []error
	for _, o := range opts {
		if o != nil {
			errs = append(errs, o(cfg))
		}
	}
	if err := cfg.faults.validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: faults: %w", ErrInvalidOption, err))
	}
	return errors.Join(errs...)
}

// ResultFunc computes the result of one job from its request. Its return
// value is encoded as JSON (a json.RawMessage is sent as is). A non-nil
// error fails the job: its status becomes "failed" and its result null.
type ResultFunc func(r JobRequest) (any, error)

type config struct {
	apiKey            credential
	baseURL           string
	webhookURL        credential // its password and query may be secrets
	webhookSecret     credential
	includeResult     bool
	jobDuration       time.Duration
	retryAfter        time.Duration
	fixedRetryAfter   bool
	genericStatusURL  bool
	clock             Clock
	results           map[string]ResultFunc
	resultOrigin      map[string]string // by job type: the option that set the result
	workflows         []Workflow
	wordQuota         int
	rateLimit         int
	rateWindow        time.Duration
	seed              uint64
	faults            Faults
	webhookRetryDelay time.Duration
	webhookTimeout    time.Duration
	webhookClient     *http.Client
	recordLimit       int
	recordBodyLimit   int
	recordBytes       int
	jobRetention      time.Duration
	jobLimit          int
	logger            *slog.Logger
}

// Defaults of the options.
const (
	// DefaultJobDuration is short, so that tests polling in real time finish quickly.
	DefaultJobDuration = 20 * time.Millisecond
	// DefaultWordQuota is the words quota of SharpAPI's documented example.
	DefaultWordQuota = 100000
	// DefaultRateLimit (requests per minute) is far above any plan's, so
	// that a test suite never meets it by accident; WithRateLimit(60,
	// time.Minute) mimics a small plan.
	DefaultRateLimit = 1000
	// DefaultWebhookRetryDelay spaces webhook attempts; SharpAPI does not
	// document its spacing.
	DefaultWebhookRetryDelay = time.Second
	// DefaultWebhookTimeout bounds one webhook attempt.
	DefaultWebhookTimeout = 10 * time.Second
	// DefaultRecordBodyLimit is how much of each request and webhook body
	// the record keeps: far above any JSON dispatch, far below the 100 MB
	// uploads SharpAPI accepts.
	DefaultRecordBodyLimit = 1 << 20
	// DefaultRecordBytes is the weight (bodies, headers, URLs) of the
	// recorded requests, and again of the recorded deliveries, beyond which
	// the oldest records are dropped.
	DefaultRecordBytes = 64 << 20
)

func defaultConfig() config {
	return config{
		includeResult:     true,
		jobDuration:       DefaultJobDuration,
		clock:             realClock{},
		results:           map[string]ResultFunc{},
		resultOrigin:      map[string]string{},
		wordQuota:         DefaultWordQuota,
		rateLimit:         DefaultRateLimit,
		rateWindow:        time.Minute,
		seed:              1,
		webhookRetryDelay: DefaultWebhookRetryDelay,
		webhookTimeout:    DefaultWebhookTimeout,
		recordBodyLimit:   DefaultRecordBodyLimit,
		recordBytes:       DefaultRecordBytes,
	}
}

// WithAPIKey makes the emulator accept only "Authorization: Bearer key".
// Without it any non-empty bearer token is accepted. Either way a missing
// or rejected key is answered 401 {"message":"Unauthenticated."}.
func WithAPIKey(key string) Option {
	return func(c *config) error {
		if key == "" {
			return invalid("WithAPIKey", "empty key")
		}
		c.apiKey = newCredential(key)
		return nil
	}
}

// WithBaseURL sets the external base URL (ending in /api/v1) the emulator
// writes into status URLs and pagination links: an absolute http(s) URL.
// [New] sets it; set it yourself only when mounting an [Emulator] on your
// own server behind a proxy. By default it is derived from each request's
// Host header.
func WithBaseURL(u string) Option {
	return func(c *config) error {
		if err := httpURL("WithBaseURL", u); err != nil {
			return err
		}
		c.baseURL = u
		return nil
	}
}

// WithWebhookURL sets the account-level webhook URL, SharpAPI's dashboard
// setting: an absolute http(s) URL. A dispatch's Job-Webhook header
// overrides it for that job. Nothing is delivered unless
// [WithWebhookSecret] is also given.
func WithWebhookURL(u string) Option {
	return func(c *config) error {
		if err := httpURL("WithWebhookURL", u); err != nil {
			return err
		}
		c.webhookURL = newCredential(u)
		return nil
	}
}

// WithWebhookSecret sets the secret that signs webhooks (the X-Signature
// header); it must not be empty. Without this option the emulator sends no
// webhooks at all, neither to the account URL nor to Job-Webhook URLs.
func WithWebhookSecret(secret string) Option {
	return func(c *config) error {
		if secret == "" {
			return invalid("WithWebhookSecret", "empty secret")
		}
		c.webhookSecret = newCredential(secret)
		return nil
	}
}

// WithWebhookResult sets SharpAPI's "Include AI Job Result" switch: whether
// webhook payloads carry the job's result. The default is true.
func WithWebhookResult(include bool) Option {
	return func(c *config) error {
		c.includeResult = include
		return nil
	}
}

// WithWebhookRetryDelay sets the wait between delivery attempts of one
// webhook ([DefaultWebhookRetryDelay]), zero or more. It is measured with
// the emulator's [Clock].
func WithWebhookRetryDelay(d time.Duration) Option {
	return func(c *config) error {
		c.webhookRetryDelay = d
		return nonNegative("WithWebhookRetryDelay", d)
	}
}

// WithWebhookTimeout bounds each webhook attempt ([DefaultWebhookTimeout]);
// it must be positive. It is ignored when [WithWebhookClient] is given.
func WithWebhookTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalid("WithWebhookTimeout", "timeout %v is not positive", d)
		}
		c.webhookTimeout = d
		return nil
	}
}

// WithWebhookClient sets the client that delivers webhooks, for example a
// receiver's [httptest.Server.Client]. It must not be nil.
func WithWebhookClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return invalid("WithWebhookClient", "nil client")
		}
		c.webhookClient = hc
		return nil
	}
}

// WithJobDuration sets how long a job takes from dispatch to its final
// state ([DefaultJobDuration]). Zero finishes jobs at once; a negative
// duration is an error.
func WithJobDuration(d time.Duration) Option {
	return func(c *config) error {
		c.jobDuration = d
		return nonNegative("WithJobDuration", d)
	}
}

// WithRetryAfter fixes the Retry-After header of dispatch answers and of
// unfinished status answers, zero included. By default it is the time left
// until the job finishes, rounded up to whole seconds and at least 1 while
// the job is unfinished. Unlike SharpAPI, which sends whole seconds, a
// fixed value below a second is written as a decimal ("0.05") so that
// clients under test need not wait a full second; parse it accordingly.
func WithRetryAfter(d time.Duration) Option {
	return func(c *config) error {
		c.retryAfter, c.fixedRetryAfter = d, true
		return nonNegative("WithRetryAfter", d)
	}
}

// WithGenericStatusURL makes dispatches hand out the older, generic status
// URL {base}/job/status/{id}, whose answers carry the result as a
// JSON-encoded string. By default they hand out the endpoint-specific
// {base}/{group}/{action}/job/status/{id}. Both URLs work for every job.
func WithGenericStatusURL() Option {
	return func(c *config) error {
		c.genericStatusURL = true
		return nil
	}
}

// WithClock sets the emulator's source of time; see [ManualClock].
func WithClock(clk Clock) Option {
	return func(c *config) error {
		if clk == nil {
			return invalid("WithClock", "nil clock")
		}
		c.clock = clk
		return nil
	}
}

// WithResult replaces the default result of one job type (such as
// "content_translate", "invoice_parse" or "custom_sentiment_analysis") with
// f's answer to each request. f must not be nil, and jobType must be one
// the emulator creates: a documented one or a [Workflow]'s. To answer with
// fixed JSON read from files, see [WithResultsDir].
func WithResult(jobType string, f ResultFunc) Option {
	return func(c *config) error {
		switch {
		case jobType == "":
			return invalid("WithResult", "empty job type")
		case f == nil:
			return invalid("WithResult", "nil function for job type %q", jobType)
		}
		c.setResult(jobType, "WithResult", f)
		return nil
	}
}

// WithWorkflow adds a custom workflow, or replaces the built-in one with
// the same slug. The slug must be a non-empty URL path segment and the
// input mode one of the two [Workflow] documents.
func WithWorkflow(w Workflow) Option {
	return func(c *config) error {
		switch {
		case w.Slug == "" || url.PathEscape(w.Slug) != w.Slug:
			return invalid("WithWorkflow", "slug %q is not a URL path segment", w.Slug)
		case w.InputMode != "" && w.InputMode != modeJSON && w.InputMode != modeMultipart:
			return invalid("WithWorkflow", "workflow %q: input mode %q is neither %q nor %q", w.Slug, w.InputMode, modeJSON, modeMultipart)
		}
		c.workflows = append(c.workflows, w)
		return nil
	}
}

// WithWordQuota sets the monthly word quota ([DefaultWordQuota]), zero or
// more. Words are counted in the "content" field of each dispatch. Once the
// quota is used up, or when a dispatch's words would go past it, the
// dispatch is answered 402 GEN-PAYMENT-REQUIRED. Failed jobs are not
// charged, as on SharpAPI.
func WithWordQuota(words int) Option {
	return func(c *config) error {
		if words < 0 {
			return invalid("WithWordQuota", "negative quota %d", words)
		}
		c.wordQuota = words
		return nil
	}
}

// WithRateLimit allows n requests per window of length per (at least 1
// request, a positive window), as
// [github.com/sharpapi-go/sharpapi.WithRateLimit] tells a client:
// SharpAPI counts requests per minute, in fixed windows, so
// WithRateLimit(60, time.Minute) mimics a small plan, and a shorter window
// lets a test or a benchmark exhaust and renew a plan's window in seconds.
// Windows are measured on the emulator's [Clock]. The default is
// [DefaultRateLimit] per minute. /ping and /quota are neither counted nor
// limited, and carry no X-RateLimit-* headers; /quota reports n as its
// requests_per_minute whatever the window.
//
// With a window that is not a whole number of minutes, X-RateLimit-Reset
// and the Retry-After of a 429 carry milliseconds ("1764412800.250",
// "0.750"), where SharpAPI sends whole seconds.
func WithRateLimit(n int, per time.Duration) Option {
	return func(c *config) error {
		switch {
		case n < 1:
			return invalid("WithRateLimit", "%d requests per window is below 1", n)
		case per <= 0:
			return invalid("WithRateLimit", "window %v is not positive", per)
		}
		c.rateLimit, c.rateWindow = n, per
		return nil
	}
}

// WithSeed seeds the random choices of the fault options (default 1), so a
// given sequence of requests meets the same faults on every run.
func WithSeed(seed uint64) Option {
	return func(c *config) error {
		c.seed = seed
		return nil
	}
}

// WithRecordLimit keeps only the latest n recorded requests and deliveries
// of each kind (0, the default, sets no count; [WithRecordBytes] still
// bounds their bytes).
func WithRecordLimit(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return invalid("WithRecordLimit", "negative limit %d", n)
		}
		c.recordLimit = n
		return nil
	}
}

// WithRecordBodyLimit keeps only the first n bytes of each recorded
// request and webhook body ([DefaultRecordBodyLimit]; zero keeps none).
// [RecordedRequest.BodyLen] and [Delivery.BodyLen] still tell the full
// length; a [ResultFunc] always sees the whole body.
func WithRecordBodyLimit(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return invalid("WithRecordBodyLimit", "negative limit %d", n)
		}
		c.recordBodyLimit = n
		return nil
	}
}

// WithRecordBytes bounds the memory the record holds: once the recorded
// requests weigh more than n bytes (bodies, headers and URLs), the oldest
// are dropped, and likewise the deliveries ([DefaultRecordBytes]). The
// latest record of each kind is always kept. n must be positive.
func WithRecordBytes(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return invalid("WithRecordBytes", "budget %d is not positive", n)
		}
		c.recordBytes = n
		return nil
	}
}

// WithJobRetention forgets finished jobs once they have been final for
// longer than d, on the emulator's [Clock]: from that instant their status
// URLs answer 404 and [Emulator.Job] and [Emulator.Jobs] no longer find
// them (their memory is freed at the next dispatch). Zero, the default, keeps
// them for the emulator's life; a long-running emulator should set it
// (cmd/sharpapi-emulator keeps jobs an hour).
func WithJobRetention(d time.Duration) Option {
	return func(c *config) error {
		c.jobRetention = d
		return nonNegative("WithJobRetention", d)
	}
}

// WithJobLimit keeps at most n jobs: past it, the oldest finished jobs are
// forgotten, as [WithJobRetention] forgets them. Jobs still running are
// never forgotten, so their number is bounded by the rate limit and the
// job duration instead. Zero, the default, sets no limit.
func WithJobLimit(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return invalid("WithJobLimit", "negative limit %d", n)
		}
		c.jobLimit = n
		return nil
	}
}

// WithLogger logs each request and each webhook attempt to l. API keys,
// webhook secrets and URL queries are never logged. The default, like a
// nil l, is silence.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}
