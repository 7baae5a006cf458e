package observe

import "context"

// LedgerObserver, when an [Observer] given to sharpapi.NewWebhookHandler
// implements it, is told what this replica does with its eventbus.Bus's
// eventbus.Ledger as it happens: the events that sharpapi.WebhookStats.Ledger counts
// (Acked and Polls aside). Each note is told just before its count is
// added, but a sweep's, which is told when the sweep ends, with the
// entries it claimed. The handler's observer is told of the jobs that the
// clients built sharpapi.WithWebhookHandler record too: the ledger is the
// handler's. What the ledger holds cluster-wide is the bus's to tell
// (redisbus: Bus.LedgerStats).
type LedgerObserver interface {
	// LedgerNoted is called once per event, on the goroutine that did the
	// ledger's work. ctx is the dispatch's for [LedgerRecorded] (it
	// carries the job's observation: a tracer's span), and carries nothing
	// for the other kinds, whose work runs on the handler's own
	// goroutines.
	LedgerNoted(ctx context.Context, n LedgerNote)
}

// LedgerNoteKind says what a [LedgerNote] tells.
type LedgerNoteKind uint8

// The kinds of [LedgerNote]. More may be added: ignore the ones you do not
// know.
const (
	// LedgerRecorded: a client recorded a job it dispatched with a
	// webhook (Err nil), or could not (Err set: the bus is down or slow;
	// the job is not durable until its event is stored, and its own
	// await polls after the grace period). JobID is set.
	LedgerRecorded LedgerNoteKind = iota + 1
	// LedgerSwept: a sweep ended; Claimed counts the overdue entries it
	// claimed (usually 0: nothing is overdue while webhooks arrive).
	LedgerSwept
	// LedgerCompleted: the sweeper completed a job whose webhook was lost
	// or whose replica died: Via is [JobViaPoll] when it polled the job
	// and stored its outcome, [JobViaStore] when it found the job's event
	// stored but never acked and offers it to OnEvent again. JobID is
	// set.
	LedgerCompleted
	// LedgerHookRedelivered: OnEvent runs for an event offered before
	// (its replica died or stalled past the hook lease, or OnEvent
	// failed); Runs is this run's number (2 for the first redelivery).
	// JobID is set.
	LedgerHookRedelivered
	// LedgerStaleAck: a job was acked after its hook lease had passed to
	// another replica: OnEvent probably ran twice for it. JobID is set.
	LedgerStaleAck
	// LedgerGaveUp: a job left the ledger without reaching OnEvent, or
	// after OnEvent failed for it too often; Reason says why. The handler
	// logs it at Warn. JobID is set.
	LedgerGaveUp
	// LedgerCallFailed: a call to the ledger (or to the bus on the
	// ledger's behalf) failed: Op names it, Err says why. The work is
	// tried again (the call, or the entry at a later sweep). A failed
	// Record is told as LedgerRecorded instead.
	LedgerCallFailed
)

// LedgerNote is one thing this replica did with its ledger. Each field is
// set for the kinds its comment names, and zero otherwise.
type LedgerNote struct {
	Kind LedgerNoteKind
	// JobID is the job's, for a note about one job.
	JobID string
	// Claimed is the number of entries a sweep claimed (LedgerSwept).
	Claimed int
	// Via says how the sweeper completed a job (LedgerCompleted).
	Via JobVia
	// Runs is the number of the OnEvent run (LedgerHookRedelivered).
	Runs int
	// Reason is why a job was given up (LedgerGaveUp).
	Reason LedgerGiveUpReason
	// Op is the call that failed (LedgerCallFailed).
	Op LedgerOp
	// Err is a failed Record's error (LedgerRecorded) or a failed call's
	// (LedgerCallFailed). It holds no secret, but may hold the job's id.
	Err error
}

// LedgerGiveUpReason says why a job was given up.
type LedgerGiveUpReason string

// The reasons of a [LedgerGaveUp] note.
const (
	// LedgerMaxAge: the job was pending for longer than
	// sharpapi.LedgerConfig.MaxAge.
	LedgerMaxAge LedgerGiveUpReason = "max_age"
	// LedgerNotFound: SharpAPI does not know the job (its poll answered
	// 404).
	LedgerNotFound LedgerGiveUpReason = "not_found"
	// LedgerHookRuns: OnEvent was offered the job's event
	// sharpapi.LedgerConfig.MaxHookRuns times and never took it.
	LedgerHookRuns LedgerGiveUpReason = "hook_runs"
	// LedgerInvalidID: the entry's id is not one SharpAPI could have
	// given (another writer put it in the ledger).
	LedgerInvalidID LedgerGiveUpReason = "invalid_id"
)

// LedgerOp names a call made for the ledger.
type LedgerOp string

// The calls of a [LedgerCallFailed] note: the eventbus.Ledger's methods, and the
// eventbus.Bus calls the sweeper and a poll's hand-off make.
const (
	LedgerOpClaim   LedgerOp = "claim"   // the sweeper's Claim
	LedgerOpBegin   LedgerOp = "begin"   // taking a job's hook lease
	LedgerOpRenew   LedgerOp = "renew"   // renewing it while OnEvent runs
	LedgerOpAck     LedgerOp = "ack"     // completing a job
	LedgerOpRelease LedgerOp = "release" // making an entry due again later
	LedgerOpGiveUp  LedgerOp = "give_up" // dropping an entry for good
	LedgerOpLoad    LedgerOp = "load"    // the sweeper's look for a stored event
	LedgerOpStore   LedgerOp = "store"   // storing an outcome a poll found
)

// LedgerCounts counts what one replica did with its bus's eventbus.Ledger; all zero
// without one. A [LedgerObserver] is told of each event as it happens. The
// ledger's own size is the bus's to report (redisbus: Bus.LedgerStats).
type LedgerCounts struct {
	// Recorded counts the jobs this replica's clients recorded;
	// RecordErrors those they could not (the bus was down): such a job is
	// not durable until its event is stored, and its own await polls.
	Recorded, RecordErrors uint64
	// Sweeps counts this replica's sweeps; Claimed the overdue entries they
	// claimed; Polls the status polls sent for them; Completed the jobs
	// they completed (the outcome stored from a poll, or a stored event
	// offered to OnEvent again).
	Sweeps, Claimed, Polls, Completed uint64
	// Acked counts the entries this replica completed: once OnEvent
	// returned nil, or at once without an OnEvent hook.
	Acked uint64
	// HookRedeliveries counts OnEvent runs here for an event offered
	// before: its replica died or stalled past the hook lease, or OnEvent
	// failed. StaleAcks counts acks after the lease had passed to another
	// replica: OnEvent probably ran twice for that job.
	HookRedeliveries, StaleAcks uint64
	// GaveUp counts entries given up (each logged at Warn): older than
	// MaxAge, unknown to SharpAPI (404), or OnEvent failed MaxHookRuns
	// times.
	GaveUp uint64
	// Errors counts ledger calls that failed (the bus down or slow).
	Errors uint64
}
