package sharpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const waitJobID = "5de4887a-0dfd-49b6-8edb-9280e468c210"

// pollServer dispatches one job and answers its n-th status poll (from 1)
// with answer(w, r, n).
func pollServer(answer func(w http.ResponseWriter, r *http.Request, n int32)) (http.Handler, *atomic.Int32) {
	var polls atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte(`{"job_id":"` + waitJobID + `"}`))
			return
		}
		answer(w, r, polls.Add(1))
	}), &polls
}

func answerSuccess(w http.ResponseWriter) {
	w.Write([]byte(strings.ReplaceAll(successBody, "%s", waitJobID)))
}

// TestFirstPollWithinMaxPollInterval: the dispatch's Retry-After, however
// far it points, is capped like every other wait between polls.
func TestFirstPollWithinMaxPollInterval(t *testing.T) {
	for _, retryAfter := range []string{"3600", "1e12", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				w.Header().Set("Retry-After", retryAfter)
				w.WriteHeader(http.StatusAccepted)
				w.Write([]byte(`{"job_id":"` + waitJobID + `"}`))
				return
			}
			answerSuccess(w)
		})
		c, _ := pipeClient(t, h, WithMaxPollInterval(time.Millisecond))
		job, err := dispatchTranslation(t, c)
		if err != nil {
			t.Fatal(err)
		}
		// Only a hang guard: with a 1 ms cap the first poll comes at once.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = job.Wait(ctx)
		cancel()
		if err != nil {
			t.Errorf("dispatch Retry-After %s: Wait = %v, want the result", retryAfter, err)
		}
	}
}

// TestWaitOutlastsATransientOutage: 429s, 5xx and dropped connections on
// the status URL, more than any retry budget, do not end Wait.
func TestWaitOutlastsATransientOutage(t *testing.T) {
	const outage = 24
	h, polls := pollServer(func(w http.ResponseWriter, r *http.Request, n int32) {
		if n > outage {
			answerSuccess(w)
			return
		}
		switch n % 6 {
		case 0:
			w.Header().Set("Retry-After", "3600") // capped by the max poll interval
			w.WriteHeader(http.StatusTooManyRequests)
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
		case 2:
			w.WriteHeader(http.StatusBadGateway)
		case 3:
			w.Header().Set("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")
			w.WriteHeader(http.StatusServiceUnavailable)
		case 4:
			w.WriteHeader(http.StatusGatewayTimeout)
		case 5:
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}
	})
	c, _ := pipeClient(t, h, WithMaxPollInterval(time.Millisecond),
		WithRetryWait(time.Millisecond, time.Millisecond))
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := job.Wait(testContext(t))
	if err != nil || got.Content != "ciao" {
		t.Fatalf("Wait = %+v, %v; want the result", got, err)
	}
	if n := polls.Load(); n != outage+1 {
		t.Errorf("%d polls, want %d", n, outage+1)
	}
}

// TestWaitEndsOnWhatCannotGetBetter: a poll failure no wait can cure ends
// Wait at once, in one sentence that says "sharpapi:" once and names the
// job once.
func TestWaitEndsOnWhatCannotGetBetter(t *testing.T) {
	evil := newElsewhere(t)
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		is     error
	}{
		{"401", status(401, `{"message":"Unauthenticated."}`), ErrUnauthorized},
		{"402", status(402, `{"message":"Quota exceeded."}`), ErrQuotaExceeded},
		{"404", status(404, `{"message":"Job not found"}`), ErrNotFound},
		{"400", status(400, `{"message":"Bad request"}`), nil},
		{"501", status(501, `{"message":"Not implemented"}`), nil},
		{"malformed", status(200, `<html>`), ErrMalformedResponse},
		{"redirect elsewhere", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL, http.StatusFound)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, polls := pollServer(func(w http.ResponseWriter, r *http.Request, _ int32) { tt.answer(w, r) })
			c, _ := pipeClient(t, h, WithMaxPollInterval(time.Millisecond))
			job, err := dispatchTranslation(t, c)
			if err != nil {
				t.Fatal(err)
			}
			_, err = job.Wait(testContext(t))
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("Wait = %v, want %v", err, tt.is)
			}
			if n := polls.Load(); n != 1 {
				t.Errorf("%d polls, want 1", n)
			}
			msg := err.Error()
			if strings.Count(msg, "sharpapi:") != 1 || strings.Count(msg, waitJobID) != 1 {
				t.Errorf("error does not say sharpapi: and the job id once: %s", msg)
			}
		})
	}
	if got := evil.requests(); len(got) != 0 {
		t.Errorf("the other origin received %d requests", len(got))
	}
}

