package sharpapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/sharpapi-go/sharpapi/eventbus"
)

// Defaults of a [WebhookHandler].
const (
	// DefaultWebhookMaxBody caps a delivery's body. A parsed resume or
	// invoice, result included, is tens of KiB; 1 MiB leaves ten times
	// that room. A larger delivery is refused (413), and its job still
	// completes: its await polls the status URL after the grace period.
	DefaultWebhookMaxBody = 1 << 20
	// DefaultUnverifiedBudget bounds the bytes all requests whose
	// signature is not verified yet may hold together: 16 bodies at the
	// default cap (with a larger cap, the default is two bodies at it, if
	// that is more). Past it a delivery is answered 503 with Retry-After (SharpAPI
	// retries), so a flood of unsigned bodies costs at most this much.
	DefaultUnverifiedBudget = 16 << 20
	// DefaultEarlyEvents and DefaultEarlyEventAge bound the buffer of
	// terminal events that arrive before anyone awaits their job. A job id
	// is awaited within milliseconds of dispatch, so ten minutes is ample;
	// what is still unclaimed then goes to the [OnUnmatched] hook.
	DefaultEarlyEvents   = 10000
	DefaultEarlyEventAge = 10 * time.Minute
	// DefaultEarlyBytes bounds the memory that buffered events (results
	// included) may hold.
	DefaultEarlyBytes = 64 << 20
	// DefaultDedupIDs and DefaultDedupAge bound the memory of finished job
	// ids that turns SharpAPI's at-least-once delivery (up to three
	// retries) into exactly-once. SharpAPI does not document its retry
	// spacing; an hour is meant to outlast any plausible schedule.
	//
	// The count bounds the bytes too: a remembered key is a job id (at most
	// 128 bytes, longer ones are refused) and, for a non-terminal event, its
	// status (at most 64), so an entry with its map and queue slots costs
	// at most about 300 bytes, and the default memory at most about 30 MB
	// (about 10 MB with SharpAPI's 36-byte UUIDs).
	DefaultDedupIDs = 100000
	DefaultDedupAge = time.Hour
)

// WebhookOption configures a [WebhookHandler] in [NewWebhookHandler]. A value
// that makes no sense (a negative size, a nil hook) makes [NewWebhookHandler]
// fail with an error wrapping [ErrInvalidOption]. [WithLogger] is one too.
type WebhookOption interface {
	applyWebhook(*webhookConfig) error
}

type webhookOptionFunc func(*webhookConfig) error

func (f webhookOptionFunc) applyWebhook(c *webhookConfig) error { return f(c) }

type webhookConfig struct {
	secrets []string
	maxBody int64
	// unverifiedBudget: WithUnverifiedBudget; 0 for the default.
	unverifiedBudget int64
	earlyMax         int
	earlyAge         time.Duration
	earlyBytes       int64
	dedupMax         int
	dedupAge         time.Duration
	onEvent          func(context.Context, WebhookEvent) error
	onNonTerminal    func(WebhookEvent)
	onUnmatched      func(WebhookEvent)
	bus              eventbus.Bus
	publishTimeout   time.Duration
	ledger           *LedgerConfig // WithLedgerConfig; nil: the defaults
	logger           *slog.Logger
	clock            clock
	observe          observers // WithObserver
}

func defaultWebhookConfig(secret string) webhookConfig {
	return webhookConfig{
		secrets: []string{secret},
		maxBody: DefaultWebhookMaxBody,

		unverifiedBudget: DefaultUnverifiedBudget,
		earlyMax:         DefaultEarlyEvents,
		earlyAge:         DefaultEarlyEventAge,
		earlyBytes:       DefaultEarlyBytes,
		dedupMax:         DefaultDedupIDs,
		dedupAge:         DefaultDedupAge,
		clock:            realClock{},

		publishTimeout: DefaultPublishTimeout,
	}
}

// applyWebhook makes [WithLogger] configure a [WebhookHandler]: one line per
// delivery (method, remote address, length, user agent, job id, status,
// outcome) and one per panicking callback. A nil logger is silent.
func (o LoggerOption) applyWebhook(c *webhookConfig) error {
	c.logger = o.l
	return nil
}

// WithExtraSecrets makes the handler accept signatures under these secrets
// too, besides the one given to [NewWebhookHandler]. To rotate the account's
// secret with no rejected delivery: deploy with the new secret added here,
// change it in SharpAPI's dashboard, then deploy without the old one.
func WithExtraSecrets(secrets ...string) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		for _, s := range secrets {
			if s == "" {
				return invalidOption("webhook secret is empty")
			}
		}
		c.secrets = append(c.secrets, secrets...)
		return nil
	})
}

// WithUnverifiedBudget bounds the bytes that the requests whose signature
// is not verified yet hold together (default 16 MiB): a body is buffered
// before its HMAC can be checked, so without a bound each connection of a
// flood of unsigned bodies would hold up to the body cap. A delivery whose
// body would pass the budget is answered 503 with Retry-After: 1, counted
// in [WebhookStats].RejectedBusy. n must be more than the body cap
// ([WithMaxBodySize]); a body's buffer counts as it grows (by doubling),
// so a body may take up to twice its size while it is read.
func WithUnverifiedBudget(n int64) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		if n <= 0 {
			return invalidOption("unverified budget %d is not positive", n)
		}
		c.unverifiedBudget = n
		return nil
	})
}

// WithMaxBodySize sets the largest body the handler reads (default 1 MiB);
// a larger delivery is answered 413 without being read.
func WithMaxBodySize(n int64) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		if n <= 0 {
			return invalidOption("max webhook body size %d is not positive", n)
		}
		c.maxBody = n
		return nil
	})
}

