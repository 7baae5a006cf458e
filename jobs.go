package sharpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sharpapi-go/sharpapi/observe"
)

// JobStatus is the state of a SharpAPI job, as reported by its status URL
// and by its webhook. Values other than the four constants may appear if
// SharpAPI adds states; only JobStatusSuccess and JobStatusFailed are terminal.
type JobStatus string

// The job states SharpAPI documents.
const (
	JobStatusNew     JobStatus = "new"
	JobStatusPending JobStatus = "pending"
	JobStatusSuccess JobStatus = "success"
	JobStatusFailed  JobStatus = "failed"
)

// Terminal reports whether s is a final state (success or failed).
func (s JobStatus) Terminal() bool { return s == JobStatusSuccess || s == JobStatusFailed }

// JobType is the type string SharpAPI gives a job (the "type" of its status
// and of its webhook payload). Custom workflow jobs carry types this package
// does not list.
type JobType string

// The job types of SharpAPI's fixed endpoints. The rule is group_action, but
// invoice parsing (POST /finance/parse_invoice) is "invoice_parse".
const (
	JobTypeHRParseResume                   JobType = "hr_parse_resume"
	JobTypeHRJobDescription                JobType = "hr_job_description"
	JobTypeHRRelatedSkills                 JobType = "hr_related_skills"
	JobTypeHRRelatedJobPositions           JobType = "hr_related_job_positions"
	JobTypeHRResumeJobMatchScore           JobType = "hr_resume_job_match_score"
	JobTypeEcommerceReviewSentiment        JobType = "ecommerce_review_sentiment"
	JobTypeEcommerceProductCategories      JobType = "ecommerce_product_categories"
	JobTypeEcommerceProductIntro           JobType = "ecommerce_product_intro"
	JobTypeEcommerceThankYouEmail          JobType = "ecommerce_thank_you_email"
	JobTypeContentDetectPhones             JobType = "content_detect_phones"
	JobTypeContentDetectEmails             JobType = "content_detect_emails"
	JobTypeContentDetectSpam               JobType = "content_detect_spam"
	JobTypeContentDetectURLs               JobType = "content_detect_urls"
	JobTypeContentDetectAddress            JobType = "content_detect_address"
	JobTypeContentDetectProfanities        JobType = "content_detect_profanities"
	JobTypeContentDetectAI                 JobType = "content_detect_ai"
	JobTypeContentSummarize                JobType = "content_summarize"
	JobTypeContentKeywords                 JobType = "content_keywords"
	JobTypeContentTranslate                JobType = "content_translate"
	JobTypeContentParaphrase               JobType = "content_paraphrase"
	JobTypeContentProofread                JobType = "content_proofread"
	JobTypeSEOGenerateTags                 JobType = "seo_generate_tags"
	JobTypeTTHReviewSentiment              JobType = "tth_review_sentiment"
	JobTypeTTHTAProductCategories          JobType = "tth_ta_product_categories"
	JobTypeTTHHospitalityProductCategories JobType = "tth_hospitality_product_categories"
	JobTypeInvoiceParse                    JobType = "invoice_parse"
)

// Job is one dispatched SharpAPI job whose result decodes into T. It is safe
// for concurrent use, and it is the one place to await the job, in one of
// three ways with the same guarantees:
//
//   - [Job.Wait] blocks until the outcome;
//   - [Job.WaitAsync] delivers it on a channel, to select among many jobs;
//   - [Job.OnDone] calls a function with it, holding no goroutine meanwhile.
//
// Each awaits the job's webhook when the client has a [WebhookHandler] and
// the job was dispatched with a webhook URL, and polls the status URL only
// as a fallback; without a webhook, each polls. Each yields the typed
// result, a [*JobFailedError], or an error that wraps the context's when it
// ends first; never an unfinished job. Once the job's outcome is known, the
// Job keeps it: awaiting it again returns it with no request.
//
// A Job is obtained from a dispatch method ([Client.Translate], ...) or
// [ResumeJob]; a zero Job reports [ErrNotInitialized].
type Job[T any] struct {
	c         *Client
	id        string
	statusURL string
	typ       JobType
	meta      ResponseMeta
	// webhook says SharpAPI was asked to send a webhook (or, for a resumed
	// job, may have been): Wait listens for it if the client has a
	// WebhookHandler.
	webhook bool
	// resumed jobs were not dispatched by this process: their webhook may
	// have come and gone, so Wait polls once before trusting it.
	resumed bool
	// kept is the job's terminal snapshot once an await has seen it.
	kept atomic.Pointer[JobSnapshot]
	// obs is the job's observation, with WithObserver (observe.go).
	obs jobObsSlot
}

