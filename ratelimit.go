package sharpapi

// The client's rate limiter. SharpAPI counts requests per plan in fixed
// one-minute windows and says where a window stands on every metered answer
// (X-RateLimit-Limit, -Remaining, -Reset). The limiter follows those
// headers rather than a clock of its own: they count the requests of every
// replica that shares the API key, so a fleet converges on the plan without
// a shared store. golang.org/x/time/rate is not used: a token bucket
// smooths a rate, but it cannot know when the server's window resets or how
// much of it other replicas have spent.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sharpapi-go/sharpapi/observe"
)

// LimiterStats is the state of a client's rate limiter, from [Client.Limiter].
type LimiterStats struct {
	// Limit, Remaining and Reset are the plan's window as SharpAPI last
	// described it (X-RateLimit-*), or as WithRateLimit and Quota set it;
	// zero while unknown. A Reset further ahead than a window can end is
	// not believed: Reset is then a window after the answer.
	Limit, Remaining int
	Reset            time.Time
	// PausedUntil is when the client sends again after a 429; zero if no
	// 429 has paused it.
	PausedUntil time.Time
	// InFlight counts the requests sent and not yet answered; Waiting, the
	// requests the limiter holds back now.
	InFlight, Waiting int
	// Sent counts every request attempt sent, RateLimited the 429 answers
	// among them, Held the requests the limiter held back, and Waited the
	// time they spent held, in total.
	Sent, RateLimited, Held int64
	Waited                  time.Duration
	// Disabled reports WithoutRateLimiter: requests are counted, never held.
	Disabled bool
}

// Limiter returns the state of the client's rate limiter.
func (c *Client) Limiter() LimiterStats {
	if c == nil || c.limiter == nil {
		return LimiterStats{}
	}
	l := c.limiter
	l.mu.Lock()
	defer l.mu.Unlock()
	return LimiterStats{
		Limit: l.limit, Remaining: l.remaining, Reset: l.reset, PausedUntil: l.pausedUntil,
		InFlight: l.inflight, Waiting: l.waiting,
		Sent: l.sent, RateLimited: l.limited, Held: l.held, Waited: l.waited,
		Disabled: l.off,
	}
}

// callClass orders requests competing for the window: a caller's call
// (dispatch or synchronous) goes before a status poll, which can wait.
type callClass int

const (
	classCall callClass = iota
	classPoll
)

// callState is one call's place in the limiter; do puts it in the request's
// context for the transport.
type callState struct {
	class     callClass
	failFast  bool // WithMaxRetries(0): never wait
	unmetered bool // ping, quota

	// For a observe.RequestObserver: the polled job, and the attempts sent.
	jobID    string
	attempts int
}

type callKey struct{}

// maxWindowGap is how far apart two Reset values may be and still name the
// same window (the header is in whole seconds).
const maxWindowGap = time.Second

// sharpAPIWindow is the length of SharpAPI's rate-limit window.
const sharpAPIWindow = time.Minute

// limiter holds requests back so that they stay within the plan's window.
type limiter struct {
	clock  clock // the webhook handler's abstraction; tests drive it by hand
	log    *slog.Logger
	window time.Duration // the plan's window, a minute for SharpAPI
	off    bool          // WithoutRateLimiter: count, never hold
	// maxPause caps the pause a 429 asks for, as WithRetryWait caps
	// Retry-After for retries.
	maxPause time.Duration
	// maxPollHold caps how long a status poll is held, so that polls keep
	// WithMaxPollInterval's promise.
	maxPollHold time.Duration

	mu sync.Mutex
	// changed is closed, and replaced, whenever the state changes, waking
	// every held request to look again.
	changed chan struct{}
	// moved is closed, and replaced, on every change and also whenever a
	// request is held: it wakes watchers of the stats (tests), not waiters.
	moved chan struct{}
	limit int
	// known says remaining and reset describe the current window; until
	// then (first request, a new window, after a 429) one request probes
	// it alone.
	known       bool
	remaining   int
	reset       time.Time
	pausedUntil time.Time
	// unmetered says the server sends no X-RateLimit-* at all; then only a
	// limit given by WithRateLimit or Quota spaces requests, next apart.
	unmetered bool
	next      time.Time
	// inflight caps itself at cwnd, which grows by one with each answer and
	// falls back to one on a 429: replicas sharing a plan each learn what
	// the others spend before they spend much themselves.
	inflight, cwnd int
	waiting        int
	callsWaiting   int

	// lastProbe is when a status poll last went because it had been held
	// maxPollHold: such probes go one per maxPollHold at most.
	lastProbe time.Time
	// lastNews is when a request last went or an answer last came: a
	// request held for answers goes anyway once stallAfter passes without
	// either (see stallAfter).
	lastNews time.Time

	sent, limited, held int64
	waited              time.Duration

	obs    observe.LimiterObserver // WithObserver's, or nil
	reqObs observe.RequestObserver
}

