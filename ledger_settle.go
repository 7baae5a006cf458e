package sharpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/observe"
)

// Completing a job in the ledger. Whoever stores a job's terminal event (a
// webhook's receiver, an await's poll, a sweeper's poll) settles it: it
// holds the hook lease (taken by the store itself, StoreBegin, when there
// is an OnEvent hook), runs OnEvent under it, renewing it, and acks the
// entry once OnEvent has returned nil; an error or a panic releases the
// entry to be offered again after a backoff. A sweeper that finds an
// event stored but never acked (its replica died or stalled in OnEvent)
// settles it the same way. The lease admits one live OnEvent per job, and
// Store's once-only write admits one storer, so OnEvent runs once per job
// unless a replica dies or stalls past its lease between the store and the
// ack.

// newLedgerState returns the handler's ledger state when bus implements
// [eventbus.Ledger], nil otherwise.
func newLedgerState(bus eventbus.Bus, cfg *LedgerConfig) *ledgerState {
	l, ok := bus.(eventbus.Ledger)
	if !ok {
		return nil
	}
	var c LedgerConfig
	if cfg != nil {
		c = *cfg
	}
	return &ledgerState{l: l, cfg: c.withDefaults()}
}

// forever bounds the retries of a call that must not give up while the
// handler is open.
const forever = time.Duration(1<<63 - 1)

// settle completes ev, a terminal event that is in the bus's store. stored
// says this replica's Store stored it. ctx carries what the work belongs
// to, for the observation of the OnEvent run (its values only: the run
// ends with the handler). It runs in a goroutine of its own. It takes the
// job's hook lease, then settles under it (settleLeased).
func (h *WebhookHandler) settle(ctx context.Context, ls *ledgerState, ev WebhookEvent, stored bool) {
	if h.cfg.onEvent == nil {
		h.ack(ls, ev.ID, 0)
		return
	}
	var lease eventbus.HookLease
	err := h.ledgerCall(ls, observe.LedgerOpBegin, forever, func(ctx context.Context) error {
		var err error
		lease, err = ls.l.Begin(ctx, h.beginRequest(ls, ev.ID, stored))
		return err
	})
	if err != nil {
		// The handler closed while the bus was down: the entry, if the
		// job has one, comes due on another replica.
		h.ledgerLog(slog.LevelWarn, "sharpapi: could not take a job's OnEvent lease from the ledger; another replica will offer it",
			slog.String("job_id", ev.ID), slog.String("error", err.Error()))
		return
	}
	h.settleLeased(ctx, ls, ev, lease)
}

// beginRequest asks for jobID's hook lease from now on.
func (h *WebhookHandler) beginRequest(ls *ledgerState, jobID string, stored bool) eventbus.BeginRequest {
	now := h.cfg.clock.Now()
	return eventbus.BeginRequest{JobID: jobID, Stored: stored, Now: now,
		Until: now.Add(ls.cfg.HookLease), Expires: now.Add(ls.cfg.MaxAge)}
}

// settleStored settles ev, a terminal event this replica's storeEvent has
// just stored, in a goroutine of its own: under the hook lease the store
// took, if it took one, else as settle does.
func (h *WebhookHandler) settleStored(ctx context.Context, ls *ledgerState, ev WebhookEvent, lease eventbus.HookLease) {
	if lease.State == 0 {
		go h.settle(ctx, ls, ev, true)
		return
	}
	go h.settleLeased(ctx, ls, ev, lease)
}

// settleLeased is the second half of settle: Begin (or StoreBegin)
// answered lease; OnEvent runs if it was granted, and the entry is acked,
// released or given up after it.
func (h *WebhookHandler) settleLeased(ctx context.Context, ls *ledgerState, ev WebhookEvent, lease eventbus.HookLease) {
	if lease.State != eventbus.LeaseGranted {
		return // acked already, or a live OnEvent elsewhere
	}
	if lease.Runs > ls.cfg.MaxHookRuns {
		h.giveUp(ls, ev.ID, lease.Token, observe.LedgerHookRuns, fmt.Sprintf("OnEvent was offered its event %d times", lease.Runs-1))
		return
	}
	if lease.Runs > 1 {
		if o := h.cfg.observe.ledger; o != nil {
			o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerHookRedelivered, JobID: ev.ID, Runs: lease.Runs})
		}
		ls.counts.redeliveries.Add(1)
		h.ledgerLog(slog.LevelDebug, "sharpapi: offering an event to OnEvent again",
			slog.String("job_id", ev.ID), slog.Int("run", lease.Runs))
	}
	hctx, obs := h.startHook(ctx, ev, lease.Runs, lease.Trace)
	stop := h.keepLease(ls, ev.ID, lease.Token)
	err := h.runOnEvent(hctx, ev)
	stop()
	outcome := observe.HookReleased
	switch {
	case err == nil:
		outcome = h.ack(ls, ev.ID, lease.Token)
	case lease.Runs >= ls.cfg.MaxHookRuns:
		outcome = observe.HookGaveUp
		h.giveUp(ls, ev.ID, lease.Token, observe.LedgerHookRuns, fmt.Sprintf("OnEvent failed %d times", lease.Runs))
	default:
		at := h.cfg.clock.Now().Add(ls.cfg.backoff(lease.Runs))
		h.ledgerCall(ls, observe.LedgerOpRelease, ls.cfg.HookLease, func(ctx context.Context) error {
			_, err := ls.l.Release(ctx, ev.ID, lease.Token, at)
			return err
		})
	}
	if obs != nil {
		obs.End(observe.HookEnd{Outcome: outcome, Panicked: errors.Is(err, errOnEventPanicked), Err: err})
	}
}