// errZeroJob is what a zero Job's methods report.
var errZeroJob = fmt.Errorf("%w: a zero Job: use the *Job a Client method or ResumeJob returns", ErrNotInitialized)

// keep records the job's terminal snapshot; the first one stays. One of
// another type is not the job's outcome: it is not kept.
func (j *Job[T]) keep(snap *JobSnapshot) {
	if snap.Status.Terminal() && checkJobType(j.id, j.typ, snap.Type, "") == nil {
		j.kept.CompareAndSwap(nil, snap)
	}
}

// ID returns the job's id (a UUID); "" for a nil or zero Job.
func (j *Job[T]) ID() string {
	if j == nil {
		return ""
	}
	return j.id
}

// StatusURL returns the URL Status and the awaits poll.
func (j *Job[T]) StatusURL() string {
	if j == nil {
		return ""
	}
	return j.statusURL
}

// Type returns the job's type; for a resumed job, what the caller said.
// An await or [Job.Status] whose answer reports another type fails with
// [ErrJobTypeMismatch].
func (j *Job[T]) Type() JobType {
	if j == nil {
		return ""
	}
	return j.typ
}

// Meta returns the headers of the dispatch response: rate limit, cost,
// SharpAPI-Job-Id. A resumed job has none.
func (j *Job[T]) Meta() ResponseMeta {
	if j == nil {
		return ResponseMeta{}
	}
	return j.meta
}

// Raw returns the job's result JSON as SharpAPI sent it (unwrapped from the
// string form of the generic status URL) once an await has returned it; nil
// before, and for a failed job. It keeps fields the typed result does not
// model.
func (j *Job[T]) Raw() json.RawMessage {
	if j == nil {
		return nil
	}
	if snap := j.kept.Load(); snap != nil && snap.Status == JobStatusSuccess {
		return snap.Result
	}
	return nil
}

// JobSnapshot is a job as one status poll saw it. It marshals to JSON with
// snake_case names, as a service may return it.
type JobSnapshot struct {
	ID     string    `json:"id"`
	Type   JobType   `json:"type,omitempty"`
	Status JobStatus `json:"status"`
	// Result is the result JSON, nil while the job is unfinished and often
	// for a failed job. The generic status URL's string form is unwrapped.
	Result json.RawMessage `json:"result,omitempty"`
	// Meta holds the response headers, among them Retry-After.
	Meta ResponseMeta `json:"meta,omitzero"`
}

// Status polls the job's status URL once. An answer that reports another
// type than the job's is an error wrapping [ErrJobTypeMismatch].
func (j *Job[T]) Status(ctx context.Context) (*JobSnapshot, error) {
	snap, err := j.status(ctx, 0)
	if err != nil {
		return nil, err
	}
	if err := checkJobType(j.id, j.typ, snap.Type, "read as"); err != nil {
		return nil, err
	}
	return snap, nil
}

// status polls the job's status URL once, whatever type the answer
// reports: the ledger's sweeper settles a job as SharpAPI reports it. A
// positive maxBody bounds the answer's body (a sweeper reads it under a
// webhook body's cap); 0 leaves the client's bound.
func (j *Job[T]) status(ctx context.Context, maxBody int64) (*JobSnapshot, error) {
	if j == nil || j.c == nil || j.c.cfg == nil {
		return nil, errZeroJob
	}
	resp, body, err := j.c.do(ctx, j.c.reads, request{method: http.MethodGet, url: j.statusURL, jobID: j.id, maxBody: maxBody})
	if err != nil {
		return nil, err
	}
	snap, err := decodeStatus(body, isGenericStatusURL(j.statusURL, j.id))
	if err != nil {
		return nil, fmt.Errorf("%w (GET %s)", err, redactURL(j.statusURL))
	}
	snap.Meta = newResponseMeta(resp, time.Now())
	if snap.ID == "" {
		snap.ID = j.id
	}
	return snap, nil
}