// WithEarlyBuffer bounds the events kept for jobs nobody awaits yet: at most
// n events (default 10 000), each for at most maxAge (default 10 min). The
// oldest is dropped to [OnUnmatched] when the buffer is full. n = 0 sends such
// events to [OnUnmatched] at once.
func WithEarlyBuffer(n int, maxAge time.Duration) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		if n < 0 || maxAge <= 0 {
			return invalidOption("early buffer of %d events for %v: want n >= 0 and a positive age", n, maxAge)
		}
		c.earlyMax, c.earlyAge = n, maxAge
		return nil
	})
}

// WithEarlyBufferBytes bounds the memory of buffered early events (default
// 64 MiB), counted as the bytes of each event's fields (copies of the
// request's, so no request body stays alive) plus 160 bytes of bookkeeping. It
// matters when results are included in webhooks: a parsed resume is tens
// of KiB, and the count bound alone would let 10 000 of them pile up.
func WithEarlyBufferBytes(n int64) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		if n <= 0 {
			return invalidOption("early buffer size %d bytes is not positive", n)
		}
		c.earlyBytes = n
		return nil
	})
}

// WithDedup bounds the memory that drops SharpAPI's retried and replayed
// deliveries: at most n keys (default 100 000), each for at most maxAge
// (default 1 h). A key is a finished job's id, or a job id and status for a
// non-terminal event; each costs at most about 300 bytes (see
// [DefaultDedupIDs]), so n bounds the bytes too. A retry arriving after its
// key was forgotten is treated as a new event, so keep maxAge above
// SharpAPI's retry span.
func WithDedup(n int, maxAge time.Duration) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		if n <= 0 || maxAge <= 0 {
			return invalidOption("dedup memory of %d ids for %v: want both positive", n, maxAge)
		}
		c.dedupMax, c.dedupAge = n, maxAge
		return nil
	})
}

// OnEvent calls fn for every distinct event this handler routes: each job's
// terminal event once, and each job's non-terminal status once (retries and
// replays dropped), whether or not a job here awaits it. With an [eventbus.Bus]
// it runs on the replica that stored the event, so once in the cluster. It
// is the place to persist or audit results.
//
// fn returns an error when it could not take the event (its database is
// down, say): the error is logged at Warn and counted in
// [WebhookStats].HookErrors. ctx ends when the handler closes; with an
// observer ([WithObserver]) it carries the run's observation (otelsharpapi:
// its sharpapi.on_event span, the parent of spans fn starts). Each call runs
// in its own goroutine, with panics recovered, so calls may overlap and
// arrive out of order.
//
// With an [eventbus.Bus] that keeps a [Ledger] (redisbus's does), OnEvent is a
// delivery guarantee for terminal events: every job that a [Client] of any
// replica dispatched with a webhook reaches OnEvent in the cluster, from
// its webhook, from an await's poll, or from a sweeper's poll when the
// webhook was lost, even after the replica that dispatched it is gone. It
// runs exactly once per job when nothing crashes, and at least once
// otherwise:
//
//   - the job leaves the ledger (is acked) only after fn has returned nil;
//     an error or a panic means the event is offered again, on any replica,
//     after a backoff, up to [LedgerConfig].MaxHookRuns times, and is then
//     given up with a Warn;
//   - while fn runs, its replica holds the job's hook lease and renews it
//     ([LedgerConfig].HookLease); a replica that dies, or stalls past the
//     lease, between storing the event and fn's return, or a Redis that
//     loses the ack, makes another replica offer the event again: fn then
//     runs twice for the job. A replica whose handler closes stops
//     renewing, so return ctx's error when ctx ends before the effect is
//     done.
//
// So make fn idempotent on the job id (a unique key, an upsert, SET NX),
// and return nil only once the effect is durable: the ack follows the
// return. Non-terminal events reach OnEvent at most once. Without a ledger,
// a job whose webhook is lost completes through its await's poll but never
// reaches OnEvent.
func OnEvent(fn func(ctx context.Context, ev WebhookEvent) error) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		if fn == nil {
			return invalidOption("OnEvent hook is nil")
		}
		c.onEvent = fn
		return nil
	})
}

// OnNonTerminal calls fn for events whose status is not terminal (new,
// pending, or a state this package does not know). Such events never
// complete a waiter. fn runs as [OnEvent]'s does.
func OnNonTerminal(fn func(WebhookEvent)) WebhookOption {
	return hookOption("OnNonTerminal", fn, func(c *webhookConfig) { c.onNonTerminal = fn })
}

// OnUnmatched calls fn for terminal events no waiter claimed: those that
// outlived the early buffer's age, were pushed out of a full buffer, or
// were buffered when the handler closed. fn runs as [OnEvent]'s does. With an
// [eventbus.Bus] there is no early buffer (the bus's store keeps the events) and
// [OnUnmatched] is never called.
func OnUnmatched(fn func(WebhookEvent)) WebhookOption {
	return hookOption("OnUnmatched", fn, func(c *webhookConfig) { c.onUnmatched = fn })
}

func hookOption(name string, fn func(WebhookEvent), set func(*webhookConfig)) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		if fn == nil {
			return invalidOption("%s hook is nil", name)
		}
		set(c)
		return nil
	})
}

// withClock replaces the clock, for tests.
func withClock(cl clock) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		if cl == nil {
			return invalidOption("clock is nil")
		}
		c.clock = cl
		return nil
	})
}

// clock is the handler's view of time: the early buffer's expiry is one
// timer, and tests drive it by hand.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) clockTimer
}

type clockTimer interface {
	Stop() bool
	Reset(d time.Duration) bool
}

type realClock struct{}

func (realClock) Now() time.Time                                 { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) clockTimer { return time.AfterFunc(d, f) }
