package sharpapi

// The observation of OnEvent runs (observe.HookObserver), with a ledger's
// lease or without.

import (
	"context"
	"log/slog"

	"github.com/sharpapi-go/sharpapi/observe"
)

// hookContext is OnEvent's context when its run is observed: the
// handler's life (its cancellation) with the values of the context the
// run belongs to (a sweeper's observation, say), whose own cancellation
// does not reach OnEvent.
type hookContext struct {
	context.Context // the handler's life
	values          context.Context
}

func (c hookContext) Value(key any) any { return c.values.Value(key) }

// startHook begins the observation of an OnEvent run of ev, told to the
// observe.HookObserver if there is one. parent carries what the run
// belongs to; runs is the run's number under the job's hook lease, 0
// without a ledger, and jobTrace the job's token the lease read from the
// ledger (eventbus.HookLease.Trace). It returns OnEvent's context (the
// handler's life without an observer) and the observation (nil without
// one).
func (h *WebhookHandler) startHook(parent context.Context, ev WebhookEvent, runs int, jobTrace string) (context.Context, observe.HookObservation) {
	o := h.cfg.observe.hook
	if o == nil {
		return h.life, nil
	}
	ctx, obs := o.StartHook(hookContext{h.life, parent}, observe.HookStart{
		JobID: ev.ID, JobType: observedType("", ev.Type), JobStatus: observedStatus(ev.Status),
		Leased: runs > 0, Runs: runs, Delivery: ev.Trace, JobTrace: jobTrace,
	})
	if obs == nil {
		return h.life, nil
	}
	return ctx, obs
}

// runHook runs fn, the OnEvent hook, for ev without a ledger's lease: its
// error is logged and counted, and a panic goes on to the caller (h.call
// recovers and logs it).
func (h *WebhookHandler) runHook(fn func(context.Context, WebhookEvent) error, ev WebhookEvent) {
	ctx, obs := h.startHook(context.Background(), ev, 0, "")
	if obs == nil {
		if err := fn(ctx, ev); err != nil {
			h.hookFailed(ev, err)
		}
		return
	}
	end := observe.HookEnd{Outcome: observe.HookFailed, Panicked: true, Err: errOnEventPanicked}
	defer func() { obs.End(end) }() // a panic's end too
	err := fn(ctx, ev)
	end = observe.HookEnd{Outcome: observe.HookOK, Err: err}
	if err != nil {
		end.Outcome = observe.HookFailed
		h.hookFailed(ev, err)
	}
}

// hookFailed counts and logs an error OnEvent returned without a ledger.
func (h *WebhookHandler) hookFailed(ev WebhookEvent, err error) {
	h.stats.hookErrors.Add(1)
	if h.log != nil {
		h.log.Warn("sharpapi: OnEvent could not take an event",
			slog.String("job_id", ev.ID), slog.String("job_status", string(ev.Status)), slog.String("error", err.Error()))
	}
}