// Wait blocks until the job is finished and returns its typed result. A
// failed job is a [*JobFailedError] (it matches [ErrJobFailed]). Wait never
// returns an unfinished job: when ctx ends first, it returns an error that
// names the job and wraps ctx's error (and the last poll's failure, if it
// failed); the job can still be awaited later (see [ResumeJob]). Once the
// outcome is known, Wait (and [Job.WaitAsync], [Job.OnDone]) returns it again
// with no request.
//
// With a webhook ([WithWebhook], per call or as the client's default) and a
// client built [WithWebhookHandler], Wait sends no status poll while the
// webhook is expected; it starts polling only after the client's webhook
// grace period ([WithWebhookGrace]), so a lost webhook still completes the
// job. Without one, Wait polls: first after the dispatch's Retry-After,
// then as each status answer's Retry-After says, or every poll interval;
// jittered, and each wait capped by [WithMaxPollInterval].
//
// A poll that fails with a 429, a 5xx (but 501) or a network error is tried
// again, with backoff, for as long as ctx lasts: the job exists and will
// finish. Any other failure (401, 402, 404, another 4xx, a malformed answer)
// cannot get better, and Wait returns it.
func (j *Job[T]) Wait(ctx context.Context) (T, error) {
	ch := make(chan Outcome[T], 1)
	startAwait(ctx, j, func(v T, err error) { ch <- Outcome[T]{Value: v, Err: err} })
	o := <-ch
	return o.Value, o.Err
}

// Outcome is what an await of a job yields: its typed result, or the error
// [Job.Wait] would have returned.
type Outcome[T any] struct {
	Value T
	Err   error
}

// WaitAsync awaits the job as [Job.Wait] does and delivers the outcome on the
// returned channel, which holds it (the channel is buffered) and is then
// closed; nobody needs to read it. No goroutine waits meanwhile (under a
// context of your own type, see [Job.OnDone]). Use it to await many jobs in
// one select.
func (j *Job[T]) WaitAsync(ctx context.Context) <-chan Outcome[T] {
	ch := make(chan Outcome[T], 1)
	startAwait(ctx, j, func(v T, err error) {
		ch <- Outcome[T]{Value: v, Err: err}
		close(ch)
	})
	return ch
}

