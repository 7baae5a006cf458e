package eventbus

import (
	"context"
	"time"
)

// Ledger is an optional interface of an [Bus]: a cluster-wide record of
// the jobs dispatched with a webhook that have not completed yet, so that a
// job whose webhook is lost completes even when the replica that dispatched
// it is gone. Package redisbus implements it; a sharpapi.WebhookHandler whose bus
// implements it uses it on its own, and a bus that does not works as before.
// Users of the SDK need none of its methods: they are the protocol between
// the handler and the bus.
//
// With a ledger, a sharpapi.Client built sharpapi.WithWebhookHandler records every job it
// dispatches with a webhook before the dispatch returns, due at the dispatch
// time plus the client's webhook grace. A job leaves the ledger when its
// terminal event has been stored (by a webhook on any replica, by an await's
// poll, or by a sweeper's poll) and sharpapi.OnEvent has returned nil for it. Every
// replica with a client sweeps the ledger: it claims overdue entries,
// polls each job's status URL, stores the outcome as a webhook would, and
// offers stored events whose OnEvent never finished to OnEvent again. See
// sharpapi.LedgerConfig for the timings and sharpapi.OnEvent for the guarantee.
//
// Tokens fence stale writers: every Claim and every granted Begin draws a
// new token for the entry, and Release, GiveUp and Renew do nothing unless
// the caller's token is still the entry's. Times are the callers' clocks.
type Ledger interface {
	// Record adds job to the ledger, due at job.Due. An entry that exists
	// already, or a job acked recently (within the bus's retention), is
	// left as it is.
	Record(ctx context.Context, job PendingJob) error

	// Claim leases up to max entries due at now to the caller until
	// until: each comes due again then unless it is completed, released
	// or given up before. Any hook lease an entry had has expired by then
	// (it is due) and is dropped. Entries whose record vanished are
	// removed. Claim costs O(log N + max) for a ledger of N entries.
	Claim(ctx context.Context, now, until time.Time, max int) ([]ClaimedJob, error)

	// Begin asks for the right to run OnEvent for the stored terminal
	// event of a job; see [BeginRequest] and [HookLease].
	Begin(ctx context.Context, req BeginRequest) (HookLease, error)
	// StoreBegin is [Bus.Store] of ev and, when ev is terminal and this
	// call stored it, Begin of req with req.Stored true, as one atomic
	// step: the storer of a job's event holds its hook lease from the
	// moment the event is stored, and it costs the bus one call instead of
	// two. req.JobID is ev.ID. Store's contract applies to stored and err
	// (on an error, neither the event nor the lease may be held), and
	// Begin's to lease, which is the zero HookLease (State 0) when ev is
	// not terminal or was stored before: the caller then asks Begin
	// itself if it needs the lease. The handler calls it in place of
	// Store for a terminal event when it has an OnEvent hook to run.
	StoreBegin(ctx context.Context, ev Event, req BeginRequest) (stored bool, lease HookLease, err error)

	// Renew extends a granted hook lease to until, and reports false when
	// token no longer holds it (it expired and another replica took it).
	Renew(ctx context.Context, jobID string, token int64, until time.Time) (bool, error)

	// Ack completes the job: its entry leaves the ledger, and a Record or
	// Begin of the job within the bus's retention does nothing. token is
	// the hook lease's (0 when no hook ran); stale is true when another
	// holder had taken the lease over meanwhile, or acked the job already
	// under its own token, so that OnEvent probably ran twice for the
	// job. Of the acks of one job, only the holder of the last lease gets
	// stale false (and again on a retry of its ack).
	Ack(ctx context.Context, jobID string, token int64) (stale bool, err error)

	// Release makes the entry due at at, and drops the hook lease; it
	// does nothing and reports false unless token is the entry's latest.
	Release(ctx context.Context, jobID string, token int64, at time.Time) (bool, error)

	// GiveUp removes the entry for good (a bus may keep its id in a
	// bounded list of given-up jobs); it does nothing and reports false
	// unless token is the entry's latest.
	GiveUp(ctx context.Context, jobID string, token int64, now time.Time) (bool, error)
}