func newLimiter(cfg clientConfig, log *slog.Logger) *limiter {
	l := &limiter{
		clock: realClock{}, log: log, window: time.Minute, changed: make(chan struct{}), moved: make(chan struct{}), cwnd: 1,
		off: cfg.rateLimitOff, limit: cfg.rateLimit, maxPause: cfg.retryWaitMax, maxPollHold: cfg.maxPollInterval,
		obs: cfg.observe.limiter, reqObs: cfg.observe.request,
	}
	if cfg.rateWindow > 0 {
		l.window = cfg.rateWindow
	}
	return l
}

// learnLimit records the plan's limit, as Quota reports it.
func (l *limiter) learnLimit(perMinute int) {
	if perMinute <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit = perMinute
	l.broadcast()
}

func (l *limiter) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
	l.notify()
}

func (l *limiter) notify() {
	close(l.moved)
	l.moved = make(chan struct{})
}

// wrap returns rt with every request passing through the limiter.
func (l *limiter) wrap(rt http.RoundTripper) http.RoundTripper { return limitedTransport{rt, l} }

// limitedTransport holds each attempt, retries included, until the plan
// allows it, and learns from each answer. It hides the wrapped transport's
// CloseIdleConnections as keepIdle does.
type limitedTransport struct {
	next http.RoundTripper
	l    *limiter
}

func (t limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st, _ := req.Context().Value(callKey{}).(*callState)
	if st == nil {
		st = &callState{}
	}
	if st.unmetered {
		if o := t.l.reqObs; o != nil {
			return t.send(o, req, st)
		}
		return t.next.RoundTrip(req)
	}
	if err := t.l.acquire(req.Context(), st, req); err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper must, even when it fails
		}
		return nil, err
	}
	var (
		resp *http.Response
		err  error
	)
	if o := t.l.reqObs; o != nil {
		resp, err = t.send(o, req, st)
	} else {
		resp, err = t.next.RoundTrip(req)
	}
	t.l.observe(resp, err)
	return resp, err
}

