package sharpapi

// The observation seam: what happens to jobs, requests and webhook
// deliveries, told to an Observer (package otelsharpapi turns it into
// OpenTelemetry traces and metrics). The core depends on nothing for it: an
// Observer is an interface of this package, and with none set every site is
// one nil check.

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Observer is told what happens to each job of a [Client], from its dispatch
// to its outcome: give it to [NewClient] with [WithObserver]. Package
// otelsharpapi implements it with OpenTelemetry; implement it yourself to
// feed another system.
//
// An Observer may also implement any of [RequestObserver],
// [LimiterObserver], [DeliveryObserver], [BusObserver] and
// [LedgerObserver]: NewClient and [NewWebhookHandler] look for them once,
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
	// observed yet: one given by [ResumeJob], or one awaited again after
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

// JobStart describes a job whose observation begins.
type JobStart struct {
	// ID is the job's id when known: empty at a dispatch's start.
	ID string
	// Type is the type the client chose: the dispatch's, or ResumeJob's
	// argument (possibly empty). Never one a server reported.
	Type JobType
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
	// from a delivery to this replica or from the [EventBus]'s store.
	// Status is the event's; Trace identifies the delivery (see
	// [WebhookEvent].Trace).
	JobWebhookReceived
	// JobGraceExpired: no webhook came within the grace period
	// ([WithWebhookGrace]); the await polls from now on.
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
	// Status is one of the JobStatus constants, or [JobStatusOther] for
	// one a server reported that is not.
	Status JobStatus
	// Trace is a webhook event's [WebhookEvent].Trace.
	Trace string
	Err   error
}

// JobOutcome is how a job's observation ended.
type JobOutcome string

// The outcomes of a [JobEnd].
const (
	// JobSucceeded: the job's result was returned.
	JobSucceeded JobOutcome = "success"
	// JobFailed: SharpAPI reported the job failed ([JobFailedError]).
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
	// JobViaStore: the [EventBus]'s store, where a delivery to any
	// replica put it.
	JobViaStore JobVia = "store"
)

// JobEnd is how a job's observation ended.
type JobEnd struct {
	ID string
	// Type is the type the client chose, as in [JobStart]; when it chose
	// none, the type the server reported if it is a JobType constant,
	// else [JobTypeOther] (or "" if none was reported).
	Type    JobType
	Outcome JobOutcome
	// Via is set for a job that ended with its outcome (succeeded,
	// failed, or a result that did not decode).
	Via JobVia
	// Polls counts the status polls sent for the job during the
	// observation, failed ones included.
	Polls int
	// Err is the error the await returned (nil on success). A
	// [*JobFailedError]'s Detail is SharpAPI's result for the failed job:
	// an observer should not record it.
	Err error
}

// RequestObserver, when an [Observer] implements it, is told of every HTTP
// attempt a [Client] sends, retries and redirects included, once the rate
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
// request the client's rate limiter held back (see [Client.Limiter]).
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

// limiterReasons maps the limiter's reasons (ratelimit.go's admit) to
// their names.
var limiterReasons = map[string]LimiterReason{
	"a 429 paused the client":              LimiterPaused,
	"calls go before status polls":         LimiterCallsFirst,
	"spacing requests to the plan's limit": LimiterSpacing,
	"awaiting the window's first answer":   LimiterProbing,
	"the plan's window is used up":         LimiterWindowUsedUp,
	"awaiting answers before sending more": LimiterAwaitingAnswers,
}

// DeliveryObserver, when an [Observer] given to [NewWebhookHandler]
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
	// (as [WebhookEvent].Trace), so that the job the event completes,
	// on this replica or on another through the [EventBus], can refer
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
	DeliveryOther            DeliveryOutcome = "other"              // an outcome added after this list
)