// errOnEventPanicked is wrapped by the error runOnEvent returns for a
// panic.
var errOnEventPanicked = errors.New("sharpapi: OnEvent panicked")

// runOnEvent runs the OnEvent hook for ev under ctx and returns its error,
// or a panic's as an error; either is logged and counted.
func (h *WebhookHandler) runOnEvent(ctx context.Context, ev WebhookEvent) (err error) {
	defer func() {
		if p := recover(); p != nil {
			h.stats.callbackPanics.Add(1)
			h.ledgerLog(slog.LevelError, "sharpapi: webhook callback panicked; the event will be offered again",
				slog.String("callback", "OnEvent"), slog.String("job_id", ev.ID),
				slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("%w: %v", errOnEventPanicked, p)
		}
	}()
	err = h.cfg.onEvent(ctx, ev)
	if err != nil {
		h.stats.hookErrors.Add(1)
		h.ledgerLog(slog.LevelWarn, "sharpapi: OnEvent could not take an event; it will be offered again",
			slog.String("job_id", ev.ID), slog.String("job_status", string(ev.Status)), slog.String("error", err.Error()))
	}
	return err
}

// keepLease renews the hook lease on jobID every third of the lease until
// stop is called, the handler closes (a replica that stops must let the
// lease expire, so that another one offers the event), or the lease is
// lost.
func (h *WebhookHandler) keepLease(ls *ledgerState, jobID string, token int64) (stop func()) {
	every := max(ls.cfg.HookLease/3, time.Millisecond)
	var (
		mu      sync.Mutex
		stopped bool
		t       clockTimer
	)
	renew := func() {
		if h.life.Err() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(h.life, h.cfg.publishTimeout)
		held, err := ls.l.Renew(ctx, jobID, token, h.cfg.clock.Now().Add(ls.cfg.HookLease))
		cancel()
		if err != nil {
			h.noteCallFailed(observe.LedgerOpRenew, err)
			ls.counts.errors.Add(1) // tried again at the next tick
		} else if !held {
			h.ledgerLog(slog.LevelWarn, "sharpapi: OnEvent outlived its lease, and another replica took the event over; OnEvent runs twice for it",
				slog.String("job_id", jobID))
			return
		}
		mu.Lock()
		if !stopped {
			t.Reset(every)
		}
		mu.Unlock()
	}
	mu.Lock()
	t = h.cfg.clock.AfterFunc(every, renew)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}

// ack completes jobID's entry, and says how that went.
func (h *WebhookHandler) ack(ls *ledgerState, jobID string, token int64) observe.HookOutcome {
	var stale bool
	err := h.ledgerCall(ls, observe.LedgerOpAck, ls.cfg.HookLease, func(ctx context.Context) error {
		var err error
		stale, err = ls.l.Ack(ctx, jobID, token)
		return err
	})
	if err != nil {
		h.busFailed(&ls.ackFailing, "completing jobs in the ledger fails; OnEvent may see their events again", jobID, err)
		return observe.HookAckFailed
	}
	h.busWorks(&ls.ackFailing, "completing jobs in the ledger works again")
	if !stale {
		ls.counts.acked.Add(1)
		return observe.HookAcked
	}
	// Another holder's ack completes the job (or did): count one ack per
	// job, and this one as stale.
	if o := h.cfg.observe.ledger; o != nil {
		o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerStaleAck, JobID: jobID})
	}
	ls.counts.staleAcks.Add(1)
	return observe.HookStaleAck
}

// giveUp drops jobID's entry for good, with one Warn that gives reason.
func (h *WebhookHandler) giveUp(ls *ledgerState, jobID string, token int64, why observe.LedgerGiveUpReason, reason string) {
	var done bool
	err := h.ledgerCall(ls, observe.LedgerOpGiveUp, ls.cfg.HookLease, func(ctx context.Context) error {
		var err error
		done, err = ls.l.GiveUp(ctx, jobID, token, h.cfg.clock.Now())
		return err
	})
	if err != nil || !done {
		return // the entry comes due again, or another replica holds it now
	}
	if o := h.cfg.observe.ledger; o != nil {
		o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerGaveUp, JobID: jobID, Reason: why})
	}
	ls.counts.gaveUp.Add(1)
	h.ledgerLog(slog.LevelWarn, "sharpapi: gave up on a pending job; OnEvent will not see it",
		slog.String("job_id", jobID), slog.String("reason", reason))
}

