package sharpapi

import (
	"crypto/sha256"
	"encoding/hex"
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
	outbox outbox // jobs whose Record failed
	// recordFailing, sweepFailing and ackFailing make one Warn per outage.
	recordFailing, sweepFailing, ackFailing atomic.Bool

	mu      sync.Mutex
	closed  bool     // the handler closed: no sweeper starts
	sweeper *sweeper // started by the first client built with the handler
	// clients holds the first client built with the handler per API key,
	// by the key's fingerprint (ledgerKeyID): the sweeper polls a job
	// with the key that dispatched it.
	clients map[string]*Client
}

// ledgerKeyID is the fingerprint of an API key that a ledger entry
// records: 16 hex digits of a SHA-256 of the key under a label of its own,
// enough to tell a handful of accounts apart and useless to recover or
// test a key with.
func ledgerKeyID(key string) string {
	sum := sha256.Sum256([]byte("sharpapi-ledger:" + key))
	return hex.EncodeToString(sum[:8])
}

type ledgerCounters struct {
	recorded, recordErrors, sweeps, claimed, polls, completed atomic.Uint64
	acked, redeliveries, staleAcks, gaveUp, errors            atomic.Uint64
	quarantined, outboxOverflow                               atomic.Uint64
}

func (c *ledgerCounters) snapshot() observe.LedgerCounts {
	return observe.LedgerCounts{
		Recorded: c.recorded.Load(), RecordErrors: c.recordErrors.Load(),
		Sweeps: c.sweeps.Load(), Claimed: c.claimed.Load(), Polls: c.polls.Load(), Completed: c.completed.Load(),
		Acked: c.acked.Load(), HookRedeliveries: c.redeliveries.Load(), StaleAcks: c.staleAcks.Load(),
		GaveUp: c.gaveUp.Load(), Quarantined: c.quarantined.Load(), OutboxOverflow: c.outboxOverflow.Load(), Errors: c.errors.Load(),
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
