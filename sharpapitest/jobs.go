package sharpapitest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The job states, as SharpAPI spells them. A job is new at the instant it
// is dispatched, pending until the job duration has elapsed, then success
// or failed. Only a ManualClock that has not moved shows a job as new.
const (
	StatusNew     = "new"
	StatusPending = "pending"
	StatusSuccess = "success"
	StatusFailed  = "failed"
)

// job is one dispatched job. Its state is not stored but read off the clock
// (new at creation, pending until done, then final), so a poll sees exactly
// what the clock says.
type job struct {
	id         string
	jobType    string
	path       string // "content/translate", "custom/my-flow"
	created    time.Time
	done       time.Time
	failed     bool
	early      bool            // finished at dispatch, webhook sent before the answer
	plan       webhookPlan     // decided at dispatch, so that seeded runs repeat
	result     json.RawMessage // compact JSON; unused when failed
	webhookURL string
	words      int
	polls      int
}

func (j *job) statusAt(t time.Time) string {
	switch {
	case !t.Before(j.done) && j.failed:
		return StatusFailed
	case !t.Before(j.done):
		return StatusSuccess
	case t.Equal(j.created):
		return StatusNew
	}
	return StatusPending
}

// JobInfo describes a job, for assertions.
type JobInfo struct {
	ID   string
	Type string
	// Status is the state a poll would see now.
	Status string
	// Path is the dispatch path below the API base, such as "/content/translate".
	Path string
	// Created is the dispatch time; Finished is zero until the job is final.
	Created, Finished time.Time
	// WebhookURL is where the job's webhook goes ("" for none): the
	// Job-Webhook header of the dispatch, or else the account URL.
	WebhookURL string
	// Polls counts the status requests for the job, both URL forms.
	Polls int
	// Words is what the job took from the word quota.
	Words int
	// Result is the job's result, the JSON its status URL answers once it
	// succeeds (and already while it runs, for a test that wants to know
	// what is coming); nil for a job that fails. It is a copy.
	Result json.RawMessage
}

func (j *job) info(now time.Time) JobInfo {
	ji := JobInfo{
		ID: j.id, Type: j.jobType, Status: j.statusAt(now), Path: "/" + j.path,
		Created: j.created, WebhookURL: j.webhookURL, Polls: j.polls, Words: j.words,
	}
	if !j.failed {
		ji.Result = slices.Clone(j.result)
	}
	if !now.Before(j.done) {
		ji.Finished = j.done
	}
	return ji
}

// Job looks up a job by id.
func (e *Emulator) Job(id string) (JobInfo, bool) {
	now := e.cfg.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	j, ok := e.lookup(id, now)
	if !ok {
		return JobInfo{}, false
	}
	return j.info(now), true
}

// lookup finds a job that is not forgotten at now: past its retention
// (WithJobRetention) a job is gone as soon as the clock says so, though
// its memory goes only when the next dispatch prunes it. e.mu must be
// held.
func (e *Emulator) lookup(id string, now time.Time) (*job, bool) {
	j, ok := e.jobs[id]
	if !ok || e.expired(j, now) {
		return nil, false
	}
	return j, true
}

// expired reports whether j has been final for longer than the retention.
func (e *Emulator) expired(j *job, now time.Time) bool {
	r := e.cfg.jobRetention
	return r > 0 && !now.Before(j.done) && now.Sub(j.done) > r
}

// Jobs returns every job, oldest first.
func (e *Emulator) Jobs() []JobInfo {
	now := e.cfg.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]JobInfo, 0, len(e.jobOrder))
	for _, id := range e.jobOrder {
		if j := e.jobs[id]; !e.expired(j, now) {
			out = append(out, j.info(now))
		}
	}
	return out
}

// startJob creates a job for a validated dispatch and answers 202, or 402
// when the word quota cannot cover it.
func (e *Emulator) startJob(w http.ResponseWriter, r *http.Request, req JobRequest, jobType, path string) {
	hookURL := r.Header.Get("Job-Webhook")
	if hookURL != "" && !validWebhookURL(hookURL) {
		fe := &fieldErrors{}
		fe.add("Job-Webhook", "The Job-Webhook header must be a valid http or https URL.")
		fe.write(w, "")
		return
	}
	if hookURL == "" {
		hookURL = e.cfg.webhookURL.value()
	}
	words := len(strings.Fields(req.Text("content")))
	now := e.cfg.clock.Now()
	f, ok := e.admit(jobType, hookURL != "", words)
	if !ok {
		writeJSON(w, http.StatusPaymentRequired, struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}{"GEN-PAYMENT-REQUIRED", fmt.Sprintf("You have exceeded your monthly words quota [%d]. Please login to the dashboard and increase number of credits.", e.cfg.wordQuota)})
		return
	}

	req.JobID, req.JobType, req.Path = newUUID(), jobType, "/"+path
	result, err := e.result(req)
	if err != nil && !f.failed {
		f.failed = true
		e.mu.Lock()
		e.wordsUsed -= words
		e.mu.Unlock()
	}
	j := &job{
		id: req.JobID, jobType: jobType, path: path, created: now, done: now.Add(e.cfg.jobDuration),
		failed: f.failed, early: f.early, result: result, webhookURL: hookURL, plan: f.plan,
	}
	if !f.failed {
		j.words = words
	}
	if j.early {
		j.done = now
	}
	e.register(j, f.notify)
	if j.early {
		// The receiver hears of the job before the client does: the
		// dispatch answer waits for the delivery.
		e.mu.Lock()
		ok := e.track()
		e.mu.Unlock()
		if ok {
			e.notify(j)
			e.wg.Done()
		}
	}

	base := e.baseURL(r)
	statusURL := base + "/" + path + "/job/status/" + j.id
	if e.cfg.genericStatusURL {
		statusURL = base + "/job/status/" + j.id
	}
	h := w.Header()
	h.Set("Retry-After", e.retryAfter(j.done.Sub(now)))
	h.Set("SharpAPI-Job-Id", j.id)
	h.Set("SharpAPI-Cost", strconv.FormatFloat(float64(j.words)*costPerWord, 'f', 6, 64))
	writeJSON(w, http.StatusAccepted, struct {
		StatusURL string `json:"status_url"`
		JobID     string `json:"job_id"`
	}{statusURL, j.id})
}

