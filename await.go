package sharpapi

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sharpapi-go/sharpapi/observe"
)

// awaiter drives one [Job.Wait], [Job.WaitAsync] or [Job.OnDone] from its
// start to its one outcome. It has no goroutine of its own: it is a set of
// callbacks (the handler's delivery, one timer, the context's AfterFunc),
// and a goroutine lives only while a status poll is in flight. So a job
// awaited through OnDone or WaitAsync costs memory, not a goroutine, for
// as long as its webhook takes; but for a context of the caller's own type,
// whose Done channel context.AfterFunc cannot register on, AfterFunc parks
// a goroutine per await (documented on OnDone, with its workaround: a
// per-client watcher would add a registry here for a case one
// context.WithCancel by the caller removes).
//
// Every callback takes a.mu, and a.done makes the first outcome the only
// one. Lock order: a.mu, then the handler's h.mu (unregister); the handler
// calls deliver only after releasing h.mu.
type awaiter[T any] struct {
	j      *Job[T]
	ctx    context.Context
	finish func(T, error) // called once, with a.mu held; never blocks
	h      *WebhookHandler
	w      waiter

	mu        sync.Mutex
	done      bool
	timer     *time.Timer // the next poll, or the end of the webhook's grace
	stopCtx   func() bool // removes the context's AfterFunc
	listening bool        // w is registered with h: the webhook may come
	resumed   bool        // a resumed job looks at its status URL first
	graceOver bool
	polling   bool // a poll is in flight
	pollSoon  bool // poll again as soon as the poll in flight returns
	failures  int  // polls failed in a row
	lastErr   error
	jo        *jobObs // the job's observation (observe.go), or nil
}

// startAwait begins awaiting j under ctx; finish receives the outcome once,
// possibly before startAwait returns (a job already finished, an event that
// arrived early, a context already done).
func startAwait[T any](ctx context.Context, j *Job[T], finish func(T, error)) {
	var zero T
	if j == nil || j.c == nil || j.c.cfg == nil {
		finish(zero, errZeroJob)
		return
	}
	if ctx == nil {
		finish(zero, fmt.Errorf("%w: awaiting job %s with a nil Context", ErrInvalidParams, j.id))
		return
	}
	a := &awaiter[T]{j: j, ctx: ctx, finish: finish, resumed: j.resumed}
	a.w.deliver = a.deliver
	a.mu.Lock()
	defer a.mu.Unlock()
	if snap := j.kept.Load(); snap != nil {
		a.finishSnapshot(snap, "")
		return
	}
	if o := j.c.cfg.observe.job; o != nil {
		a.ctx, a.jo = j.obs.join(ctx, o, observe.JobStart{ID: j.id, Type: string(j.typ), Webhook: j.webhook})
	}
	if ctx.Err() != nil {
		a.cancelledLocked()
		return
	}
	c := j.c
	// A fresh dispatch says when to look first; like every wait between
	// polls, within the client's cap.
	wait := min(j.meta.RetryAfter, c.cfg.maxPollInterval)
	if h := c.cfg.webhookHandler(); h != nil && j.webhook {
		ev, reg := h.register(j.id, &a.w)
		switch reg {
		case gotEarly:
			a.eventLocked(ev, observe.JobViaWebhook)
			if a.done {
				return
			}
			wait = 0 // a webhook without its result: fetch it
		case gone:
			wait = 0 // the status URL has the answer
		case registered:
			a.h, a.listening = h, true
			wait = c.cfg.webhookGrace
		}
	}
	if a.resumed {
		wait = 0
	}
	if ctx.Done() != nil { // a context that never ends needs no watching
		a.stopCtx = context.AfterFunc(ctx, a.cancelled)
	}
	a.timer = time.AfterFunc(wait, a.fire)
}

// deliver is the handler's callback with the job's terminal event, or
// without one (ok false) when the handler closed.
func (a *awaiter[T]) deliver(ev WebhookEvent, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.listening = false
	if a.done {
		// The outcome went out already (ctx ended as the event came): keep
		// the event, so that the next await of this job needs no request.
		if ok && hasOutcome(ev) {
			a.j.keep(snapshotOf(a.j, ev))
		}
		return
	}
	if !ok {
		a.pollNow()
		return
	}
	a.eventLocked(ev, cmp.Or(a.w.via, observe.JobViaWebhook))
}

