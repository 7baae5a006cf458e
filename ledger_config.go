package sharpapi

import (
	"time"

	"github.com/sharpapi-go/sharpapi/eventbus"
)

// Defaults of [LedgerConfig].
const (
	DefaultSweepInterval = 30 * time.Second
	DefaultSweepBatch    = 20
	DefaultClaimLease    = 2 * time.Minute
	DefaultHookLease     = time.Minute
	DefaultLedgerMaxAge  = 24 * time.Hour
	DefaultMaxHookRuns   = 10
	DefaultLedgerRetry   = 30 * time.Second
	DefaultLedgerMaxWait = 5 * time.Minute
)

// LedgerConfig sets the timings of a handler's [Ledger] work: its sweeper
// and its leases. A zero field takes its default.
type LedgerConfig struct {
	// SweepInterval is the mean time between two sweeps of one replica
	// (default 30 s), each wait jittered by ±50 % so that replicas spread
	// out. A job whose webhook is lost reaches OnEvent about one interval
	// after it is overdue. A sweep costs one claim when nothing is due,
	// whatever the size of the ledger.
	SweepInterval time.Duration
	// SweepBatch is the most entries one claim takes (default 20); a sweep
	// claims again as long as claims come back full, and polls the entries
	// of a batch at once, through the client's rate limiter (which keeps a
	// tenth of each window for dispatches).
	SweepBatch int
	// ClaimLease is how long a claimed entry stays with its sweeper
	// (default 2 min, time for a poll the rate limiter holds back): a
	// replica that dies holding it loses it then.
	ClaimLease time.Duration
	// HookLease is how long the replica running OnEvent for a job holds it
	// (default 1 min); it renews the lease every third of it while OnEvent
	// runs, and stops renewing when its handler closes. Another replica
	// offers the event again only once the lease has expired.
	HookLease time.Duration
	// MaxAge is how long after its dispatch a job may stay in the ledger
	// (default 24 h): a sweeper then gives it up, with a Warn.
	MaxAge time.Duration
	// MaxHookRuns bounds the times OnEvent is offered one job's event
	// (default 10): it is then given up, with a Warn.
	MaxHookRuns int
	// RetryMin and RetryMax bound the backoff (doubling from RetryMin,
	// default 30 s, up to RetryMax, default 5 min) between a sweeper's
	// polls of a job still running (a longer Retry-After wins), and between
	// offers of an event whose OnEvent failed.
	RetryMin, RetryMax time.Duration
	// NoSweeper keeps this replica from sweeping: for a process that
	// dispatches jobs and exits (a command, a batch job), whose sweeps
	// would be cut short. Its jobs are still recorded, and other
	// replicas sweep them.
	NoSweeper bool
}

// WithLedgerConfig sets the timings of the handler's ledger (see
// [LedgerConfig]); the handler's [eventbus.Bus] must implement [Ledger].
// Without it, the defaults apply.
func WithLedgerConfig(cfg LedgerConfig) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		for _, d := range []struct {
			name string
			d    time.Duration
		}{
			{"SweepInterval", cfg.SweepInterval}, {"ClaimLease", cfg.ClaimLease}, {"eventbus.HookLease", cfg.HookLease},
			{"MaxAge", cfg.MaxAge}, {"RetryMin", cfg.RetryMin}, {"RetryMax", cfg.RetryMax},
		} {
			if d.d < 0 || (d.d > 0 && d.d < time.Millisecond) {
				return invalidOption("ledger %s %v: want 0 (the default) or at least 1ms", d.name, d.d)
			}
		}
		if cfg.SweepBatch < 0 || cfg.MaxHookRuns < 0 {
			return invalidOption("ledger SweepBatch %d, MaxHookRuns %d: want 0 (the default) or more", cfg.SweepBatch, cfg.MaxHookRuns)
		}
		full := cfg.withDefaults()
		if full.RetryMax < full.RetryMin {
			return invalidOption("ledger RetryMax %v is below RetryMin %v", full.RetryMax, full.RetryMin)
		}
		c.ledger = &full
		return nil
	})
}

func (cfg LedgerConfig) withDefaults() LedgerConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.SweepInterval, DefaultSweepInterval)
	def(&cfg.ClaimLease, DefaultClaimLease)
	def(&cfg.HookLease, DefaultHookLease)
	def(&cfg.MaxAge, DefaultLedgerMaxAge)
	def(&cfg.RetryMin, DefaultLedgerRetry)
	def(&cfg.RetryMax, max(DefaultLedgerMaxWait, cfg.RetryMin))
	if cfg.SweepBatch == 0 {
		cfg.SweepBatch = DefaultSweepBatch
	}
	if cfg.MaxHookRuns == 0 {
		cfg.MaxHookRuns = DefaultMaxHookRuns
	}
	return cfg
}

// backoff is the wait after the n-th try (n ≥ 1): RetryMin doubled n-1
// times, capped at RetryMax.
func (cfg *LedgerConfig) backoff(n int) time.Duration {
	d := cfg.RetryMin
	for i := 1; i < n && d < cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, cfg.RetryMax)
}

// checkLedgerOption refuses [WithLedgerConfig] for a handler whose bus has
// no ledger: its settings would silently do nothing.
func checkLedgerOption(c *webhookConfig) error {
	if c.ledger == nil {
		return nil
	}
	if _, ok := c.bus.(eventbus.Ledger); !ok {
		return invalidOption("WithLedgerConfig needs an event bus that keeps a ledger (WithEventBus with redisbus)")
	}
	return nil
}
