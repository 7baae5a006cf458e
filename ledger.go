package sharpapi

import (
	"sync"
	"sync/atomic"

	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/observe"
)

// ledgerState is a handler's side of its bus's ledger.
type ledgerState struct {
	l   eventbus.Ledger
	cfg LedgerConfig // defaults filled in

	counts ledgerCounters
	// recordFailing and sweepFailing make one Warn per outage.
	recordFailing, sweepFailing atomic.Bool

	mu      sync.Mutex
	closed  bool     // the handler closed: no sweeper starts
	sweeper *sweeper // started by the first client built with the handler
}

type ledgerCounters struct {
	recorded, recordErrors, sweeps, claimed, polls, completed atomic.Uint64
	acked, redeliveries, staleAcks, gaveUp, errors            atomic.Uint64
}

func (c *ledgerCounters) snapshot() observe.LedgerCounts {
	return observe.LedgerCounts{
		Recorded: c.recorded.Load(), RecordErrors: c.recordErrors.Load(),
		Sweeps: c.sweeps.Load(), Claimed: c.claimed.Load(), Polls: c.polls.Load(), Completed: c.completed.Load(),
		Acked: c.acked.Load(), HookRedeliveries: c.redeliveries.Load(), StaleAcks: c.staleAcks.Load(),
		GaveUp: c.gaveUp.Load(), Errors: c.errors.Load(),
	}
}

// ledger returns h's ledger state, or nil when h's bus has no ledger (or h
// is nil or zero).
func (h *WebhookHandler) ledger() *ledgerState {
	if h == nil {
		return nil
	}
	return h.busState.ledger
}

// ledgerCounts is what WebhookStats reports.
func (h *WebhookHandler) ledgerCounts() observe.LedgerCounts {
	if ls := h.ledger(); ls != nil {
		return ls.counts.snapshot()
	}
	return observe.LedgerCounts{}
}
