package sharpapi

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/sharpapi-go/sharpapi/eventbus"
)

// OutboxSize is the most jobs a handler keeps, per replica, whose ledger
// record failed (the bus was down): they are recorded once the bus works
// again, at the next successful record or the next sweep, so that they
// reach OnEvent like any other. A job dispatched while the outbox is full
// is only counted (LedgerCounts.OutboxOverflow) and warned about once per
// outage: its own await still polls, but no other replica would complete
// it.
const OutboxSize = 10000

// outbox holds the jobs whose Record failed, oldest first.
type outbox struct {
	mu         sync.Mutex
	jobs       []eventbus.PendingJob
	overflowed bool // warned about since the outbox last had room
	flushing   bool // a flush runs: one at a time, in order
}

// keep adds job to the outbox; it reports false when the outbox is full,
// and first tells whether this overflow is the first since it had room.
func (o *outbox) keep(job eventbus.PendingJob) (kept, firstOverflow bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.jobs) >= OutboxSize {
		first := !o.overflowed
		o.overflowed = true
		return false, first
	}
	o.jobs = append(o.jobs, job)
	return true, false
}

// waiting reports whether jobs wait in the outbox.
func (o *outbox) waiting() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.jobs) > 0
}

// flushOutbox records the outbox's jobs in order until one fails, and drops
// those recorded. Only one flush runs at a time; another caller returns
// at once.
func (h *WebhookHandler) flushOutbox(ls *ledgerState) {
	o := &ls.outbox
	o.mu.Lock()
	if o.flushing || len(o.jobs) == 0 {
		o.mu.Unlock()
		return
	}
	o.flushing = true
	pending := append([]eventbus.PendingJob(nil), o.jobs...)
	o.mu.Unlock()
	done := 0
	for _, job := range pending {
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.publishTimeout)
		err := ls.l.Record(ctx, job)
		cancel()
		if err != nil {
			ls.counts.errors.Add(1)
			break
		}
		done++
	}
	ls.counts.recorded.Add(uint64(done))
	o.mu.Lock()
	o.jobs = o.jobs[done:]
	if len(o.jobs) < OutboxSize {
		o.overflowed = false
	}
	o.flushing = false
	left := len(o.jobs)
	o.mu.Unlock()
	if done > 0 {
		h.ledgerLog(slog.LevelInfo, "sharpapi: recorded in the ledger the jobs dispatched while it failed",
			slog.Int("recorded", done), slog.Int("left", left))
	}
}

// logUnrecorded says, once, at the handler's Close, which jobs are still
// in the outbox: they will not reach OnEvent on another replica (the
// first 20 ids, and the count).
func (h *WebhookHandler) logUnrecorded(ls *ledgerState) {
	o := &ls.outbox
	o.mu.Lock()
	n := len(o.jobs)
	ids := make([]string, 0, min(n, 20))
	for _, j := range o.jobs[:min(n, 20)] {
		ids = append(ids, j.ID)
	}
	o.mu.Unlock()
	if n == 0 {
		return
	}
	h.ledgerLog(slog.LevelWarn, "sharpapi: the handler closed with jobs never recorded in the ledger (it failed since their dispatch); they reach OnEvent only through their own awaits",
		slog.Int("jobs", n), slog.String("job_ids", strings.Join(ids, ",")+ellipsis(n-len(ids))))
}

func ellipsis(more int) string {
	if more <= 0 {
		return ""
	}
	return ",…(" + strconv.Itoa(more) + " more)"
}