// eventLocked finishes with a terminal event, or polls for the result the
// event did not carry (accounts whose webhooks leave it out).
func (a *awaiter[T]) eventLocked(ev WebhookEvent, via observe.JobVia) {
	if a.jo != nil {
		a.jo.note(observe.JobNote{Kind: observe.JobWebhookReceived, Status: string(ev.Status), Trace: ev.Trace})
	}
	if hasOutcome(ev) {
		a.finishSnapshot(snapshotOf(a.j, ev), via)
		return
	}
	a.pollNow()
}

// hasOutcome reports whether ev completes its job by itself.
func hasOutcome(ev WebhookEvent) bool {
	return ev.Status == JobStatusFailed || (ev.Status == JobStatusSuccess && !isNull(ev.Result))
}

func snapshotOf[T any](j *Job[T], ev WebhookEvent) *JobSnapshot {
	typ := ev.Type
	if typ == "" {
		typ = j.typ
	}
	return &JobSnapshot{ID: j.id, Type: typ, Status: ev.Status, Result: ev.Result}
}

// pollNow makes the next poll happen at once, or right after the one in
// flight. a.mu is held.
func (a *awaiter[T]) pollNow() {
	if a.polling {
		a.pollSoon = true
	} else if a.timer != nil {
		a.timer.Reset(0)
	}
	// Without a timer, startAwait has not armed one yet and arms it at 0.
}

// fire is the timer: the webhook's grace is over, or a poll is due.
func (a *awaiter[T]) fire() {
	a.mu.Lock()
	if a.done || a.polling {
		a.mu.Unlock()
		return
	}
	if a.listening && !a.resumed && !a.graceOver {
		// The webhook was expected and did not come: say so once.
		a.graceOver = true
		a.h.graceExpired()
		if a.jo != nil {
			a.jo.note(observe.JobNote{Kind: observe.JobGraceExpired})
		}
		a.j.c.log.LogAttrs(a.ctx, slog.LevelInfo, "sharpapi: no webhook within the grace period; polling",
			slog.String("job_id", a.j.id), slog.Duration("grace", a.j.c.cfg.webhookGrace))
	}
	a.polling, a.pollSoon = true, false
	lookFirst := a.resumed && a.listening
	a.mu.Unlock()
	a.poll(lookFirst)
}

// poll reads the status URL once, on the timer's goroutine, and decides
// what comes next. A resumed job looks in the event bus's store first: the
// event may be there, and then no request is needed.
func (a *awaiter[T]) poll(lookFirst bool) {
	if lookFirst && a.h.lookupNow(a.ctx, a.j.id) {
		// The store had the event; deliver has run already.
		a.mu.Lock()
		a.polling = false
		a.mu.Unlock()
		return
	}
	snap, err := a.j.status(a.ctx, 0) // finishSnapshot checks its type
	if a.jo != nil {
		a.jo.note(pollNote(snap, err))
	}
	if err == nil && snap.Status.Terminal() {
		// Once the await has its outcome (deferred calls run last
		// first), the outcome goes to the bus's ledger, if there is one.
		defer a.j.c.settlePolled(a.ctx, a.j.id, a.j.typ, a.j.webhook, snap)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.polling = false
	if a.done {
		if err == nil && snap.Status.Terminal() {
			a.j.keep(snap)
		}
		return
	}
	c := a.j.c
	if err != nil {
		if a.ctx.Err() != nil {
			a.cancelledLocked()
			return
		}
		if !transientPollError(err) {
			a.finishLocked(err) // it names the job: in its status URL, or "(job …)"
			return
		}
		// The job exists and will finish: wait out the outage.
		a.lastErr = err
		a.failures++
		a.timer.Reset(c.pollRetryDelay(a.failures, err))
		return
	}
	a.lastErr, a.failures = nil, 0
	if err := checkJobType(a.j.id, a.j.typ, snap.Type, "awaited as"); err != nil {
		a.finishLocked(err) // an unfinished job of another type will not become this one
		return
	}
	if snap.Status.Terminal() {
		a.finishSnapshot(snap, observe.JobViaPoll)
		return
	}
	wasResumed := a.resumed
	a.resumed = false
	switch {
	case a.pollSoon:
		a.timer.Reset(0)
	case wasResumed && a.listening:
		// A resumed job has had its look at the status URL; from here on
		// it is awaited like a fresh one.
		a.timer.Reset(c.cfg.webhookGrace)
	default:
		a.timer.Reset(c.pollDelay(snap.Meta.RetryAfter))
	}
}

// cancelled is the context's AfterFunc.
func (a *awaiter[T]) cancelled() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.done {
		a.cancelledLocked()
	}
}

