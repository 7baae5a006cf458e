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
	// ledger's work. ctx is the dispatch's for [LedgerRecorded] and
	// [LedgerOutboxOverflow] (it carries the job's observation: a
	// tracer's span; for LedgerRecorded, the context a
	// [LedgerRecordObserver] returned, when the observer is one), and
	// carries nothing for the other kinds, whose work runs on the
	// handler's own goroutines.
	LedgerNoted(ctx context.Context, n LedgerNote)
}

// LedgerRecordObserver, when a [LedgerObserver] implements it, is told
// when a client starts recording a job it dispatched with a webhook, so
// that the record, a round trip to the bus inside the dispatch, can be
// timed and traced.
type LedgerRecordObserver interface {
	// StartLedgerRecord is called before the record. ctx is the
	// dispatch's (it carries the job's observation). The context it
	// returns is the one the record is sent under (deadline and
	// cancellation apart: the record outlives the caller's context) and
	// the one the [LedgerRecorded] note that ends it is given: it must
	// keep ctx's values.
	StartLedgerRecord(ctx context.Context, jobID string) context.Context
}

// ClaimObserver, when an [Observer] given to sharpapi.NewWebhookHandler
// implements it, is told of the work the handler's sweeper does for each
// ledger entry it claimed: its status poll, the store of the outcome it
// found, and the OnEvent run that follows (told to a [HookObserver] under
// the context StartClaim returned).
type ClaimObserver interface {
	// StartClaim is called as the work begins. The context it returns is
	// the one the work is done under (a tracer's span: the poll's request
	// and the OnEvent run are its children): it must keep ctx's values
	// and cancellation.
	StartClaim(ctx context.Context, c ClaimStart) (context.Context, ClaimObservation)
}

// ClaimStart describes a claimed ledger entry.
type ClaimStart struct {
	// JobID and JobType are the entry's (JobType a sharpapi.JobType
	// constant, [Other], or empty).
	JobID, JobType string
	// Tries counts the claims of the entry, this one included.
	Tries int
	// Trace is the token the job's own observation gave when it was
	// recorded (see [JobToken]), possibly on another replica: a tracer
	// links to it. It comes from the bus: validate it before use. Empty
	// when the job was not observed, or the ledger did not keep it.
	Trace string
}

// ClaimObservation follows the work done for one claimed entry.
type ClaimObservation interface {
	// End is called once, when the sweeper is done with the entry (an
	// OnEvent run it started may still go on).
	End(e ClaimEnd)
}

// ClaimOutcome is what the sweeper made of a claimed entry.
type ClaimOutcome string

// The outcomes of a [ClaimEnd].
const (
	// ClaimCompleted: the job's outcome is in the store, and OnEvent is
	// offered it: Via is [JobViaPoll] when this sweeper polled it and
	// stored it, [JobViaStore] when it found the event stored already.
	ClaimCompleted ClaimOutcome = "completed"
	// ClaimReleased: the entry comes due again later: the job is still
	// running, its poll or a bus call failed (Err says so), or no client
	// here has the API key that dispatched it.
	ClaimReleased ClaimOutcome = "released"
	// ClaimGaveUp: the job left the ledger for good; Reason says why.
	ClaimGaveUp ClaimOutcome = "gave_up"
)

// ClaimEnd is what the sweeper made of a claimed entry.
type ClaimEnd struct {
	Outcome ClaimOutcome
	Via     JobVia
	Reason  LedgerGiveUpReason
	Err     error
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
	// LedgerOutboxOverflow: a job whose Record failed could not wait in
	// the replica's outbox either (it holds sharpapi.OutboxSize jobs): it
	// is not recorded, so not durable. JobID is set; the ctx is the
	// dispatch's, as for the LedgerRecorded note told just before.
	LedgerOutboxOverflow
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
	// LedgerMalformed: the entry's record is not one the ledger wrote (a
	// foreign key, a field too long or not a number): a claim quarantined
	// it.
	LedgerMalformed LedgerGiveUpReason = "malformed"
	// LedgerTooLarge: the job's status answer was larger than a webhook
	// body may be, at three polls.
	LedgerTooLarge LedgerGiveUpReason = "too_large"
	// LedgerNoClient: the job was pending for longer than MaxAge, and
	// the sweeping replica had no client with the API key that dispatched
	// it (see sharpapi.WithWebhookHandler): no sweeper could poll it.
	LedgerNoClient LedgerGiveUpReason = "no_client"
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
	// Recorded counts the jobs this replica's clients recorded, at
	// dispatch or later from the outbox; RecordErrors the records that
	// failed at dispatch (the bus was down): such a job waits in the
	// replica's outbox (sharpapi.OutboxSize) and is recorded once the bus
	// works again; meanwhile its own await polls.
	Recorded, RecordErrors uint64
	// Sweeps counts this replica's sweeps; Claimed the overdue entries they
	// claimed; Polls the status polls sent for them; Completed the jobs
	// they completed (the outcome stored from a poll, or a stored event
	// offered to OnEvent again).
	Sweeps, Claimed, Polls, Completed uint64
	// Acked counts the entries this replica completed: once OnEvent
	// returned nil, or at once without an OnEvent hook. A stale ack is
	// not counted here, so that over the replicas Acked counts each job
	// once.
	Acked uint64
	// HookRedeliveries counts OnEvent runs here for an event offered
	// before: its replica died or stalled past the hook lease, or OnEvent
	// failed. StaleAcks counts acks after the lease had passed to another
	// replica, before or after that replica acked: OnEvent probably ran
	// twice for that job.
	HookRedeliveries, StaleAcks uint64
	// GaveUp counts entries given up (each logged at Warn): older than
	// MaxAge, unknown to SharpAPI (404), or OnEvent failed MaxHookRuns
	// times.
	GaveUp uint64
	// Quarantined counts, among GaveUp, the entries a claim found
	// malformed or foreign (see [eventbus.ClaimedJob].Quarantine).
	Quarantined uint64
	// OutboxOverflow counts the jobs whose ledger record failed while
	// the replica's outbox of such jobs was full (sharpapi.OutboxSize):
	// not recorded, not durable.
	OutboxOverflow uint64
	// Errors counts ledger calls that failed (the bus down or slow).
	Errors uint64
}