// acquire waits until st's request may be sent, or fails at once with a
// *rateWaitError when the wait would outlast ctx or st may not wait.
func (l *limiter) acquire(ctx context.Context, st *callState, req *http.Request) error {
	l.mu.Lock()
	var (
		held    bool
		start   time.Time
		lastWhy string
		heldWhy string // why it was first held, for a observe.LimiterObserver
	)
	leave := func(now time.Time) {
		if held {
			l.waiting--
			if st.class == classCall {
				l.callsWaiting--
			}
			l.waited += now.Sub(start)
		}
	}
	for {
		now := l.clock.Now()
		wait, why, ok := l.admit(now, st.class)
		wake := wait // when to look again by the clock; zero: at the next change only
		if !ok && st.class == classPoll && l.maxPollHold > 0 {
			// A poll is held maxPollHold at most (WithMaxPollInterval),
			// counted from when it was first held or from the last poll
			// that went for this reason, whichever is later. Then it goes
			// as the request that probes the window anew: the state that
			// held it may be stale, and only an answer can correct it.
			from := now
			if held {
				from = start
			}
			if l.lastProbe.After(from) {
				from = l.lastProbe
			}
			if left := from.Add(l.maxPollHold).Sub(now); left > 0 {
				wait = min(wait, left) // it goes by then, whatever the reason
				if wake == 0 || wake > left {
					wake = left
				}
			} else {
				ok = true
				l.lastProbe, l.known = now, false
				l.log.LogAttrs(ctx, slog.LevelDebug, "sharpapi rate limiter sending a status poll held for the max poll interval",
					slog.String("url", redactURL(req.URL.String())), slog.String("reason", why), slog.Duration("max_poll_interval", l.maxPollHold))
			}
		}
		if !ok && wait == 0 && l.inflight > 0 && (why == whyFirstAnswer || why == whyAnswers) {
			if left := l.lastNews.Add(stallAfter).Sub(now); left > 0 {
				if wake == 0 || wake > left {
					wake = left
				}
			} else {
				ok = true
				l.log.LogAttrs(ctx, slog.LevelDebug, "sharpapi rate limiter sending a request held for answers that do not come",
					slog.String("url", redactURL(req.URL.String())), slog.Int("in_flight", l.inflight), slog.Duration("stalled", now.Sub(l.lastNews)))
			}
		}
		if ok {
			leave(now)
			l.inflight++
			l.sent++
			l.lastNews = now
			if held {
				l.broadcast() // a poll may have waited for this call to go first
			}
			l.mu.Unlock()
			if held && l.obs != nil {
				l.tellHeld(ctx, st, req, heldWhy, now.Sub(start), false)
			}
			return nil
		}
		if st.failFast && wait > 0 { // waiting for an answer takes a round trip: not a wait to refuse
			leave(now)
			l.mu.Unlock()
			if held && l.obs != nil {
				l.tellHeld(ctx, st, req, heldWhy, now.Sub(start), true)
			}
			return &rateWaitError{rl: l.heldError(wait, req), why: why}
		}
		if dl, ok := ctx.Deadline(); ok && wait > 0 && now.Add(wait).After(dl) {
			leave(now)
			l.mu.Unlock()
			if held && l.obs != nil {
				l.tellHeld(ctx, st, req, heldWhy, now.Sub(start), true)
			}
			return &rateWaitError{rl: l.heldError(wait, req), why: why, cause: context.DeadlineExceeded}
		}
		if !held {
			held, start, heldWhy = true, now, why
			l.held++
			l.waiting++
			if st.class == classCall {
				l.callsWaiting++
			}
			l.notify()
		}
		if why != lastWhy {
			lastWhy = why
			l.log.LogAttrs(ctx, slog.LevelDebug, "sharpapi rate limiter holding a request",
				slog.String("method", req.Method), slog.String("url", redactURL(req.URL.String())),
				slog.String("reason", why), slog.Duration("wait", wait),
				slog.Int("remaining", l.remaining), slog.Int("in_flight", l.inflight))
		}
		changed := l.changed
		until := now.Add(wait)
		var (
			timer chan struct{}
			stop  = func() bool { return false }
		)
		if wake > 0 {
			// Armed under the lock, so that whoever sees this request
			// held also sees its timer (tests advance a manual clock).
			ch := make(chan struct{})
			stop = l.clock.AfterFunc(wake, func() { close(ch) }).Stop
			timer = ch
		}
		l.mu.Unlock()
		select {
		case <-changed:
		case <-timer:
		case <-ctx.Done():
			stop()
			l.mu.Lock()
			now := l.clock.Now()
			leave(now)
			l.broadcast()
			rl := l.heldError(max(until.Sub(now), 0), req)
			waited := now.Sub(start)
			l.mu.Unlock()
			if l.obs != nil {
				l.tellHeld(ctx, st, req, heldWhy, waited, true)
			}
			return &rateWaitError{rl: rl, why: why, cause: ctx.Err(), waited: waited, gaveUp: true}
		}
		stop()
		l.mu.Lock()
	}
}

// The reasons to hold a request that only an answer ends.
const (
	whyFirstAnswer = "awaiting the window's first answer"
	whyAnswers     = "awaiting answers before sending more"
)