func (a *awaiter[T]) cancelledLocked() {
	a.finishLocked(&waitError{jobID: a.j.id, statusURL: a.j.statusURL, cause: context.Cause(a.ctx), last: a.lastErr})
}

// finishSnapshot finishes with a terminal snapshot: the decoded result, or
// a *JobFailedError; or, when the snapshot (a status answer or a webhook)
// reports another type than the job's, an error wrapping
// ErrJobTypeMismatch. The job keeps it, so that awaiting it again sends
// nothing. via says how it came ("" when the job had kept it).
func (a *awaiter[T]) finishSnapshot(snap *JobSnapshot, via observe.JobVia) {
	if err := checkJobType(a.j.id, a.j.typ, snap.Type, "awaited as"); err != nil {
		a.finishLocked(err)
		return
	}
	a.j.keep(snap)
	v, err := decodeOutcome[T](a.j.id, snap, *a.j.c.apiKey)
	if a.jo != nil {
		a.jo.finished(snap.Type, via, err, false)
	}
	a.done = true
	a.release()
	a.finish(v, err)
}

// finishLocked finishes with an error.
func (a *awaiter[T]) finishLocked(err error) {
	if a.jo != nil {
		_, cancelled := err.(*waitError)
		a.jo.finished(a.j.typ, "", err, cancelled)
	}
	var zero T
	a.done = true
	a.release()
	a.finish(zero, err)
}

// release stops the timer and the context's AfterFunc, and leaves the
// handler's waiters: nothing of a finished await stays behind.
func (a *awaiter[T]) release() {
	if a.timer != nil {
		a.timer.Stop()
	}
	if a.stopCtx != nil {
		a.stopCtx()
	}
	if a.listening {
		a.listening = false
		a.h.unregister(a.j.id, &a.w)
	}
}

// decodeOutcome turns a terminal snapshot into Wait's return values. A
// failure's detail is SharpAPI's text, which may quote the request's
// credential: secrets are scrubbed from it, as from an *APIError.
func decodeOutcome[T any](id string, snap *JobSnapshot, secrets ...string) (T, error) {
	var zero T
	if snap.Status == JobStatusFailed {
		s := newScrubber(secrets...)
		return zero, &JobFailedError{JobID: id, Type: JobType(s.string(string(snap.Type))), Detail: s.body(snap.Result)}
	}
	v, err := decodeResult[T](snap.Result)
	if err != nil {
		return zero, fmt.Errorf("%w: job %s result: %w", ErrMalformedResponse, id, err)
	}
	return v, nil
}

// callDone runs an OnDone callback in a goroutine of its own, with a panic
// recovered: a caller's bug must not take the process down from a
// goroutine the caller never started, nor vanish without a trace. Like
// net/http with a handler's panic, it is logged at Error with its stack:
// through the client's logger, or slog.Default() when the client has none
// (a silent client must not hide a bug in the caller's code). It is
// counted in [Client.CallbackPanics] and, if the client has a handler, in
// its Stats. c is nil for a zero Job.
func callDone(c *Client, jobID string, call func()) {
	go func() {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			log := slog.Default()
			if c != nil {
				c.callbackPanics.Add(1)
				if h := c.cfg.webhookHandler(); h != nil {
					h.stats.callbackPanics.Add(1)
				}
				if c.cfg.logger != nil {
					log = c.log
				}
			}
			log.LogAttrs(context.Background(), slog.LevelError, "sharpapi: OnDone callback panicked",
				slog.String("job_id", jobID), slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
		}()
		call()
	}()
}

// CallbackPanics returns how many [Job.OnDone] callbacks of this client's
// jobs have panicked. Each panic is recovered and logged with its stack at
// Error, through the client's logger ([WithLogger]) or, without one,
// through slog.Default(). 0 for a zero Client.
func (c *Client) CallbackPanics() uint64 {
	if c == nil {
		return 0
	}
	return c.callbackPanics.Load()
}
