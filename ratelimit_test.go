package sharpapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// manualClock lets the limiter run on the emulator's ManualClock, so that
// both see the same minute pass without anyone waiting for it.
type manualClock struct{ *sharpapitest.ManualClock }

func (m manualClock) AfterFunc(d time.Duration, f func()) clockTimer {
	return manualTimer(m.ManualClock.AfterFunc(d, f))
}

type manualTimer func() bool

func (t manualTimer) Stop() bool               { return t() }
func (t manualTimer) Reset(time.Duration) bool { panic("the limiter never resets a timer") }

// limitRig is an emulator with a per-minute limit and a client whose
// limiter reads the same manual clock. The clock starts near the real time
// so that a context deadline (real time) compares with the limiter's waits.
type limitRig struct {
	emu   *sharpapitest.Server
	clock *sharpapitest.ManualClock
	log   *bytes.Buffer
	logMu *sync.Mutex
}

func newLimitRig(t *testing.T, perMinute int) *limitRig {
	t.Helper()
	clk := sharpapitest.NewManualClock(time.Now().Truncate(time.Second))
	emu := sharpapitest.NewServer(sharpapitest.WithClock(clk), sharpapitest.WithRateLimit(perMinute, time.Minute),
		sharpapitest.WithJobDuration(time.Hour), sharpapitest.WithRetryAfter(time.Millisecond))
	t.Cleanup(emu.Close)
	return &limitRig{emu: emu, clock: clk, log: &bytes.Buffer{}, logMu: &sync.Mutex{}}
}

// client returns a client of the rig. Retries wait on the limiter, so the
// retry wait bound is large: a 429's Retry-After is not capped.
func (r *limitRig) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	log := slog.New(slog.NewTextHandler(lockedWriter{r.logMu, r.log}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// No per-attempt timeout: it is real time, and the manual clock runs
	// ahead of it by a minute per window the test lets pass.
	c, err := NewClient("k", append([]Option{WithBaseURL(r.emu.URL), WithRetryWait(time.Millisecond, time.Hour),
		WithHTTPClient(&http.Client{}),
		WithPollInterval(time.Millisecond), WithLogger(log)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c.limiter.clock = manualClock{r.clock}
	return c
}

func (r *limitRig) logged() string {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	return r.log.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// statuses counts the emulator's answers to dispatches by status.
func (r *limitRig) statuses() map[int]int {
	n := map[int]int{}
	for _, req := range r.emu.Requests() {
		if req.Method == http.MethodPost {
			n[req.StatusCode]++
		}
	}
	return n
}

// awaitLimiter returns once cond holds of c's limiter, woken by each change
// of its state; it fails the test after 10 s.
func awaitLimiter(t *testing.T, c *Client, what string, cond func(LimiterStats) bool) {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		l := c.limiter
		l.mu.Lock()
		ch := l.moved
		l.mu.Unlock()
		st := c.Limiter()
		if cond(st) {
			return
		}
		select {
		case <-ch:
		case <-timeout.C:
			t.Fatalf("limiter never reached %s: %+v", what, st)
		}
	}
}

// dispatchAll starts n translations at once and returns their errors.
func dispatchAll(ctx context.Context, c *Client, n int) <-chan error {
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := c.Translate(ctx, TranslateParams{Content: "hi", Language: "Italian"}, WithoutWebhook())
			errs <- err
		}()
	}
	return errs
}

func collect(t *testing.T, errs <-chan error, n int) {
	t.Helper()
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("dispatch: %v", err)
		}
	}
}

