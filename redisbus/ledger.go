package redisbus

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi/eventbus"
)

// deadMax caps the list of given-up job ids.
const deadMax = 10000

// The ledger's keys; see the package doc.
func (b *Bus) dueKey() string          { return b.cfg.prefix + "{ledger}:due" }
func (b *Bus) deadKey() string         { return b.cfg.prefix + "{ledger}:dead" }
func (b *Bus) jobKeyPrefix() string    { return b.cfg.prefix + "{ledger}:j:" }
func (b *Bus) jobKey(id string) string { return b.jobKeyPrefix() + id }

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// Record adds a dispatched job to the ledger; see [eventbus.Ledger]. It is
// one script: a hash of the job's status URL, type and dispatch time,
// expiring at job.Expires plus an hour, and its id in the due set.
func (b protocol) Record(ctx context.Context, job eventbus.PendingJob) error {
	if err := checkJobID(job.ID); err != nil {
		return fmt.Errorf("redisbus: not recording the job: %w", err)
	}
	keys := []string{b.dueKey(), b.jobKey(job.ID)}
	args := []any{job.ID, job.StatusURL, string(job.Type), ms(job.Dispatched), ms(job.Due), ms(job.Expires.Add(time.Hour))}
	_, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (int64, error) {
		return recordScript.Run(ctx, b.rdb, keys, args...).Int64()
	}, nil)
	if err != nil {
		return fmt.Errorf("redisbus: recording job %s in the ledger: %w", job.ID, err)
	}
	return nil
}

// Claim leases up to max due entries; see [eventbus.Ledger]. It is one
// script: a range of the due set by score (O(log N + max)) and, per entry,
// a few hash fields and a new score.
func (b protocol) Claim(ctx context.Context, now, until time.Time, max int) ([]eventbus.ClaimedJob, error) {
	if max <= 0 {
		return nil, nil
	}
	b.checkClock(ctx, now)
	rows, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) ([]any, error) {
		return claimScript.Run(ctx, b.rdb, []string{b.dueKey()}, ms(now), ms(until), max, b.jobKeyPrefix()).Slice()
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("redisbus: claiming overdue jobs from the ledger: %w", err)
	}
	claims := make([]eventbus.ClaimedJob, 0, len(rows))
	for _, r := range rows {
		f, ok := r.([]any)
		if !ok || len(f) != 6 {
			return claims, fmt.Errorf("redisbus: claiming overdue jobs: unexpected reply %T", r)
		}
		id, _ := f[0].(string)
		d, _ := f[1].(string)
		u, _ := f[2].(string)
		t, _ := f[3].(string)
		tok, _ := f[4].(int64)
		n, _ := f[5].(int64)
		dispatched, _ := strconv.ParseInt(d, 10, 64)
		claims = append(claims, eventbus.ClaimedJob{
			PendingJob: eventbus.PendingJob{ID: id, Type: t, StatusURL: u, Dispatched: time.UnixMilli(dispatched)},
			Token:      tok,
			Tries:      int(n),
		})
	}
	return claims, nil
}

// Begin asks for a job's hook lease; see [eventbus.Ledger].
func (b protocol) Begin(ctx context.Context, req eventbus.BeginRequest) (eventbus.HookLease, error) {
	if err := checkJobID(req.JobID); err != nil {
		return eventbus.HookLease{}, fmt.Errorf("redisbus: no hook lease: %w", err)
	}
	stored := "0"
	if req.Stored {
		stored = "1"
	}
	keys := []string{b.dueKey(), b.jobKey(req.JobID)}
	args := []any{req.JobID, ms(req.Now), ms(req.Until), stored, ms(req.Expires.Add(time.Hour))}
	res, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) ([]int64, error) {
		return beginScript.Run(ctx, b.rdb, keys, args...).Int64Slice()
	}, nil)
	if err != nil {
		return eventbus.HookLease{}, fmt.Errorf("redisbus: taking the hook lease of job %s: %w", req.JobID, err)
	}
	if len(res) != 2 {
		return eventbus.HookLease{}, fmt.Errorf("redisbus: taking the hook lease of job %s: unexpected reply %v", req.JobID, res)
	}
	switch {
	case res[0] < 0:
		return eventbus.HookLease{State: eventbus.LeaseDone}, nil
	case res[0] == 0:
		return eventbus.HookLease{State: eventbus.LeaseHeld}, nil
	}
	return eventbus.HookLease{State: eventbus.LeaseGranted, Token: res[0], Runs: int(res[1])}, nil
}

