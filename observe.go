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

	"github.com/sharpapi-go/sharpapi/observe"
)

// limiterReasons maps the limiter's reasons (ratelimit.go's admit) to
// their names.
var limiterReasons = map[string]observe.LimiterReason{
	"a 429 paused the client":              observe.LimiterPaused,
	"calls go before status polls":         observe.LimiterCallsFirst,
	"spacing requests to the plan's limit": observe.LimiterSpacing,
	whyFirstAnswer:                         observe.LimiterProbing,
	"the plan's window is used up":         observe.LimiterWindowUsedUp,
	whyAnswers:                             observe.LimiterAwaitingAnswers,
}

// deliveryOutcomes maps the handler's outcome words (its log's) to their
// names.
var deliveryOutcomes = map[string]observe.DeliveryOutcome{
	"delivered":                 observe.DeliveryDelivered,
	"buffered early":            observe.DeliveryBuffered,
	"late":                      observe.DeliveryLate,
	"unmatched":                 observe.DeliveryUnmatched,
	"duplicate":                 observe.DeliveryDuplicate,
	"non-terminal":              observe.DeliveryNonTerminal,
	"closed":                    observe.DeliveryClosed,
	"stored":                    observe.DeliveryStored,
	"stored, delivered":         observe.DeliveryStoredDelivered,
	"stored, late":              observe.DeliveryStoredLate,
	"rejected: store failed":    observe.DeliveryStoreFailed,
	"rejected: method":          observe.DeliveryRejectedMethod,
	"rejected: signature":       observe.DeliveryRejectedSig,
	"rejected: too large":       observe.DeliveryRejectedTooLarge,
	"rejected: unreadable body": observe.DeliveryRejectedBody,
	"rejected: malformed":       observe.DeliveryRejectedBody,
	"rejected: closed":          observe.DeliveryRejectedClosed,
	"rejected: busy":            observe.DeliveryRejectedBusy,
}

// WithObserver makes a [Client] or a [WebhookHandler] tell an observer what
// happens to its jobs and deliveries: otelsharpapi.New returns one, and
// package observe says how to write another. A nil p, or one that gives no
// observer, is an error. Without it nothing is observed, at the cost of a
// nil check.
func WithObserver(p observe.Provider) ObserverOption { return ObserverOption{p} }

// ObserverOption is the option WithObserver returns; it is both an
// [Option] and a [WebhookOption].
type ObserverOption struct{ p observe.Provider }

// observer is the provider's observer, or an error.
func (o ObserverOption) observer() (observers, error) {
	if o.p == nil {
		return observers{}, invalidOption("observer is nil")
	}
	obs := o.p.Observer()
	if obs == nil {
		return observers{}, invalidOption("observer provider %T gave a nil observer", o.p)
	}
	return newObservers(obs), nil
}

func (o ObserverOption) applyClient(c *clientConfig) (err error) {
	c.observe, err = o.observer()
	return err
}

func (o ObserverOption) applyWebhook(c *webhookConfig) (err error) {
	c.observe, err = o.observer()
	return err
}

// observers are an Observer and the optional interfaces it implements,
// asserted once; each is nil when absent.
type observers struct {
	job      observe.Observer
	request  observe.RequestObserver
	limiter  observe.LimiterObserver
	delivery observe.DeliveryObserver
	bus      observe.BusObserver
	ledger   observe.LedgerObserver
	record   observe.LedgerRecordObserver
	hook     observe.HookObserver
	claim    observe.ClaimObserver
}

func newObservers(o observe.Observer) observers {
	obs := observers{job: o}
	obs.request, _ = o.(observe.RequestObserver)
	obs.limiter, _ = o.(observe.LimiterObserver)
	obs.delivery, _ = o.(observe.DeliveryObserver)
	obs.bus, _ = o.(observe.BusObserver)
	obs.ledger, _ = o.(observe.LedgerObserver)
	obs.record, _ = o.(observe.LedgerRecordObserver)
	obs.hook, _ = o.(observe.HookObserver)
	obs.claim, _ = o.(observe.ClaimObserver)
	return obs
}

// jobObs is the observation of one job, shared by its awaits: the first
// outcome ends it, or the last await to end without one.
type jobObs struct {
	o   observe.JobObservation
	id  string
	typ string // the JobType

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
func startJob(ctx context.Context, o observe.Observer, start observe.JobStart) (context.Context, *jobObs) {
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
		jo.o.End(observe.JobEnd{Type: jo.typ, Outcome: observe.JobErrored, Err: err})
		return
	}
	jo.id = j.id
	j.obs.cur = jo // the Job is not shared yet
	jo.o.Note(observe.JobNote{Kind: observe.JobDispatched, ID: j.id})
}