// deliveryOutcomes maps the handler's outcome words (its log's) to their
// names.
var deliveryOutcomes = map[string]DeliveryOutcome{
	"delivered":                 DeliveryDelivered,
	"buffered early":            DeliveryBuffered,
	"late":                      DeliveryLate,
	"unmatched":                 DeliveryUnmatched,
	"duplicate":                 DeliveryDuplicate,
	"non-terminal":              DeliveryNonTerminal,
	"closed":                    DeliveryClosed,
	"stored":                    DeliveryStored,
	"stored, delivered":         DeliveryStoredDelivered,
	"stored, late":              DeliveryStoredLate,
	"rejected: store failed":    DeliveryStoreFailed,
	"rejected: method":          DeliveryRejectedMethod,
	"rejected: signature":       DeliveryRejectedSig,
	"rejected: too large":       DeliveryRejectedTooLarge,
	"rejected: unreadable body": DeliveryRejectedBody,
	"rejected: malformed":       DeliveryRejectedBody,
	"rejected: closed":          DeliveryRejectedClosed,
}

// DeliveryEnd is the handler's answer to a delivery.
type DeliveryEnd struct {
	StatusCode int
	Outcome    DeliveryOutcome
	// JobID, JobType and JobStatus are the event's, once its signature
	// was verified and it parsed; empty otherwise. JobType is a JobType
	// constant or [JobTypeOther], JobStatus a JobStatus constant or
	// [JobStatusOther]: a server's own strings are never passed on.
	JobID     string
	JobType   JobType
	JobStatus JobStatus
	// Err says why a delivery was rejected; it never holds the signature
	// or the body.
	Err error
}

// BusObserver, when an [Observer] given to [NewWebhookHandler] implements
// it, is told of every call the handler makes to its [EventBus].
type BusObserver interface {
	// BusCalled is called when a Store or a Load returns. ctx is the
	// delivery's for a Store.
	BusCalled(ctx context.Context, c BusCall)
}

// BusOp names an [EventBus] method.
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

// WithObserver makes a [Client] or a [WebhookHandler] tell o what happens
// to its jobs and deliveries (see [Observer]). A nil o is an error.
// Without it nothing is observed, at the cost of a nil check.
func WithObserver(o Observer) ObserverOption { return ObserverOption{o} }

// ObserverOption is the option WithObserver returns; it is both an
// [Option] and a [WebhookOption].
type ObserverOption struct{ o Observer }

func (o ObserverOption) applyClient(c *clientConfig) error {
	if o.o == nil {
		return invalidOption("observer is nil")
	}
	c.observe = newObservers(o.o)
	return nil
}

func (o ObserverOption) applyWebhook(c *webhookConfig) error {
	if o.o == nil {
		return invalidOption("observer is nil")
	}
	c.observe = newObservers(o.o)
	return nil
}

// observers are an Observer and the optional interfaces it implements,
// asserted once; each is nil when absent.
type observers struct {
	job      Observer
	request  RequestObserver
	limiter  LimiterObserver
	delivery DeliveryObserver
	bus      BusObserver
	ledger   LedgerObserver
}

func newObservers(o Observer) observers {
	obs := observers{job: o}
	obs.request, _ = o.(RequestObserver)
	obs.limiter, _ = o.(LimiterObserver)
	obs.delivery, _ = o.(DeliveryObserver)
	obs.bus, _ = o.(BusObserver)
	obs.ledger, _ = o.(LedgerObserver)
	return obs
}

// jobObs is the observation of one job, shared by its awaits: the first
// outcome ends it, or the last await to end without one.
type jobObs struct {
	o   JobObservation
	id  string
	typ JobType

	mu     sync.Mutex
	awaits int // awaits in progress
	polls  int
	ended  bool
}

// jobObsSlot is a Job's current observation.
type jobObsSlot struct {
	mu  sync.Mutex
	cur *jobObs
}

// startJob begins a job's observation at its dispatch.
func startJob(ctx context.Context, o Observer, start JobStart) (context.Context, *jobObs) {
	octx, obs := o.StartJob(ctx, start)
	if obs == nil {
		return ctx, nil
	}
	return octx, &jobObs{o: obs, typ: start.Type}
}