// OnDone awaits the job as [Job.Wait] does and calls fn once with the outcome:
// the result, an error matching [ErrJobFailed] (a [*JobFailedError]), or an
// error wrapping ctx's when ctx ends first. It returns at once. No goroutine
// waits meanwhile: a pending OnDone costs a timer and the handler's entry for
// the job, so a service can await a hundred thousand jobs this way. fn runs
// in a goroutine of its own; a panic in it is recovered, logged at Error with
// its stack (through the client's logger, or slog.Default() without one, as
// net/http reports a handler's panic) and counted in [Client.CallbackPanics]
// and, if the client has a handler, in its [WebhookStats].CallbackPanics. Called after the job's outcome is known, fn runs at once with it.
// A nil fn is logged at Warn and ignored.
//
// ctx bounds the await, not the call: OnDone returns at once, and the job
// takes seconds to a minute. In an HTTP handler, r.Context() ends as the
// handler returns, a millisecond later, and fn would get "context
// canceled" rather than the result. Give OnDone a context that keeps the
// request's values but not its end, with a bound of its own:
//
//	func (s *server) translate(w http.ResponseWriter, r *http.Request) {
//		job, err := s.client.Translate(r.Context(), params) // the dispatch is the request's
//		if err != nil { ... }
//		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Minute)
//		job.OnDone(ctx, func(res sharpapi.TranslateResult, err error) {
//			defer cancel()
//			s.store(job.ID(), res, err)
//		})
//		w.WriteHeader(http.StatusAccepted)
//	}
//
// A context that is done already, or ends within a second of OnDone, is
// taken for that mistake: fn still gets its error, and the client logs a
// Warn that says so.
//
// "No goroutine" holds for ctx from package context (Background, WithCancel,
// WithTimeout, ... and anything deriving from them), and for a context type
// of your own that has an AfterFunc method as package context describes. A
// context of your own type whose Done channel package context did not make
// cannot be watched without a goroutine: context.AfterFunc then parks one per
// pending await (about 3.5 KiB of stack and 0.3 KiB more heap each,
// BenchmarkOnDoneContexts), ended with the await. To await many jobs under
// such a context, derive one context from it with context.WithCancel and
// await under that: one goroutine watches your context for all of them.
func (j *Job[T]) OnDone(ctx context.Context, fn func(T, error)) {
	if fn == nil {
		if j != nil && j.c != nil && j.c.log != nil {
			j.c.log.LogAttrs(context.Background(), slog.LevelWarn, "sharpapi: OnDone with a nil func: nothing to call",
				slog.String("job_id", j.id))
		}
		return
	}
	if j == nil || j.c == nil || j.c.cfg == nil {
		callDone(nil, "", func() { fn(*new(T), errZeroJob) })
		return
	}
	if ctx == nil {
		startAwait(ctx, j, func(v T, err error) { callDone(j.c, j.id, func() { fn(v, err) }) })
		return
	}
	// A context that is done already, or ends within a second, cannot have
	// been meant to outlast an AI job: it is most likely the context of an
	// HTTP request, which ends as its handler returns. fn still gets the
	// context's error; the Warn says why, once per such OnDone.
	doneAlready, start := ctx.Err() != nil, time.Now()
	startAwait(ctx, j, func(v T, err error) {
		var we *waitError
		tooSoon := errors.As(err, &we) && (doneAlready || time.Since(start) < j.c.cfg.onDoneTooSoon)
		callDone(j.c, j.id, func() {
			if tooSoon {
				j.c.log.LogAttrs(context.Background(), slog.LevelWarn, "sharpapi: OnDone's context ended before the job "+
					"could finish, and fn got its error: in an HTTP handler, r.Context() ends with the request; await with "+
					"context.WithoutCancel(r.Context()) and a timeout instead",
					slog.String("job_id", j.id), slog.Bool("done_already", doneAlready),
					slog.Duration("after", time.Since(start)), slog.String("error", err.Error()))
			}
			fn(v, err)
		})
	})
}

// pollDelay is the wait before the next poll: the server's Retry-After if
// it sent one, else the poll interval; plus up to 10% jitter so that jobs
// dispatched together do not poll together; capped.
func (c *Client) pollDelay(retryAfter time.Duration) time.Duration {
	d := c.cfg.pollInterval
	if retryAfter > 0 {
		d = retryAfter
	}
	d = minDuration(d, c.cfg.maxPollInterval)
	if d >= 10 {
		d += rand.N(d / 10)
	}
	return minDuration(d, c.cfg.maxPollInterval)
}

// transientPollError reports a failed poll that may succeed later: a 429,
// a 5xx other than 501, or a network error. What cannot get better (401,
// 402, 404 for an unknown job, any other 4xx, a malformed answer, a refused
// redirect) ends Wait.
func transientPollError(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == http.StatusTooManyRequests ||
			(apiErr.StatusCode >= 500 && apiErr.StatusCode != http.StatusNotImplemented)
	}
	return !errors.Is(err, ErrMalformedResponse) && transientNetError(err)
}

// pollRetryDelay is the wait after the n-th poll in a row failed with err:
// its Retry-After, or an exponential backoff with jitter; capped by the
// maximum poll interval like any wait between polls.
func (c *Client) pollRetryDelay(n int, err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return retryDelay(c.cfg.retryWaitMin, c.cfg.maxPollInterval, n-1, apiErr.StatusCode, apiErr.Header)
	}
	return retryDelay(c.cfg.retryWaitMin, c.cfg.maxPollInterval, n-1, 0, nil)
}