// PendingJob is a ledger entry as a sharpapi.Client records it.
type PendingJob struct {
	ID        string
	Type      string // a sharpapi.JobType
	StatusURL string
	// Dispatched is when the dispatch returned; Due when the job becomes
	// overdue (Dispatched plus the client's webhook grace); Expires when
	// sweepers give up on it (Dispatched plus sharpapi.LedgerConfig.MaxAge), after
	// which the ledger may drop its record.
	Dispatched, Due, Expires time.Time
	// KeyID tells which API key dispatched the job: a fingerprint of the
	// key (never the key), so that only a client with the same key polls
	// it. Empty for an entry recorded without one: any client polls it.
	KeyID string
	// Trace identifies the job's own trace (a W3C traceparent with
	// otelsharpapi; empty when the job is not traced), so that a sweeper
	// that completes the job on another replica can link its work to it.
	// A ledger keeps it only when it is at most 128 bytes (and may drop
	// it); the reader validates it before use.
	Trace string
}

// ClaimedJob is an entry a sweeper claimed. An entry that Begin created
// has no StatusURL or Type: the job's generic status URL serves.
type ClaimedJob struct {
	PendingJob
	// Token is the claim's fencing token; Tries counts the claims of the
	// entry so far, this one included.
	Token int64
	Tries int
	// Quarantine, when not empty, says why the ledger could not use the
	// entry (its id or record is not one the ledger wrote: a foreign or
	// corrupted key): Claim has moved it out of the way already (into
	// the bus's list of given-up ids) rather than fail the claim for the
	// others, and only ID (bounded) is set besides. The sweeper logs it
	// and counts it as given up.
	Quarantine string
}

// BeginRequest asks for a job's hook lease: the right to run OnEvent for its
// stored event until Until.
type BeginRequest struct {
	JobID string
	// Stored says the caller's own Store stored the event (there is one
	// such caller per job). An entry missing from the ledger is then
	// created (the job was not recorded, or its Record races its webhook)
	// with Expires, so that even such a job reaches OnEvent at least once;
	// for any other caller a missing entry means the job is done.
	Stored bool
	// Now is the caller's clock; a lease granted runs until Until.
	Now, Until time.Time
	// Expires is when an entry that Begin creates is given up, as
	// PendingJob.Expires is for a recorded one (Now plus LedgerConfig.MaxAge).
	Expires time.Time
}

// LeaseState is what Begin answered.
type LeaseState int

const (
	// LeaseGranted: the caller runs OnEvent, under [HookLease].Token.
	LeaseGranted LeaseState = iota + 1
	// LeaseHeld: another replica holds a live lease; it runs OnEvent.
	LeaseHeld
	// LeaseDone: the job was acked (or, for a caller that did not store
	// the event, is not in the ledger): OnEvent is not to run.
	LeaseDone
)

// HookLease is Begin's answer. Runs counts the leases granted for the job,
// this one included: above 1, OnEvent is being offered the event again.
type HookLease struct {
	State LeaseState
	Token int64
	Runs  int
	// Trace is the entry's PendingJob.Trace with a granted lease, when the
	// ledger keeps one (empty otherwise), so that the delivery and the
	// OnEvent run under the lease can link to the job's own trace on
	// whichever replica dispatched it. Like PendingJob.Trace it is bounded
	// by the ledger (at most 128 bytes) but comes from the bus: the
	// reader validates it before use.
	Trace string
}

// Heartbeat is an optional interface of a [Ledger]: a replica that still
// awaits jobs keeps other replicas' sweepers off them, so that a lost
// webhook of a live dispatcher costs one status poll (its own) rather than
// two. Each sweep of a replica calls it with the jobs awaited there.
type Heartbeat interface {
	// Extend makes each pending entry of ids due no earlier than until;
	// an id not in the ledger, or an entry due later already, is left as
	// it is.
	Extend(ctx context.Context, ids []string, until time.Time) error
}
