package sharpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
)

// ownContext is a caller's own context type: its Done channel is not one
// of package context's, so context.AfterFunc cannot register on it and
// falls back to a goroutine per call.
type ownContext struct {
	done chan struct{}
	once sync.Once
}

func (c *ownContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *ownContext) Done() <-chan struct{}       { return c.done }
func (c *ownContext) Value(any) any               { return nil }
func (c *ownContext) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}
func (c *ownContext) cancel() { c.once.Do(func() { close(c.done) }) }

// pendingJobs dispatches n webhook jobs to an in-process stub (no socket,
// no poll: the grace is an hour) and returns them.
func pendingJobs(tb testing.TB, n int) []*sharpapi.Job[sharpapi.TranslateResult] {
	tb.Helper()
	var seq atomic.Int64
	stub := roundTrip(func(r *http.Request) (*http.Response, error) {
		body := fmt.Sprintf(`{"job_id":"6f1c2d3e-0000-4000-8000-%012d"}`, seq.Add(1))
		return &http.Response{StatusCode: http.StatusAccepted, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	hooks, err := sharpapi.NewWebhookHandler(hookSecret)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { hooks.Close() })
	client, err := sharpapi.NewClient("test-key", sharpapi.WithBaseURL("http://api.test"),
		sharpapi.WithHTTPClient(&http.Client{Transport: stub}),
		sharpapi.WithWebhookHandler(hooks), sharpapi.WithWebhook("https://app.example/hooks/sharpapi"),
		sharpapi.WithWebhookGrace(time.Hour), sharpapi.WithoutRateLimiter())
	if err != nil {
		tb.Fatal(err)
	}
	jobs := make([]*sharpapi.Job[sharpapi.TranslateResult], n)
	for i := range jobs {
		if jobs[i], err = client.Translate(context.Background(), italian); err != nil {
			tb.Fatal(err)
		}
	}
	return jobs
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// awaitPending awaits every job with OnDone under ctx and returns the
// goroutines and heap bytes the pending awaits hold, per job; cancel ends
// them all, and awaitPending returns once every callback ran.
func awaitPending(tb testing.TB, jobs []*sharpapi.Job[sharpapi.TranslateResult], ctx context.Context, cancel func()) (goroutines, heap, stack float64) {
	tb.Helper()
	var called sync.WaitGroup
	called.Add(len(jobs))
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	g0 := runtime.NumGoroutine()
	for _, job := range jobs {
		job.OnDone(ctx, func(sharpapi.TranslateResult, error) { called.Done() })
	}
	g1 := runtime.NumGoroutine()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	cancel()
	called.Wait()
	n := float64(len(jobs))
	return float64(g1-g0) / n, float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / n,
		float64(int64(m1.StackInuse)-int64(m0.StackInuse)) / n
}

// BenchmarkOnDoneContexts measures what a pending OnDone holds, per job,
// under a context of package context, under a caller's own context type
// (context.AfterFunc's fallback: a goroutine per await), and under the
// same own context wrapped once in context.WithCancel (one goroutine for
// all). OnDone's doc quotes it.
func BenchmarkOnDoneContexts(b *testing.B) {
	for _, kind := range []string{"stdlib", "own", "own_wrapped"} {
		b.Run(kind, func(b *testing.B) {
			jobs := pendingJobs(b, b.N)
			b.ResetTimer()
			var ctx context.Context
			var cancel func()
			switch kind {
			case "stdlib":
				ctx, cancel = context.WithCancel(context.Background())
			case "own":
				own := &ownContext{done: make(chan struct{})}
				ctx, cancel = own, own.cancel
			case "own_wrapped":
				own := &ownContext{done: make(chan struct{})}
				var stop context.CancelFunc
				ctx, stop = context.WithCancel(own)
				cancel = func() { own.cancel(); stop() }
			}
			g, heap, stack := awaitPending(b, jobs, ctx, cancel)
			b.ReportMetric(g, "goroutines/job")
			b.ReportMetric(heap, "heap-B/job")
			b.ReportMetric(stack, "stack-B/job")
		})
	}
}

// TestOnDoneUnderAnOwnContextWrappedOnce: the doc's advice holds. Jobs
// awaited under a caller's own context type hold a goroutine each; the
// same context wrapped once in context.WithCancel holds none per job.
func TestOnDoneUnderAnOwnContextWrappedOnce(t *testing.T) {
	const n = 500
	own := &ownContext{done: make(chan struct{})}
	if g, _, _ := awaitPending(t, pendingJobs(t, n), own, own.cancel); g < 0.9 {
		t.Errorf("an own context type held %.2f goroutines per pending OnDone; the doc says one", g)
	}
	own = &ownContext{done: make(chan struct{})}
	ctx, stop := context.WithCancel(own)
	defer stop()
	if g, _, _ := awaitPending(t, pendingJobs(t, n), ctx, func() { own.cancel() }); g*n > 2 {
		t.Errorf("an own context wrapped once held %.0f goroutines for %d pending OnDones, want at most the wrapper's", g*n, n)
	}
}