// ledgerCall runs call (the ledger's op), each try bounded by the publish
// timeout, and tries again after a failure (from 50 ms, doubling up to
// 5 s) for up to within, and only while the handler is open: a closed
// handler makes one try.
func (h *WebhookHandler) ledgerCall(ls *ledgerState, op observe.LedgerOp, within time.Duration, call func(context.Context) error) error {
	start := h.cfg.clock.Now()
	for delay := loadRetryMin; ; delay = min(2*delay, loadRetryMax) {
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.publishTimeout)
		err := call(ctx)
		cancel()
		if err == nil {
			return nil
		}
		h.noteCallFailed(op, err)
		ls.counts.errors.Add(1)
		if h.life.Err() != nil || h.cfg.clock.Now().Add(delay).Sub(start) > within {
			return err
		}
		wake := make(chan struct{})
		t := h.cfg.clock.AfterFunc(delay, func() { close(wake) })
		select {
		case <-wake:
		case <-h.life.Done():
			t.Stop()
			return err
		}
	}
}

// noteCallFailed tells the observe.LedgerObserver, if there is one, that a call
// for the ledger failed.
func (h *WebhookHandler) noteCallFailed(op observe.LedgerOp, err error) {
	if o := h.cfg.observe.ledger; o != nil {
		o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerCallFailed, Op: op, Err: err})
	}
}

// ledgerLog logs through the handler's logger, if it has one.
func (h *WebhookHandler) ledgerLog(level slog.Level, msg string, attrs ...slog.Attr) {
	if h.log != nil {
		h.log.LogAttrs(context.Background(), level, msg, attrs...)
	}
}

// storeEvent stores ev in the bus. A terminal event of a handler whose
// OnEvent runs under the ledger's lease goes through the ledger's
// StoreBegin, so that the replica that stores it holds the job's hook
// lease from then on without another call: lease is then StoreBegin's
// answer (State 0 when not stored). Otherwise it is Store, and lease the
// zero HookLease.
func (h *WebhookHandler) storeEvent(ctx context.Context, ev WebhookEvent) (stored bool, lease eventbus.HookLease, err error) {
	ls := h.ledger()
	if ls == nil || h.cfg.onEvent == nil || !ev.Status.Terminal() {
		stored, err = h.cfg.bus.Store(ctx, busEvent(ev))
		return stored, eventbus.HookLease{}, err
	}
	return ls.l.StoreBegin(ctx, busEvent(ev), h.beginRequest(ls, ev.ID, true))
}

// storeFound stores a terminal event that a poll found, as a webhook's
// receiver would: cluster-wide once, then to this replica's waiters (the
// bus notifies the others'). stored and lease are storeEvent's answer.
func (h *WebhookHandler) storeFound(ctx context.Context, ev WebhookEvent) (stored bool, lease eventbus.HookLease, err error) {
	release := h.holdNotifications(ev.ID)
	ctx, cancel := context.WithTimeout(ctx, h.cfg.publishTimeout)
	stored, lease, err = h.storeEvent(ctx, ev)
	cancel()
	if err != nil || !stored {
		release(false)
		return false, lease, err
	}
	h.stats.stored.Add(1)
	e := effects{via: observe.JobViaPoll}
	h.deliverAwaited(&e, ev)
	release(true)
	h.run(&e)
	return true, lease, nil
}

// settlePolled hands a terminal snapshot that an await's poll saw to the
// ledger, when the client's handler has one and the job was dispatched
// with a webhook: it is stored as its webhook would be (so any replica
// awaiting the job gets it, and a webhook arriving later is a duplicate),
// and settled if this replica stored it. The await has its outcome
// already; this runs in a goroutine of its own. ctx is the await's: its
// values (the job's observation) go to the OnEvent run's.
func (c *Client) settlePolled(ctx context.Context, jobID string, typ JobType, webhook bool, snap *JobSnapshot) {
	h := c.cfg.webhookHandler()
	ls := h.ledger()
	if !webhook || ls == nil {
		return
	}
	if snap.Type != "" {
		typ = snap.Type
	}
	ev := WebhookEvent{ID: jobID, Status: snap.Status, Type: typ, Result: snap.Result}
	// The await that polled has just left the job's waiters: the event
	// coming back through the bus is not a late one.
	h.mu.Lock()
	h.abandoned.remove(jobID)
	h.mu.Unlock()
	go func() {
		stored, lease, err := h.storeFound(h.life, ev)
		if err != nil {
			// The entry stays in the ledger; a sweeper completes it.
			h.noteCallFailed(observe.LedgerOpStore, err)
			ls.counts.errors.Add(1)
			h.ledgerLog(slog.LevelDebug, "sharpapi: storing a polled outcome in the event bus failed",
				slog.String("job_id", jobID), slog.String("error", err.Error()))
			return
		}
		if stored {
			h.settleStored(ctx, ls, ev, lease)
		}
	}()
}