// fate is what the emulator decides about a job when it is dispatched.
type fate struct {
	failed bool
	notify bool // a webhook will be sent
	early  bool // ... before the dispatch answer
	plan   webhookPlan
}

// admit charges a dispatch's words to the quota and decides the job's
// fate, or reports false when the quota cannot cover it. Doing both under
// one lock keeps concurrent dispatches within the quota and keeps seeded
// choices in dispatch order.
func (e *Emulator) admit(jobType string, hasWebhook bool, words int) (fate, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.wordsUsed >= e.cfg.wordQuota || e.wordsUsed+words > e.cfg.wordQuota {
		return fate{}, false
	}
	f := fate{failed: e.jobFails(jobType), notify: hasWebhook && e.cfg.webhookSecret.set()}
	if f.notify {
		f.early = e.faults.Early
		f.plan = e.planWebhook()
	}
	if !f.failed {
		e.wordsUsed += words // SharpAPI charges nothing for failed jobs
	}
	return f, true
}

// register stores a new job and, if it has a webhook that is not early,
// arranges for the webhook to go out when the job finishes.
func (e *Emulator) register(j *job, notify bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prune(j.created)
	e.jobs[j.id] = j
	e.jobOrder = append(e.jobOrder, j.id)
	switch {
	case !notify || j.early || e.closed:
	case !j.done.After(j.created):
		e.goNotify(j)
	default:
		e.timers[j.id] = e.cfg.clock.AfterFunc(j.done.Sub(j.created), func() { e.finish(j) })
	}
}

// prune forgets the oldest jobs that are final, while they are more than
// the job limit or have been final for longer than the retention. Jobs
// finish in about the order they start (all share the job duration, and
// early ones finish at once), so it looks only at the front of the order
// and stops at the first job still running: each dispatch costs O(1)
// amortised. e.mu must be held.
func (e *Emulator) prune(now time.Time) {
	limit, retention := e.cfg.jobLimit, e.cfg.jobRetention
	if limit == 0 && retention == 0 {
		return
	}
	n := 0
	for _, id := range e.jobOrder {
		j := e.jobs[id]
		over := limit > 0 && len(e.jobOrder)-n >= limit // room for the job being added
		stale := retention > 0 && now.Sub(j.done) > retention
		if now.Before(j.done) || !(over || stale) {
			break
		}
		delete(e.jobs, id)
		n++
	}
	e.jobOrder = slices.Delete(e.jobOrder, 0, n)
}

// costPerWord is a nominal price for the SharpAPI-Cost header.
const costPerWord = 0.00002

// result computes a job's result: the user's ResultFunc, the workflow's,
// or the default answer. An error means the job fails.
func (e *Emulator) result(req JobRequest) (json.RawMessage, error) {
	if f, ok := e.cfg.results[req.JobType]; ok {
		v, err := f(req)
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
	}
	if slug, ok := strings.CutPrefix(req.Path, "/custom/"); ok {
		if w, ok := e.workflows[slug]; ok {
			return w.result()
		}
	}
	return defaultResult(req)
}

// retryAfter is the Retry-After value for a job with left to run.
func (e *Emulator) retryAfter(left time.Duration) string {
	if e.cfg.fixedRetryAfter {
		return formatSeconds(e.cfg.retryAfter)
	}
	if left <= 0 {
		return "0"
	}
	return strconv.FormatInt(max(ceilSeconds(left), 1), 10)
}

// handleStatus answers GET {base}/{group}/{action}/job/status/{id} and,
// with generic set, GET {base}/job/status/{id}, whose result is a
// JSON-encoded string. The group and action of a status URL are not
// checked against the job's: clients treat status URLs as opaque.
func (e *Emulator) handleStatus(generic bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := e.cfg.clock.Now()
		e.mu.Lock()
		j, ok := e.lookup(r.PathValue("id"), now)
		if ok {
			j.polls++
		}
		e.mu.Unlock()
		if !ok {
			writeMessage(w, http.StatusNotFound, "Job not found.")
			return
		}
		type attributes struct {
			Status string           `json:"status"`
			Type   string           `json:"type"`
			Result *json.RawMessage `json:"result,omitempty"`
		}
		type data struct {
			Type       string     `json:"type"`
			ID         string     `json:"id"`
			Attributes attributes `json:"attributes"`
		}
		d := data{Type: "api_job", ID: j.id, Attributes: attributes{Status: j.statusAt(now), Type: j.jobType}}
		switch d.Attributes.Status {
		case StatusSuccess:
			d.Type = "api_job_result"
			res := j.result
			if generic {
				// Encoded plainly: writeJSON escapes the whole body once.
				res, _ = marshalPlain(string(j.result))
			}
			d.Attributes.Result = &res
		case StatusFailed:
			d.Type = "api_job_result"
			null := json.RawMessage("null")
			d.Attributes.Result = &null
		default:
			w.Header().Set("Retry-After", e.retryAfter(j.done.Sub(now)))
		}
		writeJSON(w, http.StatusOK, struct {
			Data data `json:"data"`
		}{d})
	}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func validWebhookURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