// join adds an await to the job's observation, starting a new one when
// there is none going on, and returns the context the await polls under.
func (s *jobObsSlot) join(ctx context.Context, o observe.Observer, start observe.JobStart) (context.Context, *jobObs) {
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
func (jo *jobObs) note(n observe.JobNote) {
	jo.mu.Lock()
	ended := jo.ended
	if n.Kind == observe.JobPolled && !ended {
		jo.polls++
	}
	jo.mu.Unlock()
	if !ended {
		n.ID, n.Status = jo.id, observedStatus(JobStatus(n.Status))
		jo.o.Note(n)
	}
}

// finished ends one await: with the job's outcome (via set) or a final
// error, which ends the observation; or with its context's end, which ends
// the observation only when no other await goes on.
func (jo *jobObs) finished(typ JobType, via observe.JobVia, err error, cancelled bool) {
	jo.mu.Lock()
	jo.awaits--
	if jo.ended || (cancelled && jo.awaits > 0) {
		ended := jo.ended
		jo.mu.Unlock()
		if !ended {
			jo.o.Note(observe.JobNote{Kind: observe.JobAwaitEnded, ID: jo.id, Err: err})
		}
		return
	}
	jo.ended = true
	polls := jo.polls
	jo.mu.Unlock()
	end := observe.JobEnd{ID: jo.id, Type: observedType(JobType(jo.typ), typ), Via: via, Polls: polls, Err: err}
	switch {
	case cancelled:
		end.Outcome, end.Via = observe.JobCancelled, ""
	case err == nil:
		end.Outcome = observe.JobSucceeded
	case errors.Is(err, ErrJobFailed): // a *JobFailedError
		end.Outcome = observe.JobFailed
	default:
		end.Outcome = observe.JobErrored
	}
	jo.o.End(end)
}

// requestKind is what a call through the limiter is for.
func requestKind(st *callState, method string) observe.RequestKind {
	switch {
	case st.class == classPoll:
		return observe.RequestPoll
	case method == http.MethodPost:
		return observe.RequestDispatch
	}
	return observe.RequestCall
}

// send sends one attempt, told to the observe.RequestObserver.
func (t limitedTransport) send(o observe.RequestObserver, req *http.Request, st *callState) (*http.Response, error) {
	// A redirect's URL is the server's choice, and may quote the key: it
	// is scrubbed like every URL, as is the transport's error.
	scrub := scrubberOf(requestCredential(req))
	ctx := o.StartRequest(req.Context(), observe.RequestStart{
		Method: req.Method, URL: scrub.string(redactURL(req.URL.String())), Host: req.URL.Host,
		Path: scrub.string(req.URL.Path), Kind: requestKind(st, req.Method),
		JobID: st.jobID, Resend: st.attempts,
	})
	st.attempts++
	resp, err := t.next.RoundTrip(req)
	end := observe.RequestEnd{Err: scrub.err(err)}
	if resp != nil {
		end.StatusCode = resp.StatusCode
	}
	o.EndRequest(ctx, end)
	return resp, err
}

// tellHeld tells the observe.LimiterObserver of a request's wait.
func (l *limiter) tellHeld(ctx context.Context, st *callState, req *http.Request, why string, waited time.Duration, gaveUp bool) {
	reason, ok := limiterReasons[why]
	if !ok {
		reason = observe.LimiterOther
	}
	l.obs.LimiterHeld(ctx, observe.LimiterHold{Kind: requestKind(st, req.Method), Reason: reason, Waited: waited, GaveUp: gaveUp})
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
	if obs, ok := r.Context().Value(deliveryKey{}).(observe.DeliveryObservation); ok {
		return obs.Token()
	}
	return ""
}

// endDelivery ends r's delivery observation with the handler's answer.
// jobTrace is the job's token from the ledger, when the handler has it.
func endDelivery(r *http.Request, code int, outcome string, ev *WebhookEvent, jobTrace string, err error) {
	obs, ok := r.Context().Value(deliveryKey{}).(observe.DeliveryObservation)
	if !ok {
		return
	}
	d := observe.DeliveryEnd{StatusCode: code, Outcome: deliveryOutcomes[outcome], Err: err}
	if d.Outcome == "" {
		d.Outcome = observe.DeliveryOther
	}
	if ev != nil {
		d.JobID, d.JobType, d.JobStatus = ev.ID, observedType("", ev.Type), observedStatus(ev.Status)
		d.JobTrace = jobTrace
	}
	obs.End(d)
}

// pollNote is the note of a status poll's answer or failure.
func pollNote(snap *JobSnapshot, err error) observe.JobNote {
	if err != nil {
		return observe.JobNote{Kind: observe.JobPolled, Err: err}
	}
	return observe.JobNote{Kind: observe.JobPolled, Status: string(snap.Status)}
}

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
// observe.Other ("" when none was reported). A server's string never
// reaches an observer: it could be the API key, or new for every job.
func observedType(chosen, reported JobType) string {
	switch {
	case chosen != "":
		return string(chosen)
	case reported == "" || reported.Known():
		return string(reported)
	}
	return observe.Other
}

// observedStatus is the status an observer is told: a documented one, or
// observe.Other ("" stays "").
func observedStatus(s JobStatus) string {
	switch s {
	case "", JobStatusNew, JobStatusPending, JobStatusSuccess, JobStatusFailed:
		return string(s)
	}
	return observe.Other
}
