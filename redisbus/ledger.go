package redisbus

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
)

// deadMax caps the list of given-up job ids.
const deadMax = 10000

// The ledger's keys, in the bus's slot (busTag); see the package doc.
func (b *Bus) dueKey() string          { return b.cfg.prefix + busTag + "due" }
func (b *Bus) deadKey() string         { return b.cfg.prefix + busTag + "dead" }
func (b *Bus) jobKeyPrefix() string    { return b.cfg.prefix + busTag + "j:" }
func (b *Bus) jobKey(id string) string { return b.jobKeyPrefix() + id }

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// Record adds a dispatched job to the ledger; see [eventbus.Ledger]. It is
// one script: a hash of the job's status URL, type, dispatch time, key
// fingerprint and trace, expiring at job.Expires plus an hour, and its id
// in the due set. A trace longer than 128 bytes is not kept (Claim then
// returns none).
func (b protocol) Record(ctx context.Context, job eventbus.PendingJob) error {
	if err := checkJobID(job.ID); err != nil {
		return fmt.Errorf("redisbus: not recording the job: %w", err)
	}
	keys := []string{b.dueKey(), b.jobKey(job.ID)}
	if len(job.StatusURL) > maxStatusURL || len(job.Type) > maxJobType || len(job.KeyID) > maxKeyID {
		return fmt.Errorf("redisbus: not recording job %s: its status URL, type or key id is too long for the ledger", job.ID)
	}
	trace := job.Trace
	if len(trace) > maxTrace {
		trace = "" // optional: dropped, not a reason to refuse the job
	}
	args := []any{job.ID, job.StatusURL, job.Type, ms(job.Dispatched), ms(job.Due), ms(job.Expires.Add(time.Hour)), job.KeyID, trace}
	_, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (int64, error) {
		return recordScript.Run(ctx, b.rdb, keys, args...).Int64()
	}, nil)
	if err != nil {
		return fmt.Errorf("redisbus: recording job %s in the ledger: %w", job.ID, err)
	}
	return nil
}

// The longest fields a ledger entry keeps; the claim script quarantines an
// entry with a longer one.
const (
	maxStatusURL = 4096
	maxJobType   = 128
	maxKeyID     = 64
	// maxTrace bounds the optional trace: Record drops a longer one, and
	// the claim script returns none rather than quarantine the entry.
	maxTrace = 128
)

// claimLook is the most due ids one run of the claim script looks at,
// and claimRuns the most runs of one Claim: a script blocks Redis while it
// runs, so a backlog of orphans is dropped a thousand at a time.
const (
	claimLook = 1000
	claimRuns = 100
)

// Claim leases up to max due entries; see [eventbus.Ledger]. It is one
// script per thousand due ids looked at: a range of the due set by score
// (O(log N + max)) and, per entry, a few hash fields and a new score.
// Orphans (ids whose record is gone) are dropped on the way and take no
// place in the batch; an entry this bus could not have written is
// quarantined (moved to the dead set) and returned with its reason in
// ClaimedJob.Quarantine. Claim returns fewer than max claimed entries only
// when no more are due, or after looking at 100 000 ids.
func (b protocol) Claim(ctx context.Context, now, until time.Time, max int) ([]eventbus.ClaimedJob, error) {
	if max <= 0 {
		return nil, nil
	}
	b.checkClock(ctx, now)
	var claims []eventbus.ClaimedJob
	live := 0
	for range claimRuns {
		rows, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) ([]any, error) {
			return claimScript.Run(ctx, b.rdb, []string{b.dueKey(), b.deadKey()},
				ms(now), ms(until), max-live, b.jobKeyPrefix(), deadMax, claimLook).Slice()
		}, nil)
		if err != nil {
			return claims, fmt.Errorf("redisbus: claiming overdue jobs from the ledger: %w", err)
		}
		got, bad, looked, err := parseClaim(rows)
		if err != nil {
			return claims, fmt.Errorf("redisbus: claiming overdue jobs from the ledger: %w", err)
		}
		claims = append(claims, got...)
		claims = append(claims, bad...)
		live += len(got)
		if live >= max || looked < claimLook {
			break
		}
	}
	return claims, nil
}