// stallAfter bounds how long requests wait for answers that do not come:
// when neither a request went nor an answer came for that long, one held
// request goes anyway, and one more each stallAfter after it. A request in
// flight may hang (a status URL that never answers, a server that stalls
// one connection); without this bound it would hold every other request
// of the client until its own timeout, and an unhappy path must cost only
// the job it touches. One request per 2 s is far within any plan's limit.
const stallAfter = 2 * time.Second

// admit reports whether a request of class may go now; if not, how long
// until the state changes by itself (zero: only an answer will change it)
// and why. l.mu must be held.
func (l *limiter) admit(now time.Time, class callClass) (time.Duration, string, bool) {
	if l.off {
		return 0, "", true
	}
	if now.Before(l.pausedUntil) {
		return l.pausedUntil.Sub(now), "a 429 paused the client", false
	}
	if class == classPoll && l.callsWaiting > 0 {
		return 0, "calls go before status polls", false
	}
	if l.known && !now.Before(l.reset) {
		l.known = false // a new window: probe it
	}
	switch {
	case l.unmetered:
		if l.limit > 0 {
			if now.Before(l.next) {
				return l.next.Sub(now), "spacing requests to the plan's limit", false
			}
			l.next = now.Add(l.window / time.Duration(l.limit))
		}
		return 0, "", true
	case !l.known:
		if l.inflight > 0 {
			return 0, whyFirstAnswer, false
		}
		return 0, "", true
	}
	avail := l.remaining - l.inflight
	if class == classPoll {
		avail -= l.pollReserve()
	}
	if avail <= 0 {
		return l.reset.Sub(now), "the plan's window is used up", false
	}
	if l.inflight >= l.cwnd {
		return 0, whyAnswers, false
	}
	return 0, "", true
}

// pollReserve is the part of a window status polls leave to calls, so that
// polling many jobs never starves new dispatches.
func (l *limiter) pollReserve() int {
	if l.limit < 2 {
		return 0
	}
	return (l.limit + 9) / 10
}

// observe learns from one answer (or transport error).
func (l *limiter) observe(resp *http.Response, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	l.lastNews = l.clock.Now()
	defer l.broadcast()
	if err != nil {
		return
	}
	now := l.clock.Now()
	h := resp.Header
	rl := parseRateLimit(h)
	if rl.Limit > 0 {
		l.limit = rl.Limit
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		l.limited++
		until := now.Add(time.Second)
		if ra, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
			until = now.Add(ra)
		} else if rl.Reset.After(now) && l.plausible(now, rl.Reset) {
			until = rl.Reset
		}
		// Within the retry cap, and within a window: a 429 of a
		// per-minute plan means no longer wait than that.
		until = minTime(until, now.Add(min(l.maxPause, l.horizon())))
		if !l.off && until.After(l.pausedUntil) {
			l.pausedUntil = until
			l.log.LogAttrs(context.Background(), slog.LevelInfo, "sharpapi rate limited: pausing every request",
				slog.Duration("for", until.Sub(now)), slog.Int("limit", l.limit))
		}
		l.known, l.remaining, l.cwnd = false, 0, 1
		return
	}
	if strings.TrimSpace(h.Get("X-RateLimit-Remaining")) == "" {
		// No word on the window: a server that sends none at all is
		// unmetered; an answer without them among metered ones (an error
		// from a proxy) says nothing.
		if !l.known {
			l.unmetered = true
		}
		return
	}
	l.unmetered = false
	reset := rl.Reset
	if reset.IsZero() || !l.plausible(now, reset) {
		// Unknown: no later than this, whenever the window began. Then
		// the window is probed again.
		reset = now.Add(l.window)
	}
	switch {
	case !l.known || reset.After(l.reset.Add(maxWindowGap)):
		l.known, l.remaining, l.reset = true, rl.Remaining, reset
	case reset.Before(l.reset.Add(-maxWindowGap)):
		// An answer from the previous window, overtaken.
	default:
		l.remaining = min(l.remaining, rl.Remaining)
	}
	l.cwnd = min(l.cwnd+1, 1<<20)
}

