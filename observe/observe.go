// Package observe is the protocol between the sharpapi SDK and an observer
// of what it does: for implementers. Package otelsharpapi implements it with
// OpenTelemetry; implement it to feed another system. Users of the SDK need
// none of these names: they pass an observer to sharpapi.WithObserver, and
// read sharpapi.WebhookStats.
//
// The package stands beside sharpapi the way net/http/httptrace stands
// beside net/http: sharpapi imports it, it imports nothing of sharpapi, so a
// job's type and status are plain strings here (the values of sharpapi.JobType
// and sharpapi.JobStatus).
package observe

import (
	"context"
	"net/http"
	"time"
)

// Other stands, in what an observer is told, for a job type or status a
// server reported that is not one of package sharpapi's constants. An
// observer is never given such a string: it could be anything (the API key
// included), and one value per job would give a metric one series per job.
const Other = "_OTHER"

// Provider is what sharpapi.WithObserver accepts: a value that gives the
// SDK its Observer. An observer's own type implements it, so that the
// protocol's methods stay off the type users hold (otelsharpapi.Observer
// shows users its options, not StartJob); an Observer of your own can
// return itself.
type Provider interface {
	Observer() Observer
}

// Observer is told what happens to each job of a sharpapi.Client, from its dispatch
// to its outcome: give it to sharpapi.NewClient with sharpapi.WithObserver. Package
// otelsharpapi implements it with OpenTelemetry; implement it yourself to
// feed another system.
//
// An Observer may also implement any of [RequestObserver],
// [LimiterObserver], [DeliveryObserver], [BusObserver], [LedgerObserver]
// (and [LedgerRecordObserver]), [HookObserver] and [ClaimObserver]: NewClient and sharpapi.NewWebhookHandler look for them once,
// when they are built, so that an observer interested in one kind of event
// implements just that (the way pgx's tracers do). Interfaces added later
// are optional in the same way, so no implementer breaks.
//
// Observers are called on the SDK's goroutines, some of them with a job's
// or the handler's lock held: they must return quickly, must not block,
// and must not call back into the Client or the WebhookHandler. What they
// are given never holds the API key, a webhook secret or signature, a
// URL's user info or query, or a result body.
type Observer interface {
	// StartJob begins the observation of one job: at the start of its
	// dispatch (start.ID is then empty: the id is told by the
	// [JobDispatched] note), or when an await begins for a job not
	// observed yet: one given by sharpapi.ResumeJob, or one awaited again after
	// its earlier awaits all ended without its outcome (start.Resumed).
	// It returns the context the job's requests are sent under (a tracer
	// puts the job's span in it) and the job's observation; a nil
	// observation leaves the job unobserved.
	StartJob(ctx context.Context, start JobStart) (context.Context, JobObservation)
}

// JobObservation follows one job. Its End is called once, when the job's
// outcome is known here, or when every await of it ended without one; a
// job dispatched and never awaited is never ended. Note and End may be
// called from different goroutines, never after End.
type JobObservation interface {
	// Context returns ctx made to carry the job, for the requests of one
	// await of it (its status polls): a tracer parents their spans to the
	// job's. The result must keep ctx's values, deadline and cancellation.
	Context(ctx context.Context) context.Context
	// Note tells something that happened to the job; see [JobNoteKind].
	// Kinds may be added: ignore the ones you do not know.
	Note(note JobNote)
	// End tells how the job's observation ended.
	End(end JobEnd)
}

// JobToken, when a [JobObservation] implements it, identifies the job's
// observation beyond this process: a client records the token with the
// job in its handler's eventbus.Ledger (eventbus.PendingJob.Trace), so
// that a sweeper completing the job on another replica tells it to its
// observer ([ClaimStart].Trace). A tracer returns the job span's W3C
// traceparent. A token longer than 128 bytes is not recorded.
type JobToken interface {
	Token() string
}

// JobStart describes a job whose observation begins.
type JobStart struct {
	// ID is the job's id when known: empty at a dispatch's start.
	ID string
	// Type is the sharpapi.JobType the client chose: the dispatch's, or
	// ResumeJob's argument (possibly empty); never one a server reported.
	Type string
	// Webhook says the job's outcome is expected by webhook (its await
	// listens for one).
	Webhook bool
	// Resumed says the observation begins at an await, not at the
	// dispatch: a job given by ResumeJob, or awaited again after its
	// earlier awaits ended without the outcome.
	Resumed bool
}

// JobNoteKind says what a [JobNote] tells.
type JobNoteKind uint8

// The kinds of [JobNote]. More may be added.
const (
	// JobDispatched: SharpAPI accepted the job; ID is set.
	JobDispatched JobNoteKind = iota + 1
	// JobWebhookReceived: the job's webhook event reached an await of it,
	// from a delivery to this replica or from the eventbus.Bus's store.
	// Status is the event's; Trace identifies the delivery (see
	// sharpapi.WebhookEvent.Trace).
	JobWebhookReceived
	// JobGraceExpired: no webhook came within the grace period
	// (sharpapi.WithWebhookGrace); the await polls from now on.
	JobGraceExpired
	// JobPolled: a status poll answered (Status set) or failed (Err set;
	// a transient failure is tried again).
	JobPolled
	// JobAwaitEnded: one await of the job ended without the outcome (its
	// context ended; Err says so) while others still await it.
	JobAwaitEnded
)