// parseClaim reads the claim script's reply, whose every string the
// script bounded.
func parseClaim(reply []any) (claimed, quarantined []eventbus.ClaimedJob, looked int64, err error) {
	if len(reply) != 3 {
		return nil, nil, 0, fmt.Errorf("unexpected reply of %d elements", len(reply))
	}
	rows, _ := reply[0].([]any)
	bad, _ := reply[1].([]any)
	looked, _ = reply[2].(int64)
	for _, r := range rows {
		f, ok := r.([]any)
		if !ok || len(f) != 8 {
			return claimed, quarantined, looked, fmt.Errorf("unexpected claimed entry %T", r)
		}
		id, _ := f[0].(string)
		d, _ := f[1].(string)
		u, _ := f[2].(string)
		t, _ := f[3].(string)
		tok, _ := f[4].(int64)
		n, _ := f[5].(int64)
		key, _ := f[6].(string)
		trace, _ := f[7].(string)
		dispatched, _ := strconv.ParseInt(d, 10, 64)
		claimed = append(claimed, eventbus.ClaimedJob{
			PendingJob: eventbus.PendingJob{ID: id, Type: t, StatusURL: u, Dispatched: time.UnixMilli(dispatched), KeyID: key, Trace: trace},
			Token:      tok,
			Tries:      int(n),
		})
	}
	for _, r := range bad {
		f, ok := r.([]any)
		if !ok || len(f) != 2 {
			return claimed, quarantined, looked, fmt.Errorf("unexpected quarantined entry %T", r)
		}
		id, _ := f[0].(string)
		why, _ := f[1].(string)
		quarantined = append(quarantined, eventbus.ClaimedJob{PendingJob: eventbus.PendingJob{ID: id}, Quarantine: why})
	}
	return claimed, quarantined, looked, nil
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
	res, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) ([]any, error) {
		return beginScript.Run(ctx, b.rdb, keys, args...).Slice()
	}, nil)
	var lease eventbus.HookLease
	if err == nil {
		lease, err = hookLease(res)
	}
	if err != nil {
		return eventbus.HookLease{}, fmt.Errorf("redisbus: taking the hook lease of job %s: %w", req.JobID, err)
	}
	return lease, nil
}

// hookLease reads the begin function's answer, {token, runs, trace}.
func hookLease(reply []any) (eventbus.HookLease, error) {
	if len(reply) != 3 {
		return eventbus.HookLease{}, fmt.Errorf("unexpected hook lease reply of %d elements", len(reply))
	}
	token, ok1 := reply[0].(int64)
	runs, ok2 := reply[1].(int64)
	trace, ok3 := reply[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return eventbus.HookLease{}, fmt.Errorf("unexpected hook lease reply of types %T, %T, %T", reply[0], reply[1], reply[2])
	}
	switch {
	case token < 0:
		return eventbus.HookLease{State: eventbus.LeaseDone}, nil
	case token == 0:
		return eventbus.HookLease{State: eventbus.LeaseHeld}, nil
	}
	if len(trace) > maxTrace { // the script bounds it; this says so to a reader
		trace = ""
	}
	return eventbus.HookLease{State: eventbus.LeaseGranted, Token: token, Runs: int(runs), Trace: trace}, nil
}

// StoreBegin stores ev and, if this call stored a terminal event, takes
// its job's hook lease, in one script; see [eventbus.Ledger]. It is the
// reason every key of the bus shares one Redis Cluster slot. A
// non-terminal event is only stored, as Store does.
func (b protocol) StoreBegin(ctx context.Context, ev eventbus.Event, req eventbus.BeginRequest) (bool, eventbus.HookLease, error) {
	if !sharpapi.JobStatus(ev.Status).Terminal() {
		stored, err := b.Store(ctx, ev)
		return stored, eventbus.HookLease{}, err
	}
	if req.JobID != ev.ID {
		return false, eventbus.HookLease{}, fmt.Errorf("redisbus: not storing the event of job %s: its hook lease is asked for job %s", ev.ID, quote(req.JobID))
	}
	keys, args, err := b.storeArgs(ev)
	if err != nil {
		return false, eventbus.HookLease{}, err
	}
	keys = append(keys, b.dueKey(), b.jobKey(ev.ID))
	args = append(args, ms(req.Now), ms(req.Until), ms(req.Expires.Add(time.Hour)))
	res, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) ([]any, error) {
		return storeBeginScript.Run(ctx, b.rdb, keys, args...).Slice()
	}, func(res []any) {
		if len(res) > 0 && res[0] == int64(1) {
			b.logLateStore(ev)
		}
	})
	var lease eventbus.HookLease
	if err == nil && len(res) != 4 {
		err = fmt.Errorf("unexpected reply of %d elements", len(res))
	}
	if err == nil && res[0] != int64(0) && res[0] != int64(1) {
		err = fmt.Errorf("unexpected stored flag %T", res[0])
	}
	if err == nil && res[0] == int64(1) {
		lease, err = hookLease(res[1:])
	}
	if err != nil {
		return false, eventbus.HookLease{}, fmt.Errorf("redisbus: storing the event of job %s: %w", ev.ID, err)
	}
	if res[0] != int64(1) {
		return false, eventbus.HookLease{}, nil
	}
	return true, lease, nil
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

var _ eventbus.Heartbeat = protocol{}

// Extend keeps awaited jobs' entries from coming due before until; see
// [eventbus.Heartbeat]. One script per 500 ids, on the due set alone.
func (b protocol) Extend(ctx context.Context, ids []string, until time.Time) error {
	for chunk := range slices.Chunk(ids, 500) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, ms(until))
		for _, id := range chunk {
			if checkJobID(id) == nil {
				args = append(args, id)
			}
		}
		_, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (int64, error) {
			return extendScript.Run(ctx, b.rdb, []string{b.dueKey()}, args...).Int64()
		}, nil)
		if err != nil {
			return fmt.Errorf("redisbus: extending %d awaited jobs in the ledger: %w", len(chunk), err)
		}
	}
	return nil
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
	// 10 000; sharpapi:{bus}:dead, scored by the time given up).
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