func isNull(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

// ResumeJob returns a handle on a job this process did not dispatch (after a
// restart, say), known by its id or its status URL. With only an id, the job
// is polled at SharpAPI's generic status URL. A status URL must be on the
// origin of the client's base URL, the only one the API key goes to, and an
// id must be one SharpAPI could have given; otherwise the error wraps
// [ErrInvalidParams]. Its Wait polls once at once, then awaits the webhook
// (if the client has a [WebhookHandler]) or keeps polling.
//
// typ is the job's type, and a mistake fails loudly rather than yield a
// zero result: an empty typ is an error wrapping [ErrInvalidParams] (only a
// job read as [json.RawMessage], such as a custom workflow's, whose type
// SharpAPI does not document, may leave it empty); a T of this package that
// does not decode typ's results (ResumeJob[ParseResumeResult] of a
// [JobTypeContentTranslate] job) is an error wrapping [ErrJobTypeMismatch];
// and an await or [Job.Status] whose answer reports another type than typ
// returns one too, naming both types.
func ResumeJob[T any](c *Client, idOrStatusURL string, typ JobType) (*Job[T], error) {
	if c == nil || c.cfg == nil {
		return nil, errZeroClient
	}
	if err := checkResumeType[T](typ); err != nil {
		return nil, err
	}
	ref := strings.TrimSpace(idOrStatusURL)
	j := &Job[T]{c: c, typ: typ, resumed: true}
	if u, err := url.Parse(ref); err == nil && u.Scheme != "" && u.Host != "" {
		if !c.sameOrigin(u) {
			return nil, fmt.Errorf("%w: status URL %s is not on the base URL's origin %s, where the API key goes",
				ErrInvalidParams, redactURL(ref), origin(c.cfg.baseURL))
		}
		j.statusURL = ref
		j.id = path.Base(strings.TrimRight(u.Path, "/"))
	} else {
		j.id = ref
		j.statusURL = c.endpoint("/job/status/"+ref, nil)
	}
	if checkJobID(j.id) != nil {
		// ref may be a URL that did not parse, password and all: it is
		// quoted redacted and short, never as given.
		return nil, fmt.Errorf("%w: ResumeJob: %q is neither a job id (at most %d letters, digits, '-' or '_') nor a status URL ending in one",
			ErrInvalidParams, truncate(redactURL(ref), 40), maxJobIDLen)
	}
	j.webhook = true // it may have had one; listening costs nothing
	return j, nil
}

// statusURL returns the URL to poll for a job dispatched to path. It is the
// dispatch answer's status_url if that is on the base URL's origin; the API
// key is never sent anywhere else, so another origin's URL (or none) is
// replaced by the endpoint-specific URL under the base URL.
func (c *Client) statusURL(ctx context.Context, path, id, answered string) string {
	own := c.endpoint(path+"/job/status/"+id, nil)
	if answered == "" {
		return own
	}
	if holdsCredential(answered, *c.apiKey) {
		c.log.LogAttrs(ctx, slog.LevelWarn, "sharpapi status URL that holds the API key ignored",
			slog.String("job_id", id), slog.String("polling", redactURL(own)))
		return own
	}
	if u, err := url.Parse(answered); err == nil && c.sameOrigin(u) {
		return answered
	}
	c.log.LogAttrs(ctx, slog.LevelWarn, "sharpapi status URL of another origin ignored",
		slog.String("job_id", id), slog.String("status_url", redactURL(answered)), slog.String("polling", redactURL(own)))
	return own
}

// dispatch POSTs a job and returns its handle. SharpAPI answers 202 with
// {"status_url", "job_id"}; a missing status_url is rebuilt from the path.
func dispatch[T any](ctx context.Context, c *Client, path string, typ JobType, body requestBody, opts []RequestOption) (j *Job[T], err error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	rq, err := c.newRequestConfig(opts, false)
	if err != nil {
		return nil, err
	}
	webhook := rq.webhook
	var header http.Header
	if webhook != "" {
		header = http.Header{"Job-Webhook": {webhook}}
	}
	var jo *jobObs
	if o := c.cfg.observe.job; o != nil {
		if ctx, jo = startJob(ctx, o, observe.JobStart{Type: string(typ), Webhook: webhook != ""}); jo != nil {
			defer func() { observeDispatch(jo, j, err) }()
		}
	}
	u := c.endpoint(path, nil)
	resp, raw, err := c.do(ctx, c.dispatches, request{
		method: http.MethodPost, url: u, body: body.content, contentType: body.contentType, header: header, opts: rq,
	})
	if err != nil {
		return nil, err
	}
	var accepted struct {
		StatusURL string `json:"status_url"`
		JobID     string `json:"job_id"`
	}
	if err := json.Unmarshal(raw, &accepted); err != nil {
		return nil, fmt.Errorf("%w: POST %s: %w", ErrMalformedResponse, redactURL(u), err)
	}
	meta := newResponseMeta(resp, time.Now())
	if accepted.JobID == "" {
		accepted.JobID = meta.JobID
	}
	if err := checkAnsweredJobID(accepted.JobID, *c.apiKey); err != nil {
		return nil, fmt.Errorf("%w: POST %s: %w", ErrMalformedResponse, redactURL(u), err)
	}
	accepted.StatusURL = c.statusURL(ctx, path, accepted.JobID, accepted.StatusURL)
	if webhook != "" && c.cfg.webhookHandler() == nil {
		c.warnNoHandler.Do(func() {
			c.log.LogAttrs(ctx, slog.LevelWarn, "sharpapi: a job was dispatched with a webhook URL, but the client has no "+
				"WebhookHandler (WithWebhookHandler): its awaits will poll, and the webhook will reach no waiter here",
				slog.String("job_id", accepted.JobID))
		})
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "sharpapi job dispatched",
		slog.String("job_id", accepted.JobID), slog.String("type", string(typ)), slog.Bool("webhook", webhook != ""))
	if webhook != "" {
		c.recordPending(ctx, jo, accepted.JobID, typ, accepted.StatusURL)
	}
	return &Job[T]{
		c: c, id: accepted.JobID, statusURL: accepted.StatusURL, typ: typ, meta: meta, webhook: webhook != "",
	}, nil
}

// statusEnvelope is the JSON:API-like body of a status URL.
type statusEnvelope struct {
	Data struct {
		ID         string `json:"id"`
		Attributes struct {
			Status JobStatus       `json:"status"`
			Type   JobType         `json:"type"`
			Result json.RawMessage `json:"result"`
		} `json:"attributes"`
	} `json:"data"`
}

// decodeStatus reads a status body. The generic status URL sends result as
// a JSON-encoded string; generic says to unwrap it. The endpoint-specific
// URL sends JSON, where a string is a real result (proofread's).
func decodeStatus(body []byte, generic bool) (*JobSnapshot, error) {
	var env statusEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: status: %w", ErrMalformedResponse, err)
	}
	a := env.Data.Attributes
	if a.Status == "" {
		return nil, fmt.Errorf("%w: status: no data.attributes.status", ErrMalformedResponse)
	}
	result := a.Result
	if isNull(result) {
		result = nil
	} else if generic {
		result = unwrapJSONString(result)
	}
	return &JobSnapshot{ID: env.Data.ID, Type: a.Type, Status: a.Status, Result: result}, nil
}

