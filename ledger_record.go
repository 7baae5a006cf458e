package sharpapi

import (
	"context"
	"log/slog"

	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/observe"
)

// recordPending records a job just dispatched with a webhook in the ledger
// of the client's handler, if its bus has one, before the dispatch returns.
// A failure does not fail the dispatch: the job exists at SharpAPI and is
// never POSTed again; it is counted, logged at Warn once per outage, and
// the job's own await still polls after the grace period.
// jo is the job's observation (nil if none): its token, when it gives
// one, goes with the entry, so that a sweeper elsewhere can refer to it.
func (c *Client) recordPending(ctx context.Context, jo *jobObs, id string, typ JobType, statusURL string) {
	h := c.cfg.webhookHandler()
	ls := h.ledger()
	if ls == nil {
		return
	}
	now := h.cfg.clock.Now()
	job := eventbus.PendingJob{ID: id, Type: string(typ), StatusURL: statusURL,
		Dispatched: now, Due: now.Add(c.cfg.webhookGrace), Expires: now.Add(ls.cfg.MaxAge), KeyID: c.keyID}
	if jo != nil {
		job.Trace = jobToken(jo.o)
	}
	if o := h.cfg.observe.record; o != nil {
		ctx = o.StartLedgerRecord(ctx, id)
	}
	// The job exists whatever the caller's context does now: record it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.publishTimeout)
	err := ls.l.Record(rctx, job)
	cancel()
	if o := h.cfg.observe.ledger; o != nil {
		o.LedgerNoted(ctx, observe.LedgerNote{Kind: observe.LedgerRecorded, JobID: id, Err: err})
	}
	if err != nil {
		ls.counts.recordErrors.Add(1)
		if !ls.recordFailing.Swap(true) {
			c.log.LogAttrs(ctx, slog.LevelWarn, "sharpapi: recording dispatched jobs in the event bus's ledger fails; "+
				"they are kept here and recorded once it works again (their own awaits still poll after the grace period)",
				slog.String("job_id", id), slog.String("error", err.Error()))
		}
		if kept, first := ls.outbox.keep(job); !kept {
			if o := h.cfg.observe.ledger; o != nil {
				o.LedgerNoted(ctx, observe.LedgerNote{Kind: observe.LedgerOutboxOverflow, JobID: id})
			}
			ls.counts.outboxOverflow.Add(1)
			if first {
				c.log.LogAttrs(ctx, slog.LevelWarn, "sharpapi: the outbox of jobs waiting to be recorded in the ledger is full; "+
					"jobs dispatched now are not durable",
					slog.Int("outbox_size", OutboxSize), slog.String("job_id", id))
			}
		}
		return
	}
	ls.counts.recorded.Add(1)
	if ls.recordFailing.Swap(false) {
		c.log.LogAttrs(ctx, slog.LevelInfo, "sharpapi: recording dispatched jobs in the event bus's ledger works again",
			slog.String("job_id", id))
	}
	if ls.outbox.waiting() {
		go h.flushOutbox(ls)
	}
}

// maxJobToken bounds the token a job's observation gives for its ledger
// entry (eventbus.PendingJob.Trace): a longer one is not recorded.
const maxJobToken = 128

// jobToken is o's token for the ledger, "" when it gives none or one too
// long.
func jobToken(o observe.JobObservation) string {
	t, ok := o.(observe.JobToken)
	if !ok {
		return ""
	}
	if tok := t.Token(); len(tok) <= maxJobToken {
		return tok
	}
	return ""
}