// horizon is the furthest ahead a window can end: SharpAPI's minute (or
// the longer window WithRateLimit gives), plus the header's rounding.
func (l *limiter) horizon() time.Duration { return max(l.window, sharpAPIWindow) + maxWindowGap }

// plausible reports whether a Reset is one a window can mean. One further
// ahead (hours, an epoch in milliseconds read as seconds, a date in year
// 9999) would hold every metered request until then, and since none would
// be sent, no answer could correct it: it is treated as unknown.
func (l *limiter) plausible(now, reset time.Time) bool {
	return !reset.After(now.Add(l.horizon()))
}

// heldError describes req, refused while it had wait to go. SharpAPI did not
// answer it: its APIError has only the method and URL. l.mu must be held.
func (l *limiter) heldError(wait time.Duration, req *http.Request) *RateLimitError {
	return &RateLimitError{
		APIError:   APIError{Method: req.Method, URL: redactURL(req.URL.String())},
		RetryAfter: wait,
		RateLimit:  RateLimit{Limit: l.limit, Remaining: l.remaining, Reset: l.reset},
	}
}

// pauseLeft is how long a 429 still pauses the client.
func (l *limiter) pauseLeft() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(l.pausedUntil.Sub(l.clock.Now()), 0)
}

// checkRetry wraps a retry policy: a request the limiter refused is not
// retried (it says why already), and a 429 whose pause would outlast the
// caller's deadline ends the call at once instead of sleeping into it.
func (l *limiter) checkRetry(next retryablehttp.CheckRetry) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		var held *rateWaitError
		if err != nil && errors.As(err, &held) {
			return false, held
		}
		retry, checkErr := next(ctx, resp, err)
		if !retry || resp == nil || resp.StatusCode != http.StatusTooManyRequests || l.off {
			return retry, checkErr
		}
		wait := l.pauseLeft()
		if dl, ok := ctx.Deadline(); ok && l.clock.Now().Add(wait).After(dl) {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			var rl *RateLimitError
			if !errors.As(newAPIError(resp, body, ""), &rl) {
				return false, nil
			}
			return false, &rateWaitError{rl: rl, cause: context.DeadlineExceeded, retryIn: wait}
		}
		return true, nil
	}
}

// backoff wraps the retry backoff: after a 429 the retry waits in the
// limiter, which holds every request until the pause ends, on its clock and
// within the caller's deadline; sleeping here as well would wait twice.
func (l *limiter) backoff(next retryablehttp.Backoff) retryablehttp.Backoff {
	return func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
		if !l.off && resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			return 0
		}
		return next(min, max, attempt, resp)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// rateWaitError is a rate-limit wait the client refused or gave up. It
// matches ErrRateLimited, *RateLimitError and, when a context ended it, the
// context's error.
type rateWaitError struct {
	rl      *RateLimitError
	why     string        // the limiter's reason; empty for a 429
	cause   error         // nil when the call asked not to wait
	waited  time.Duration // how long it was held, when it gave up
	retryIn time.Duration // after a 429: the client's pause left
	gaveUp  bool          // the context ended during the wait
}

func (e *rateWaitError) Error() string {
	wait := e.rl.RetryAfter.Round(time.Millisecond)
	var msg string
	switch {
	case e.gaveUp:
		msg = fmt.Sprintf("rate limited (%s): gave up after waiting %v", e.why, e.waited.Round(time.Millisecond))
	case e.rl.StatusCode != 0:
		msg = fmt.Sprintf("%d %s: the retry in %v would come after the context's deadline",
			e.rl.StatusCode, http.StatusText(e.rl.StatusCode), e.retryIn.Round(time.Millisecond))
	case e.cause != nil:
		msg = fmt.Sprintf("rate limited (%s): the request could go in %v, after the context's deadline", e.why, wait)
	default:
		msg = fmt.Sprintf("rate limited (%s): the request could go in %v, but WithMaxRetries(0) asked not to wait", e.why, wait)
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

func (e *rateWaitError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.rl}
	}
	return []error{e.rl, e.cause}
}