func status(code int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		w.Write([]byte(body))
	}
}

// TestWaitErrorWrapsContextAndLastFailure: when ctx ends during an outage,
// the error names the job and matches both ctx's error and the last
// failed poll.
func TestWaitErrorWrapsContextAndLastFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, _ := pollServer(func(w http.ResponseWriter, r *http.Request, n int32) {
		if n == 5 {
			cancel()
		}
		status(503, `{"message":"busy"}`)(w, r)
	})
	c, srv := pipeClient(t, h, WithMaxPollInterval(time.Millisecond), WithMaxRetries(0))
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = job.Wait(ctx)
	var apiErr *APIError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("Wait = %v, want context.Canceled and the last 503", err)
	}
	want := "sharpapi: waiting for job " + waitJobID + ": context canceled; the last poll failed: 503 Service Unavailable: busy"
	if err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
	if !strings.HasPrefix(apiErr.URL, srv.URL) {
		t.Errorf("APIError.URL = %s", apiErr.URL)
	}
}

// TestStatusErrorSaysItOnce pins the message of a failed poll: the issue's
// example read "sharpapi: waiting for job abc: sharpapi: GET …/abc: 404 Not
// Found: Job not found (job abc)".
func TestStatusErrorSaysItOnce(t *testing.T) {
	h, _ := pollServer(func(w http.ResponseWriter, r *http.Request, _ int32) {
		status(404, `{"message":"Job not found"}`)(w, r)
	})
	c, srv := pipeClient(t, h)
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	want := "sharpapi: GET " + srv.URL + "/api/v1/content/translate/job/status/" + waitJobID + ": 404 Not Found: Job not found"
	_, err = job.Wait(testContext(t))
	if err == nil || err.Error() != want {
		t.Errorf("Wait error:\n got %v\nwant %s", err, want)
	}
	_, err = job.Status(testContext(t))
	if err == nil || err.Error() != want {
		t.Errorf("Status error:\n got %v\nwant %s", err, want)
	}
}

// TestPollRetryDelay: after a failed poll, Wait waits what Retry-After asks
// or an exponential backoff with jitter, never more than the max poll
// interval.
func TestPollRetryDelay(t *testing.T) {
	c, err := NewClient("k", WithRetryWait(100*time.Millisecond, time.Second), WithMaxPollInterval(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	answer := func(code int, retryAfter string) error {
		return &APIError{StatusCode: code, Header: http.Header{"Retry-After": {retryAfter}}}
	}
	network := errors.New("connection reset by peer")
	tests := []struct {
		n      int
		err    error
		lo, hi time.Duration
	}{
		{1, network, 50 * time.Millisecond, 100 * time.Millisecond},
		{3, network, 200 * time.Millisecond, 400 * time.Millisecond},
		{40, network, 500 * time.Millisecond, time.Second},
		{1, answer(429, "3600"), time.Second, time.Second},
		{1, &RateLimitError{APIError: *answer(429, "Fri, 31 Dec 9999 23:59:59 GMT").(*APIError)}, time.Second, time.Second},
		{5, answer(503, "0.25"), 250 * time.Millisecond, 250 * time.Millisecond},
		{2, answer(500, "0.25"), 100 * time.Millisecond, 200 * time.Millisecond}, // Retry-After of a 500 is no rate limit
	}
	for _, tt := range tests {
		for range 20 {
			if d := c.pollRetryDelay(tt.n, tt.err); d < tt.lo || d > tt.hi {
				t.Errorf("pollRetryDelay(%d, %v) = %v, want in [%v, %v]", tt.n, tt.err, d, tt.lo, tt.hi)
				break
			}
		}
	}
}
