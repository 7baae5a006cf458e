package observe

import "context"

// HookObserver, when an [Observer] given to sharpapi.NewWebhookHandler
// implements it, is told of every run of the handler's OnEvent hook (see
// sharpapi.OnEvent): with an eventbus.Ledger, each run under the job's hook
// lease and what became of the job's entry after it; without one, each
// run and what it returned.
type HookObserver interface {
	// StartHook is called just before OnEvent runs. ctx carries what the
	// run belongs to, when the handler knows it (a sweeper's
	// [ClaimObservation]); its cancellation is the handler's. The context
	// StartHook returns is the one OnEvent is given (a tracer puts the
	// run's span in it, so that the spans of OnEvent's own work nest under
	// it): it must keep ctx's values and cancellation.
	StartHook(ctx context.Context, s HookStart) (context.Context, HookObservation)
}

// HookObservation follows one OnEvent run.
type HookObservation interface {
	// End is called once, when the run and what follows it (the ack, the
	// release or the give-up of the job's ledger entry) are over.
	End(e HookEnd)
}

// HookStart describes an OnEvent run.
type HookStart struct {
	// JobID is the event's job id. JobType and JobStatus are the event's,
	// a sharpapi.JobType and a sharpapi.JobStatus constant, or [Other].
	JobID, JobType, JobStatus string
	// Leased says the run holds the job's hook lease in the ledger; Runs
	// is then the lease's run number: 1 for the first, more when the
	// event is offered again (its replica died or stalled past the lease,
	// or OnEvent failed). Without a ledger, Leased is false and Runs 0.
	Leased bool
	Runs   int
	// Delivery is the event's sharpapi.WebhookEvent.Trace: it identifies
	// the delivery that brought the event, on this replica or another
	// (through the eventbus.Bus); empty when a poll found the outcome.
	Delivery string
	// JobTrace is the token the job's own observation recorded in the
	// eventbus.Ledger with the job (see [JobToken]), possibly on another
	// replica, as the run's hook lease read it: a tracer links the run to
	// the job. It comes from the bus: validate it before use. Empty
	// without a ledger, or when the ledger did not keep one.
	JobTrace string
}

// HookOutcome is what became of an OnEvent run.
type HookOutcome string

// The outcomes of a [HookEnd].
const (
	// HookOK: OnEvent returned nil (no ledger).
	HookOK HookOutcome = "ok"
	// HookFailed: OnEvent returned an error or panicked (no ledger): the
	// event is not offered again.
	HookFailed HookOutcome = "failed"
	// HookAcked: OnEvent returned nil and the job's entry was acked.
	HookAcked HookOutcome = "acked"
	// HookStaleAck: OnEvent returned nil, but its lease had passed to
	// another replica before the ack: OnEvent probably ran twice.
	HookStaleAck HookOutcome = "stale_ack"
	// HookAckFailed: OnEvent returned nil, and the ack failed (the bus
	// down): the event may be offered again.
	HookAckFailed HookOutcome = "ack_failed"
	// HookReleased: OnEvent failed (an error or a panic): the entry is
	// released, to be offered again after a backoff.
	HookReleased HookOutcome = "released"
	// HookGaveUp: OnEvent failed for the sharpapi.LedgerConfig.MaxHookRuns-th
	// time: the job is given up, and not offered again.
	HookGaveUp HookOutcome = "gave_up"
)

// HookEnd is how an OnEvent run ended.
type HookEnd struct {
	Outcome HookOutcome
	// Panicked says OnEvent panicked; Err is then the panic as an error.
	Panicked bool
	// Err is what OnEvent returned (or its panic), nil on success.
	Err error
}