// TestBurstStaysWithinThePlan: twelve dispatches against a plan of five a
// minute go five per window, and none draws a 429; the held requests are
// visible in Limiter and in the Debug log.
func TestBurstStaysWithinThePlan(t *testing.T) {
	r := newLimitRig(t, 5)
	c := r.client(t)
	errs := dispatchAll(t.Context(), c, 12)
	for _, want := range []int{5, 10} {
		awaitLimiter(t, c, "a used-up window", func(s LimiterStats) bool {
			return s.Sent == int64(want) && s.InFlight == 0 && s.Waiting == 12-want
		})
		r.clock.Advance(time.Minute)
	}
	collect(t, errs, 12)
	if diff := cmp.Diff(map[int]int{http.StatusAccepted: 12}, r.statuses()); diff != "" {
		t.Errorf("dispatch answers (-want +got):\n%s", diff)
	}
	st := c.Limiter()
	got := LimiterStats{Limit: st.Limit, Remaining: st.Remaining, Sent: st.Sent, RateLimited: st.RateLimited}
	if diff := cmp.Diff(LimiterStats{Limit: 5, Remaining: 3, Sent: 12, RateLimited: 0}, got); diff != "" {
		t.Errorf("Limiter (-want +got):\n%s", diff)
	}
	if st.Held < 7 {
		t.Errorf("Held = %d, want at least the 7 requests beyond the first window", st.Held)
	}
	if st.Waited < 7*time.Minute {
		t.Errorf("Waited = %v, want at least 7 requests × 1 min", st.Waited)
	}
	if log := r.logged(); !strings.Contains(log, "holding a request") || !strings.Contains(log, "window is used up") {
		t.Errorf("no Debug line for a held request:\n%s", log)
	}
}

// TestOne429PausesTheWholeClient: another replica has spent the window;
// ten dispatches started during it draw one 429, not ten, and all complete
// in the next windows.
func TestOne429PausesTheWholeClient(t *testing.T) {
	r := newLimitRig(t, 5)
	other := r.client(t)
	collect(t, dispatchAll(t.Context(), other, 5), 5)

	c := r.client(t)
	errs := dispatchAll(t.Context(), c, 10)
	awaitLimiter(t, c, "a pause after one 429", func(s LimiterStats) bool {
		return s.RateLimited == 1 && s.InFlight == 0 && s.Waiting == 10
	})
	if p := c.Limiter().PausedUntil; !p.Equal(r.clock.Now().Add(time.Minute)) {
		t.Errorf("PausedUntil = %v, want the window's end %v", p, r.clock.Now().Add(time.Minute))
	}
	r.clock.Advance(time.Minute)
	awaitLimiter(t, c, "the second window used up", func(s LimiterStats) bool {
		return s.Sent == 6 && s.InFlight == 0 && s.Waiting == 5
	})
	r.clock.Advance(time.Minute)
	collect(t, errs, 10)
	if diff := cmp.Diff(map[int]int{http.StatusAccepted: 15, http.StatusTooManyRequests: 1}, r.statuses()); diff != "" {
		t.Errorf("dispatch answers (-want +got):\n%s", diff)
	}
}