// unwrapJSONString returns the JSON inside a JSON string, or raw unchanged
// if raw is not a string holding valid JSON.
func unwrapJSONString(raw json.RawMessage) json.RawMessage {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 || s[0] != '"' {
		return raw
	}
	var inner string
	if json.Unmarshal(s, &inner) != nil || !json.Valid([]byte(inner)) {
		return raw
	}
	return json.RawMessage(inner)
}

// isGenericStatusURL reports whether statusURL is /job/status/{id} right
// under the API version, not /{group}/{action}/job/status/{id}.
func isGenericStatusURL(statusURL, id string) bool {
	u, err := url.Parse(statusURL)
	if err != nil {
		return false
	}
	p := strings.TrimRight(u.Path, "/")
	prefix, ok := strings.CutSuffix(p, "/job/status/"+id)
	if !ok {
		return false
	}
	return prefix == "" || path.Base(prefix) == "v1"
}

// decodeResult decodes a result into T. Result types absorb SharpAPI's
// shape quirks in their own UnmarshalJSON; as a last resort a result that
// arrived string-encoded where T wants JSON is unwrapped.
func decodeResult[T any](raw json.RawMessage) (T, error) {
	var v T
	if isNull(raw) {
		return v, errors.New("no result")
	}
	err := json.Unmarshal(raw, &v)
	if err == nil {
		return v, nil
	}
	if inner := unwrapJSONString(raw); !bytes.Equal(inner, raw) {
		var w T
		if json.Unmarshal(inner, &w) == nil {
			return w, nil
		}
	}
	return v, err
}
