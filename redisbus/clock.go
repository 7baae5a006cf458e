package redisbus

import (
	"context"
	"log/slog"
	"time"
)

// The ledger's due times and leases are the replicas' clocks (see
// [eventbus.Ledger]): a replica whose clock runs ahead claims entries
// before they are due and takes over hook leases another replica still
// holds, so that OnEvent may run twice; one whose clock runs behind
// completes overdue jobs late. Redis is the clock every replica shares, so
// a sweep compares the replica's clock with Redis's, at most once per
// clockCheckEvery, and warns past maxClockSkew.
const (
	clockCheckEvery = time.Hour
	maxClockSkew    = 2 * time.Second
)

// checkClock compares now, the sweeping replica's clock, with Redis's TIME
// and logs a Warn when they differ by more than maxClockSkew, beyond the
// round trip's own time. It costs a round trip once an hour, and nothing
// without a logger.
func (b *Bus) checkClock(ctx context.Context, now time.Time) {
	if b.cfg.log == nil {
		return
	}
	last, wall := b.clockChecked.Load(), time.Now()
	if last != 0 && wall.Sub(time.Unix(0, last)) < clockCheckEvery {
		return
	}
	if !b.clockChecked.CompareAndSwap(last, wall.UnixNano()) {
		return // another sweep is checking
	}
	redisNow, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (time.Time, error) {
		return b.rdb.Time(ctx).Result()
	}, nil)
	if err != nil {
		return // the sweep's own command reports an outage
	}
	ahead := now.Sub(redisNow)
	if ahead.Abs() <= maxClockSkew+time.Since(wall) {
		return
	}
	b.cfg.log.LogAttrs(ctx, slog.LevelWarn,
		"redisbus: this replica's clock is not Redis's; the ledger's due times and leases are the replicas' clocks, so keep every replica's clock in sync (NTP)",
		slog.Duration("ahead_of_redis", ahead.Round(time.Millisecond)))
}