// observeDispatch ends a dispatch's part of the job's observation: the
// job is known, or the dispatch failed and the observation ends.
func observeDispatch[T any](jo *jobObs, j *Job[T], err error) {
	if err != nil {
		jo.ended = true
		jo.o.End(JobEnd{Type: jo.typ, Outcome: JobErrored, Err: err})
		return
	}
	jo.id = j.id
	j.obs.cur = jo // the Job is not shared yet
	jo.o.Note(JobNote{Kind: JobDispatched, ID: j.id})
}

// join adds an await to the job's observation, starting a new one when
// there is none going on, and returns the context the await polls under.
func (s *jobObsSlot) join(ctx context.Context, o Observer, start JobStart) (context.Context, *jobObs) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if jo := s.cur; jo != nil {
		jo.mu.Lock()
		live := !jo.ended
		if live {
			jo.awaits++
		}
		jo.mu.Unlock()
		if live {
			return jo.o.Context(ctx), jo
		}
	}
	start.Resumed = true
	octx, obs := o.StartJob(ctx, start)
	if obs == nil {
		return ctx, nil
	}
	s.cur = &jobObs{o: obs, id: start.ID, typ: start.Type, awaits: 1}
	return octx, s.cur
}

// note tells a note about the job, unless its observation has ended.
func (jo *jobObs) note(n JobNote) {
	jo.mu.Lock()
	ended := jo.ended
	if n.Kind == JobPolled && !ended {
		jo.polls++
	}
	jo.mu.Unlock()
	if !ended {
		n.ID, n.Status = jo.id, observedStatus(n.Status)
		jo.o.Note(n)
	}
}

// finished ends one await: with the job's outcome (via set) or a final
// error, which ends the observation; or with its context's end, which ends
// the observation only when no other await goes on.
func (jo *jobObs) finished(typ JobType, via JobVia, err error, cancelled bool) {
	jo.mu.Lock()
	jo.awaits--
	if jo.ended || (cancelled && jo.awaits > 0) {
		ended := jo.ended
		jo.mu.Unlock()
		if !ended {
			jo.o.Note(JobNote{Kind: JobAwaitEnded, ID: jo.id, Err: err})
		}
		return
	}
	jo.ended = true
	polls := jo.polls
	jo.mu.Unlock()
	end := JobEnd{ID: jo.id, Type: observedType(jo.typ, typ), Via: via, Polls: polls, Err: err}
	var failed *JobFailedError
	switch {
	case cancelled:
		end.Outcome, end.Via = JobCancelled, ""
	case err == nil:
		end.Outcome = JobSucceeded
	case errors.As(err, &failed):
		end.Outcome = JobFailed
	default:
		end.Outcome = JobErrored
	}
	jo.o.End(end)
}

// requestKind is what a call through the limiter is for.
func requestKind(st *callState, method string) RequestKind {
	switch {
	case st.class == classPoll:
		return RequestPoll
	case method == http.MethodPost:
		return RequestDispatch
	}
	return RequestCall
}

// send sends one attempt, told to the RequestObserver.
func (t limitedTransport) send(o RequestObserver, req *http.Request, st *callState) (*http.Response, error) {
	ctx := o.StartRequest(req.Context(), RequestStart{
		Method: req.Method, URL: redactURL(req.URL.String()), Host: req.URL.Host, Path: req.URL.Path,
		Kind:  requestKind(st, req.Method),
		JobID: st.jobID, Resend: st.attempts,
	})
	st.attempts++
	resp, err := t.next.RoundTrip(req)
	end := RequestEnd{Err: err}
	if resp != nil {
		end.StatusCode = resp.StatusCode
	}
	o.EndRequest(ctx, end)
	return resp, err
}

// tellHeld tells the LimiterObserver of a request's wait.
func (l *limiter) tellHeld(ctx context.Context, st *callState, req *http.Request, why string, waited time.Duration, gaveUp bool) {
	reason, ok := limiterReasons[why]
	if !ok {
		reason = LimiterOther
	}
	l.obs.LimiterHeld(ctx, LimiterHold{Kind: requestKind(st, req.Method), Reason: reason, Waited: waited, GaveUp: gaveUp})
}

// deliveryKey is the request context's key of a delivery's observation.
type deliveryKey struct{}

