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
func (c *Client) recordPending(ctx context.Context, id string, typ JobType, statusURL string) {
	h := c.cfg.webhookHandler()
	ls := h.ledger()
	if ls == nil {
		return
	}
	now := h.cfg.clock.Now()
	job := eventbus.PendingJob{ID: id, Type: string(typ), StatusURL: statusURL,
		Dispatched: now, Due: now.Add(c.cfg.webhookGrace), Expires: now.Add(ls.cfg.MaxAge)}
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
				"until it works again they are not durable (their own awaits still poll after the grace period)",
				slog.String("job_id", id), slog.String("error", err.Error()))
		}
		return
	}
	ls.counts.recorded.Add(1)
	if ls.recordFailing.Swap(false) {
		c.log.LogAttrs(ctx, slog.LevelInfo, "sharpapi: recording dispatched jobs in the event bus's ledger works again",
			slog.String("job_id", id))
	}
}
