package redisbus

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sharpapi-go/sharpapi"
)

// Defaults of a Bus.
const (
	// DefaultKeyPrefix starts every key and the channel name.
	DefaultKeyPrefix = "sharpapi:"
	// DefaultRetention is how long a terminal event stays loadable: the
	// core's early-buffer age, time enough for a job to be awaited after its
	// webhook arrived or for a restarted replica to resume it.
	DefaultRetention = sharpapi.DefaultEarlyEventAge
	// DefaultDedupAge is how long a stored event's job id is remembered, so
	// that SharpAPI's retries are recognised: the core's dedup age.
	DefaultDedupAge = sharpapi.DefaultDedupAge
	// DefaultTimeout bounds each call to Redis whose context has no
	// deadline. A WebhookHandler always gives one: its
	// sharpapi.WithPublishTimeout (default 2 s, well within SharpAPI's
	// delivery timeout, so that a slow Redis yields a 503 and a retry)
	// bounds every call it makes to the bus.
	DefaultTimeout = 2 * time.Second
	// DefaultMaxEventSize bounds a stored event, in bytes of its JSON: the
	// handler's default body cap (a delivery's body is the event) plus
	// room for the envelope the bus writes around it. Load reads no more
	// from Redis, whoever wrote the key.
	DefaultMaxEventSize = sharpapi.DefaultWebhookMaxBody + 4<<10
)

// Option configures a Bus in New. A value that makes no sense makes New
// fail with an error wrapping [sharpapi.ErrInvalidOption].
type Option func(*config) error

type config struct {
	prefix    string
	retention time.Duration
	dedupAge  time.Duration
	timeout   time.Duration
	maxEvent  int
	log       *slog.Logger // nil: silent
	noLedger  bool
}

func defaultConfig() config {
	return config{
		prefix:    DefaultKeyPrefix,
		retention: DefaultRetention,
		dedupAge:  DefaultDedupAge,
		timeout:   DefaultTimeout,
		maxEvent:  DefaultMaxEventSize,
	}
}

func invalidOption(format string, args ...any) error {
	return fmt.Errorf("%w: %s", sharpapi.ErrInvalidOption, fmt.Sprintf(format, args...))
}

// WithKeyPrefix sets the prefix of every key and of the channel (default
// "sharpapi:"), so that several services, or several SharpAPI accounts,
// share one Redis. It must not be empty nor contain a brace: braces would
// change the keys' Redis Cluster hash tag.
func WithKeyPrefix(prefix string) Option {
	return func(c *config) error {
		if prefix == "" || strings.ContainsAny(prefix, "{}") {
			return invalidOption("redisbus key prefix %s: want a non-empty string without braces", quote(prefix))
		}
		c.prefix = prefix
		return nil
	}
}

// WithRetention sets how long a stored terminal event stays loadable
// (default 10 min). A job awaited or resumed later than that finds nothing
// and falls back to polling its status URL, as it would without a bus.
func WithRetention(d time.Duration) Option {
	return ttlOption("retention", d, func(c *config) { c.retention = d })
}

// WithDedupAge sets how long a stored event's job id is remembered so that
// retried deliveries are dropped as duplicates (default 1 h). Keep it above
// SharpAPI's retry span; it may not be shorter than the retention.
func WithDedupAge(d time.Duration) Option {
	return ttlOption("dedup age", d, func(c *config) { c.dedupAge = d })
}

// ttlOption checks a key's TTL, which Redis takes in whole milliseconds.
func ttlOption(name string, d time.Duration, set func(*config)) Option {
	return func(c *config) error {
		if d < time.Millisecond {
			return invalidOption("redisbus %s %v: want at least 1ms", name, d)
		}
		set(c)
		return nil
	}
}

// WithMaxEventSize sets the largest event the bus stores and loads, in
// bytes of its JSON (default [DefaultMaxEventSize]): Store refuses a larger
// one, and Load refuses a larger value without reading it, so that a key
// written by someone else cannot make a replica read megabytes per
// attempt. A handler given a larger [sharpapi.WithMaxBodySize] needs as
// much more here.
func WithMaxEventSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return invalidOption("redisbus max event size %d is not positive", n)
		}
		c.maxEvent = n
		return nil
	}
}

// WithoutLedger runs the bus without its pending-job ledger: it shares
// webhook events among the replicas and nothing more. OnEvent then goes
// back to webhook-only: it runs once, on the replica that stores a job's
// webhook, with no lease and no ack; a job whose webhook is lost reaches
// only its own await's poll (on the replica that dispatched it, if that
// replica lives), never OnEvent, and no sweeper runs. It saves the
// ledger's Redis round trips per job (record and ack) and its keys.
func WithoutLedger() Option {
	return func(c *config) error {
		c.noLedger = true
		return nil
	}
}

// WithLogger makes the bus log its subscription's reconnections, ids it
// dropped, events stored after their Store timed out, and (checked once an
// hour by a sweeping replica) a clock more than 2 s off Redis's. A nil
// logger, the default, is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.log = l
		return nil
	}
}