// startDelivery begins a delivery's observation; the request it returns
// carries it to answer.
func (h *WebhookHandler) startDelivery(r *http.Request) *http.Request {
	ctx, obs := h.cfg.observe.delivery.StartDelivery(r.Context(), r)
	if obs == nil {
		return r
	}
	return r.WithContext(context.WithValue(ctx, deliveryKey{}, obs))
}

// deliveryToken is the token of r's delivery observation, for its event.
func deliveryToken(r *http.Request) string {
	if obs, ok := r.Context().Value(deliveryKey{}).(DeliveryObservation); ok {
		return obs.Token()
	}
	return ""
}

// endDelivery ends r's delivery observation with the handler's answer.
func endDelivery(r *http.Request, code int, outcome string, ev *WebhookEvent, err error) {
	obs, ok := r.Context().Value(deliveryKey{}).(DeliveryObservation)
	if !ok {
		return
	}
	d := DeliveryEnd{StatusCode: code, Outcome: deliveryOutcomes[outcome], Err: err}
	if d.Outcome == "" {
		d.Outcome = DeliveryOther
	}
	if ev != nil {
		d.JobID, d.JobType, d.JobStatus = ev.ID, observedType("", ev.Type), observedStatus(ev.Status)
	}
	obs.End(d)
}

// pollNote is the note of a status poll's answer or failure.
func pollNote(snap *JobSnapshot, err error) JobNote {
	if err != nil {
		return JobNote{Kind: JobPolled, Err: err}
	}
	return JobNote{Kind: JobPolled, Status: snap.Status}
}

// JobTypeOther stands, in what an [Observer] is told, for a job type a
// server reported that is not one of this package's JobType constants.
// Observers are never given a type string a server chose: it could be
// anything, the API key included, and one value per job would give a
// metric one series per job.
const JobTypeOther JobType = "_OTHER"

// JobStatusOther stands, in what an [Observer] is told, for a status a
// server reported that is not one of the four JobStatus constants.
const JobStatusOther JobStatus = "_OTHER"

// Known reports whether t is one of this package's JobType constants.
func (t JobType) Known() bool {
	_, ok := knownJobTypes[t]
	return ok
}

var knownJobTypes = map[JobType]struct{}{
	JobTypeHRParseResume: {}, JobTypeHRJobDescription: {}, JobTypeHRRelatedSkills: {},
	JobTypeHRRelatedJobPositions: {}, JobTypeHRResumeJobMatchScore: {},
	JobTypeEcommerceReviewSentiment: {}, JobTypeEcommerceProductCategories: {},
	JobTypeEcommerceProductIntro: {}, JobTypeEcommerceThankYouEmail: {},
	JobTypeContentDetectPhones: {}, JobTypeContentDetectEmails: {}, JobTypeContentDetectSpam: {},
	JobTypeContentDetectURLs: {}, JobTypeContentDetectAddress: {}, JobTypeContentDetectProfanities: {},
	JobTypeContentDetectAI: {}, JobTypeContentSummarize: {}, JobTypeContentKeywords: {},
	JobTypeContentTranslate: {}, JobTypeContentParaphrase: {}, JobTypeContentProofread: {},
	JobTypeSEOGenerateTags: {}, JobTypeTTHReviewSentiment: {}, JobTypeTTHTAProductCategories: {},
	JobTypeTTHHospitalityProductCategories: {}, JobTypeInvoiceParse: {},
}

// observedType is the type an observer is told for a job: the one the
// client chose (the dispatch's, or ResumeJob's argument) whatever the
// server reports, else the reported one if it is a known type, else
// JobTypeOther ("" when none was reported).
func observedType(chosen, reported JobType) JobType {
	switch {
	case chosen != "":
		return chosen
	case reported == "" || reported.Known():
		return reported
	}
	return JobTypeOther
}

// observedStatus is the status an observer is told: a documented one, or
// JobStatusOther ("" stays "").
func observedStatus(s JobStatus) JobStatus {
	switch s {
	case "", JobStatusNew, JobStatusPending, JobStatusSuccess, JobStatusFailed:
		return s
	}
	return JobStatusOther
}