// JobNote is one thing that happened to an observed job.
type JobNote struct {
	Kind JobNoteKind
	ID   string
	// Status is a sharpapi.JobStatus constant, or [Other] for a status a
	// server reported that is not one.
	Status string
	// Trace is a webhook event's sharpapi.WebhookEvent.Trace.
	Trace string
	Err   error
}

// JobOutcome is how a job's observation ended.
type JobOutcome string

// The outcomes of a [JobEnd].
const (
	// JobSucceeded: the job's result was returned.
	JobSucceeded JobOutcome = "success"
	// JobFailed: SharpAPI reported the job failed (sharpapi.JobFailedError).
	JobFailed JobOutcome = "failed"
	// JobErrored: the dispatch failed, a poll failed for good, or the
	// result could not be decoded.
	JobErrored JobOutcome = "error"
	// JobCancelled: every await of the job ended (its context did) before
	// the outcome was known. The job itself goes on at SharpAPI.
	JobCancelled JobOutcome = "cancelled"
)

// JobVia says how a job's outcome reached this process.
type JobVia string

// How an outcome came, in [JobEnd].Via.
const (
	// JobViaWebhook: a webhook delivered to this replica's handler.
	JobViaWebhook JobVia = "webhook"
	// JobViaPoll: a status poll.
	JobViaPoll JobVia = "poll"
	// JobViaStore: the eventbus.Bus's store, where a delivery to any
	// replica put it.
	JobViaStore JobVia = "store"
)

// JobEnd is how a job's observation ended.
type JobEnd struct {
	ID string
	// Type is the type the client chose, as in [JobStart]; when it chose
	// none, the type the server reported if it is a sharpapi.JobType
	// constant, else [Other] ("" if none was reported).
	Type    string
	Outcome JobOutcome
	// Via is set for a job that ended with its outcome (succeeded,
	// failed, or a result that did not decode).
	Via JobVia
	// Polls counts the status polls sent for the job during the
	// observation, failed ones included.
	Polls int
	// Err is the error the await returned (nil on success). A
	// *sharpapi.JobFailedError's Detail is SharpAPI's result for the failed job:
	// an observer should not record it.
	Err error
}

// RequestObserver, when an [Observer] implements it, is told of every HTTP
// attempt a sharpapi.Client sends, retries and redirects included, once the rate
// limiter has let it go (the limiter's wait is told to a
// [LimiterObserver]).
type RequestObserver interface {
	// StartRequest is called before the attempt is sent; the context it
	// returns is handed to EndRequest (the request itself is sent under
	// its own: nothing is added to the outgoing request).
	StartRequest(ctx context.Context, r RequestStart) context.Context
	// EndRequest is called when the attempt has its answer's header, or
	// failed.
	EndRequest(ctx context.Context, r RequestEnd)
}

// RequestKind says what a request is for.
type RequestKind string

// The kinds of request.
const (
	RequestDispatch RequestKind = "dispatch" // a job's POST
	RequestPoll     RequestKind = "poll"     // a job's status GET
	RequestCall     RequestKind = "call"     // a synchronous endpoint
)

// RequestStart describes an HTTP attempt.
type RequestStart struct {
	Method string
	// URL is the request's URL without user info or query; Host (with
	// its port, if the URL has one) and Path are its parts.
	URL, Host, Path string
	Kind            RequestKind
	// JobID is the polled job's id; empty for other kinds.
	JobID string
	// Resend counts the attempts of the same call before this one
	// (retries, redirects).
	Resend int
}

// RequestEnd is an HTTP attempt's result: a status code, or an error when
// no answer came.
type RequestEnd struct {
	StatusCode int
	Err        error
}

// LimiterObserver, when an [Observer] implements it, is told of every
// request the client's rate limiter held back (see sharpapi.Client.Limiter).
type LimiterObserver interface {
	// LimiterHeld is called when a held request goes, or gives up. ctx is
	// the request's: it carries the job's context for a dispatch or a
	// poll.
	LimiterHeld(ctx context.Context, h LimiterHold)
}

// LimiterReason says why the rate limiter held a request.
type LimiterReason string

// The rate limiter's reasons.
const (
	LimiterPaused          LimiterReason = "paused_429"       // a 429 paused the whole client
	LimiterCallsFirst      LimiterReason = "calls_first"      // calls go before status polls
	LimiterSpacing         LimiterReason = "spacing"          // spacing requests to the plan's limit
	LimiterProbing         LimiterReason = "probing_window"   // awaiting the window's first answer
	LimiterWindowUsedUp    LimiterReason = "window_used_up"   // the plan's window is used up
	LimiterAwaitingAnswers LimiterReason = "awaiting_answers" // awaiting answers before sending more
	LimiterOther           LimiterReason = "other"            // a reason added after this list
)