// TestRateLimitWaitOutlastingContextFailsAtOnce: a wait for the window that
// would end after the caller's deadline is not begun; the error says why
// and matches both ErrRateLimited and the deadline.
func TestRateLimitWaitOutlastingContextFailsAtOnce(t *testing.T) {
	check := func(t *testing.T, err error, want time.Duration, answered bool) {
		t.Helper()
		var rl *RateLimitError
		if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a *RateLimitError that matches ErrRateLimited and DeadlineExceeded", err)
		}
		if rl.RetryAfter != want {
			t.Errorf("RetryAfter = %v, want %v", rl.RetryAfter, want)
		}
		var apiErr *APIError
		if got := errors.As(err, &apiErr); got != answered || (rl.StatusCode == http.StatusTooManyRequests) != answered {
			t.Errorf("errors.As *APIError = %v, StatusCode %d; want answered = %v", got, rl.StatusCode, answered)
		}
	}
	// The caller's deadline is real time, 50 s away; the window ends in a
	// minute of the manual clock. A wait would block the test for 50 s.
	t.Run("held", func(t *testing.T) {
		r := newLimitRig(t, 1)
		c := r.client(t)
		collect(t, dispatchAll(t.Context(), c, 1), 1)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Second)
		defer cancel()
		_, err := c.Translate(ctx, TranslateParams{Content: "hi", Language: "Italian"})
		check(t, err, time.Minute, false)
		if !strings.Contains(err.Error(), "after the context's deadline") {
			t.Errorf("message does not say why: %v", err)
		}
		if n := len(r.emu.Requests()); n != 1 {
			t.Errorf("%d requests reached the server, want 1", n)
		}
	})
	t.Run("429", func(t *testing.T) {
		r := newLimitRig(t, 1)
		collect(t, dispatchAll(t.Context(), r.client(t), 1), 1) // another replica
		c := r.client(t)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Second)
		defer cancel()
		_, err := c.Translate(ctx, TranslateParams{Content: "hi", Language: "Italian"})
		check(t, err, time.Minute, true)
		if diff := cmp.Diff(map[int]int{http.StatusAccepted: 1, http.StatusTooManyRequests: 1}, r.statuses()); diff != "" {
			t.Errorf("dispatch answers (-want +got):\n%s", diff)
		}
	})
	t.Run("fail fast", func(t *testing.T) {
		r := newLimitRig(t, 1)
		c := r.client(t)
		collect(t, dispatchAll(t.Context(), c, 1), 1)
		_, err := c.Translate(t.Context(), TranslateParams{Content: "hi", Language: "Italian"}, WithMaxRetries(0))
		var rl *RateLimitError
		if !errors.As(err, &rl) || rl.RetryAfter != time.Minute || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want a *RateLimitError waiting 1m and no context error", err)
		}
	})
}

// TestPollsLeaveRoomForDispatches: status polls stop short of the window's
// last requests, so a dispatch made while jobs are being polled still goes
// at once.
func TestPollsLeaveRoomForDispatches(t *testing.T) {
	r := newLimitRig(t, 10)
	c := r.client(t)
	job, err := c.Translate(t.Context(), TranslateParams{Content: "hi", Language: "Italian"}, WithoutWebhook())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := job.WaitAsync(ctx) // polls every millisecond: the job takes an hour
	awaitLimiter(t, c, "polls held back", func(s LimiterStats) bool { return s.Waiting == 1 && s.InFlight == 0 })
	if _, err := c.Translate(t.Context(), TranslateParams{Content: "hi", Language: "Italian"}); err != nil {
		t.Fatalf("dispatch while polling: %v", err)
	}
	cancel()
	<-done
	polls := 0
	for _, req := range r.emu.Requests() {
		if req.Method == http.MethodGet {
			polls++
		}
	}
	if got, want := [2]int{polls, r.statuses()[http.StatusAccepted]}, [2]int{8, 2}; got != want {
		t.Errorf("polls, dispatches = %v, want %v (one request of ten kept for dispatches)", got, want)
	}
	if n := c.Limiter().RateLimited; n != 0 {
		t.Errorf("%d 429s drawn", n)
	}
}