// Renew extends a hook lease; see [eventbus.Ledger].
func (b protocol) Renew(ctx context.Context, jobID string, token int64, until time.Time) (bool, error) {
	return b.fenced(ctx, "renewing the hook lease of", renewScript, jobID, token, ms(until))
}

// Ack completes a job; see [eventbus.Ledger]. The job's record becomes a
// tombstone for the bus's retention (default 10 min).
func (b protocol) Ack(ctx context.Context, jobID string, token int64) (stale bool, err error) {
	if err := checkJobID(jobID); err != nil {
		return false, fmt.Errorf("redisbus: not acking: %w", err)
	}
	keys := []string{b.dueKey(), b.jobKey(jobID)}
	n, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (int64, error) {
		return ackScript.Run(ctx, b.rdb, keys, jobID, token, b.keepMS).Int64()
	}, nil)
	if err != nil {
		return false, fmt.Errorf("redisbus: completing job %s in the ledger: %w", jobID, err)
	}
	return n == 2, nil
}

// Release makes an entry due again at at; see [eventbus.Ledger].
func (b protocol) Release(ctx context.Context, jobID string, token int64, at time.Time) (bool, error) {
	return b.fenced(ctx, "releasing", releaseScript, jobID, token, ms(at))
}

// GiveUp removes an entry for good and adds its id to the dead set (the
// latest 10 000 given-up ids, scored by time); see [eventbus.Ledger].
func (b protocol) GiveUp(ctx context.Context, jobID string, token int64, now time.Time) (bool, error) {
	if err := checkJobID(jobID); err != nil {
		// Not a job id: remove it from the due set, or every claim would
		// return it again.
		_, err2 := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (int64, error) {
			return b.rdb.ZRem(ctx, b.dueKey(), jobID).Result()
		}, nil)
		return err2 == nil, err2
	}
	keys := []string{b.dueKey(), b.jobKey(jobID), b.deadKey()}
	n, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (int64, error) {
		return giveUpScript.Run(ctx, b.rdb, keys, jobID, token, ms(now), deadMax).Int64()
	}, nil)
	if err != nil {
		return false, fmt.Errorf("redisbus: giving up job %s: %w", jobID, err)
	}
	return n == 1, nil
}

// fenced runs a token-fenced script on a job's entry.
func (b *Bus) fenced(ctx context.Context, what string, script *redis.Script, jobID string, token int64, arg string) (bool, error) {
	if err := checkJobID(jobID); err != nil {
		return false, fmt.Errorf("redisbus: not %s the job: %w", what, err)
	}
	keys := []string{b.dueKey(), b.jobKey(jobID)}
	n, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (int64, error) {
		return script.Run(ctx, b.rdb, keys, jobID, token, arg).Int64()
	}, nil)
	if err != nil {
		return false, fmt.Errorf("redisbus: %s job %s: %w", what, jobID, err)
	}
	return n == 1, nil
}

// LedgerStats is the state of the ledger, cluster-wide.
type LedgerStats struct {
	// Pending counts the jobs in the ledger: dispatched with a webhook and
	// not completed yet (claimed ones and ones whose OnEvent runs
	// included).
	Pending int64
	// Overdue counts those whose next action is due: they wait for a
	// sweep. OldestOverdue is how long the longest-waiting one has been
	// due (zero when none is).
	Overdue       int64
	OldestOverdue time.Duration
	// Dead counts the given-up job ids kept in the dead set (at most
	// 10 000; sharpapi:{ledger}:dead, scored by the time given up).
	Dead int64
}

// LedgerStats reads the ledger's size and backlog: one pipeline of four
// O(log N) commands. now is the time overdue is measured against.
func (b *Bus) LedgerStats(ctx context.Context, now time.Time) (LedgerStats, error) {
	s, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (LedgerStats, error) {
		pipe := b.rdb.Pipeline()
		pending := pipe.ZCard(ctx, b.dueKey())
		overdue := pipe.ZCount(ctx, b.dueKey(), "-inf", ms(now))
		first := pipe.ZRangeWithScores(ctx, b.dueKey(), 0, 0)
		dead := pipe.ZCard(ctx, b.deadKey())
		if _, err := pipe.Exec(ctx); err != nil {
			return LedgerStats{}, err
		}
		s := LedgerStats{Pending: pending.Val(), Overdue: overdue.Val(), Dead: dead.Val()}
		if z := first.Val(); len(z) == 1 && s.Overdue > 0 {
			s.OldestOverdue = now.Sub(time.UnixMilli(int64(z[0].Score)))
		}
		return s, nil
	}, nil)
	if err != nil {
		return LedgerStats{}, fmt.Errorf("redisbus: reading the ledger's state: %w", err)
	}
	return s, nil
}