// LimiterHold is one request's wait in the rate limiter.
type LimiterHold struct {
	Kind RequestKind
	// Reason is why the request was first held.
	Reason LimiterReason
	Waited time.Duration
	// GaveUp says the request did not go: its context ended, or the wait
	// would outlast its deadline.
	GaveUp bool
}

// DeliveryObserver, when an [Observer] given to sharpapi.NewWebhookHandler
// implements it, is told of every request the handler answers.
type DeliveryObserver interface {
	// StartDelivery is called as the request arrives. r must not be
	// modified, and its signature header and body must not be recorded.
	// The context it returns is the request's from then on.
	StartDelivery(ctx context.Context, r *http.Request) (context.Context, DeliveryObservation)
}

// DeliveryObservation follows one webhook delivery.
type DeliveryObservation interface {
	// Token identifies the delivery: the handler gives it to the event
	// (as sharpapi.WebhookEvent.Trace), so that the job the event completes,
	// on this replica or on another through the eventbus.Bus, can refer
	// to it. A tracer returns the delivery span's W3C traceparent.
	Token() string
	// End is called once, with the handler's answer.
	End(d DeliveryEnd)
}

// DeliveryOutcome is what the handler made of a delivery.
type DeliveryOutcome string

// The outcomes of a delivery.
const (
	DeliveryDelivered        DeliveryOutcome = "delivered"          // handed to the job's awaits here
	DeliveryBuffered         DeliveryOutcome = "buffered"           // kept for an await to come
	DeliveryLate             DeliveryOutcome = "late"               // its job's awaits here had given up
	DeliveryUnmatched        DeliveryOutcome = "unmatched"          // no await took it (OnUnmatched)
	DeliveryDuplicate        DeliveryOutcome = "duplicate"          // seen before: a retry or replay
	DeliveryNonTerminal      DeliveryOutcome = "non_terminal"       // a progress status
	DeliveryStored           DeliveryOutcome = "stored"             // stored in the EventBus
	DeliveryStoredDelivered  DeliveryOutcome = "stored_delivered"   // stored, and handed to awaits here
	DeliveryStoredLate       DeliveryOutcome = "stored_late"        // stored; its awaits here had given up
	DeliveryStoreFailed      DeliveryOutcome = "store_failed"       // the EventBus's Store failed (503)
	DeliveryClosed           DeliveryOutcome = "closed"             // verified as the handler closed
	DeliveryRejectedMethod   DeliveryOutcome = "rejected_method"    // not a POST (405)
	DeliveryRejectedSig      DeliveryOutcome = "rejected_signature" // missing, malformed or wrong signature (401)
	DeliveryRejectedTooLarge DeliveryOutcome = "rejected_too_large" // body over the limit (413)
	DeliveryRejectedBody     DeliveryOutcome = "rejected_malformed" // unreadable, or not a webhook payload (400)
	DeliveryRejectedClosed   DeliveryOutcome = "rejected_closed"    // the handler is closed (503)
	DeliveryRejectedBusy     DeliveryOutcome = "rejected_busy"      // the budget of unverified bytes is used up (503)
	DeliveryOther            DeliveryOutcome = "other"              // an outcome added after this list
)

// DeliveryEnd is the handler's answer to a delivery.
type DeliveryEnd struct {
	StatusCode int
	Outcome    DeliveryOutcome
	// JobID, JobType and JobStatus are the event's, once its signature
	// was verified and it parsed; empty otherwise. JobType is a
	// sharpapi.JobType constant and JobStatus a sharpapi.JobStatus
	// constant, or [Other]: a server's own strings are never passed on.
	JobID     string
	JobType   string
	JobStatus string
	// JobTrace is the token the job's own observation recorded in the
	// eventbus.Ledger with the job (see [JobToken]), possibly on another
	// replica, when the store had it: the ledger's entry of a job this
	// delivery stored, read as the handler took the job's OnEvent lease.
	// A tracer links the delivery to the job. It comes from the bus:
	// validate it before use. Empty otherwise (no ledger, no OnEvent hook,
	// a job not observed or not recorded, a duplicate delivery).
	JobTrace string
	// Err says why a delivery was rejected; it never holds the signature
	// or the body.
	Err error
}

// BusObserver, when an [Observer] given to sharpapi.NewWebhookHandler implements
// it, is told of every call the handler makes to its eventbus.Bus.
type BusObserver interface {
	// BusCalled is called when a Store or a Load returns. ctx is the
	// delivery's for a Store.
	BusCalled(ctx context.Context, c BusCall)
}

// BusOp names an eventbus.Bus method.
type BusOp string

// The EventBus calls told to a BusObserver.
const (
	BusStore BusOp = "store"
	BusLoad  BusOp = "load"
)

// BusCall is one EventBus call and its result.
type BusCall struct {
	Op    BusOp
	JobID string
	// Found is a Load's found, Stored a Store's stored.
	Found, Stored bool
	Err           error
}