// TestQuotaTeachesTheLimit: Quota's requests_per_minute is the limiter's
// limit before any metered answer arrives.
func TestQuotaTeachesTheLimit(t *testing.T) {
	r := newLimitRig(t, 7)
	c := r.client(t)
	if _, err := c.Quota(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := c.Limiter(); got.Limit != 7 || got.Sent != 0 {
		t.Errorf("Limiter = %+v, want Limit 7 and quota not counted", got)
	}
}

// TestServerWithoutRateLimitHeaders: a server that sends no X-RateLimit-*
// is not throttled: requests go concurrently.
func TestServerWithoutRateLimitHeaders(t *testing.T) {
	const n = 4
	var (
		arrived sync.WaitGroup
		first   sync.Once
	)
	arrived.Add(n)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probe := false
		first.Do(func() { probe = true })
		if !probe { // the first request goes alone: it learns that nothing is metered
			arrived.Done()
			arrived.Wait() // answers only once the other n are in flight together
		}
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"status_url":"http://x.example/s/1","job_id":"1"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient("k", WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	collect(t, dispatchAll(ctx, c, n+1), n+1)
}

// TestWithRateLimitSpacesUnmeteredRequests: with a limit given up front and
// a server that sends no headers, requests go one per limit/window.
func TestWithRateLimitSpacesUnmeteredRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"status_url":"http://x.example/s/1","job_id":"1"}`))
	}))
	t.Cleanup(srv.Close)
	clk := sharpapitest.NewManualClock(time.Now())
	c, err := NewClient("k", WithBaseURL(srv.URL), WithRateLimit(2, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	c.limiter.clock = manualClock{clk}
	errs := dispatchAll(t.Context(), c, 3)
	for _, sent := range []int64{2, 3} {
		awaitLimiter(t, c, "spaced requests", func(s LimiterStats) bool {
			return s.Sent == sent && s.InFlight == 0 && s.Waiting == 3-int(sent)
		})
		clk.Advance(30 * time.Second)
	}
	collect(t, errs, 3)
}

// TestReplicasShareThePlan: two clients on one API key follow the server's
// headers, so together they keep to the plan: few 429s, no window wasted,
// and every dispatch done.
func TestReplicasShareThePlan(t *testing.T) {
	const perClient, limit = 10, 5
	r := newLimitRig(t, limit)
	clients := []*Client{r.client(t), r.client(t)}
	var completed sync.WaitGroup
	doneCh := make(chan struct{}, 2*perClient)
	for _, c := range clients {
		for range perClient {
			completed.Add(1)
			go func() {
				defer completed.Done()
				if _, err := c.Translate(t.Context(), TranslateParams{Content: "hi", Language: "Italian"}, WithoutWebhook()); err != nil {
					t.Errorf("dispatch: %v", err)
				}
				doneCh <- struct{}{}
			}()
		}
	}
	// Each round: wait until every unfinished dispatch is held, with
	// nothing in flight, then let a window pass.
	finished, windows := 0, 0
	sentAtAdvance := int64(-1) // a window passes only once the last one was used
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for finished < 2*perClient {
		var moved []chan struct{}
		held, inFlight, sent, timeBound := 0, 0, int64(0), true
		for _, c := range clients {
			l := c.limiter
			l.mu.Lock()
			moved = append(moved, l.moved)
			// Held requests that an answer has just freed are not yet
			// running: only a client whose next request waits for time
			// is done with this window.
			if l.waiting > 0 {
				wait, _, ok := l.admit(l.clock.Now(), classCall)
				timeBound = timeBound && !ok && wait > 0
			}
			l.mu.Unlock()
			st := c.Limiter()
			held += st.Waiting
			inFlight += st.InFlight
			sent += st.Sent
		}
		if inFlight == 0 && held == 2*perClient-finished && len(doneCh) == 0 && sent > sentAtAdvance && timeBound {
			sentAtAdvance = sent
			r.clock.Advance(time.Minute)
			windows++
			continue
		}
		select {
		case <-doneCh:
			finished++
		case <-moved[0]:
		case <-moved[1]:
		case <-timeout.C:
			t.Fatalf("stuck after %d windows with %d of %d done", windows, finished, 2*perClient)
		}
	}
	completed.Wait()
	got := r.statuses()
	if got[http.StatusAccepted] != 2*perClient {
		t.Errorf("dispatch answers: %v", got)
	}
	// Each 429 pauses its client to the window's end, so a client draws
	// only the 429s of the requests it had in flight when the other spent
	// the window: a few per window (2 to 9 in all, in 100 runs), where
	// clients without limiters would draw 15 in the first window alone.
	if n := got[http.StatusTooManyRequests]; n > 2*limit {
		t.Errorf("%d 429s in %d windows for %d clients, want at most %d", n, windows+1, len(clients), 2*limit)
	}
	if windows != 2*perClient/limit-1 {
		t.Errorf("took %d more windows, want %d: a window went unused", windows, 2*perClient/limit-1)
	}
	t.Logf("%d windows, answers %v", windows+1, got)
}
