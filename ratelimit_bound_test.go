package sharpapi

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// frozenServer answers every dispatch 202 and every status poll "pending",
// always with X-RateLimit-Remaining: 0 and the X-RateLimit-Reset that
// reset gives for the clock's time, the answer that used to freeze a
// client. It counts the requests it receives.
func frozenServer(t *testing.T, clk *sharpapitest.ManualClock, reset func(now time.Time) string, extra http.Header) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h := w.Header()
		h.Set("X-RateLimit-Limit", "5")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", reset(clk.Now()))
		for k, v := range extra {
			h[k] = v
		}
		if extra != nil {
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"message":"Too Many Attempts."}`))
			return
		}
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte(`{"job_id":"` + waitJobID + `"}`))
			return
		}
		w.Write([]byte(`{"data":{"id":"` + waitJobID + `","attributes":{"status":"pending","type":"content_translate"}}}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// heldFor is how long the limiter would hold a request of class now, or
// fails the test if it would not hold it for some time.
func heldFor(t *testing.T, c *Client, class callClass) time.Duration {
	t.Helper()
	l := c.limiter
	l.mu.Lock()
	defer l.mu.Unlock()
	wait, why, ok := l.admit(l.clock.Now(), class)
	if ok || wait <= 0 {
		t.Fatalf("admit = %v, %q, %v; want a request held for some time", wait, why, ok)
	}
	return wait
}

// TestImplausibleResetDoesNotFreezeTheClient: one answer with Remaining 0
// and a Reset that no one-minute window can mean (hours ahead, an epoch in
// milliseconds read as seconds, a date in year 9999, a huge decimal) holds
// requests for a window at most, after which one request probes the
// window again; a status poll is held no longer than WithMaxPollInterval.
// The client keeps the default HTTP client, whose 2-minute per-attempt
// timeout made every held call fail at once.
func TestImplausibleResetDoesNotFreezeTheClient(t *testing.T) {
	const maxPoll = 10 * time.Second
	bound := time.Minute + maxWindowGap // a window, and the header's rounding
	cases := []struct {
		name  string
		reset func(now time.Time) string
		want  time.Duration // the first hold; 0: at most bound
	}{
		{"10 h ahead", func(now time.Time) string { return strconv.FormatInt(now.Add(10*time.Hour).Unix(), 10) }, 0},
		{"epoch milliseconds", func(now time.Time) string { return strconv.FormatInt(now.Add(30*time.Second).UnixMilli(), 10) }, 0},
		{"9999999999", func(time.Time) string { return "9999999999" }, 0},
		{"year 9999", func(time.Time) string { return "Fri, 31 Dec 9999 23:59:59 GMT" }, 0},
		{"huge decimal", func(time.Time) string { return "999999999999.5" }, 0},
		{"plausible: 30 s ahead", func(now time.Time) string { return strconv.FormatInt(now.Add(30*time.Second).Unix(), 10) }, 30 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := sharpapitest.NewManualClock(time.Now().Truncate(time.Second))
			srv, requests := frozenServer(t, clk, tc.reset, nil)
			c, err := NewClient("k", WithBaseURL(srv.URL), WithMaxPollInterval(maxPoll))
			if err != nil {
				t.Fatal(err)
			}
			c.limiter.clock = manualClock{clk}
			job, err := c.Translate(t.Context(), TranslateParams{Content: "hi", Language: "Italian"}, WithoutWebhook())
			if err != nil {
				t.Fatal(err)
			}

			// The hold is bounded by a window, and a plausible Reset is
			// believed to the second.
			hold := heldFor(t, c, classCall)
			if tc.want != 0 && hold != tc.want {
				t.Fatalf("hold = %v, want the Reset's %v", hold, tc.want)
			}
			if hold > bound {
				t.Fatalf("hold = %v, want at most a window (%v)", hold, bound)
			}

			// A dispatch is held, not failed at once, and goes when the
			// hold ends: the first request of a new window, probing it.
			errs := dispatchAll(t.Context(), c, 1)
			awaitLimiter(t, c, "the dispatch held", func(s LimiterStats) bool { return s.Waiting == 1 })
			clk.Advance(hold)
			collect(t, errs, 1)

			// The probe's answer froze the window again: a status poll is
			// held WithMaxPollInterval at most, then goes.
			if hold := heldFor(t, c, classPoll); hold <= maxPoll {
				t.Fatalf("the window holds a poll %v: the test needs longer than %v", hold, maxPoll)
			}
			polled := make(chan error, 1)
			go func() {
				_, err := job.Status(t.Context())
				polled <- err
			}()
			awaitLimiter(t, c, "the poll held", func(s LimiterStats) bool { return s.Waiting == 1 })
			clk.Advance(maxPoll)
			select {
			case err := <-polled:
				if err != nil {
					t.Fatalf("poll: %v", err)
				}
			case <-time.After(10 * time.Second): // a bound on a failure, not a wait for success
				t.Fatal("the poll is still held after WithMaxPollInterval")
			}
			if n := requests.Load(); n != 3 {
				t.Errorf("the server received %d requests, want 3 (dispatch, dispatch, poll)", n)
			}
		})
	}
}

// TestImplausible429PauseIsBounded: a 429 whose Retry-After and Reset are
// hours or centuries away pauses the client for a window at most, even
// when WithRetryWait allows longer.
func TestImplausible429PauseIsBounded(t *testing.T) {
	for _, retryAfter := range []string{"", "36000", "9999999999", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		t.Run("Retry-After="+retryAfter, func(t *testing.T) {
			clk := sharpapitest.NewManualClock(time.Now().Truncate(time.Second))
			extra := http.Header{}
			if retryAfter != "" {
				extra.Set("Retry-After", retryAfter)
			}
			srv, _ := frozenServer(t, clk, func(time.Time) string { return "9999999999" }, extra)
			c, err := NewClient("k", WithBaseURL(srv.URL), WithRetryWait(time.Millisecond, 24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			c.limiter.clock = manualClock{clk}
			_, err = c.Translate(t.Context(), TranslateParams{Content: "hi", Language: "Italian"}, WithMaxRetries(0))
			if err == nil {
				t.Fatal("a 429 succeeded")
			}
			if pause := c.Limiter().PausedUntil.Sub(clk.Now()); pause <= 0 || pause > time.Minute+maxWindowGap {
				t.Errorf("paused for %v, want at most a window", pause)
			}
		})
	}
}
