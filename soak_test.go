package sharpapi_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// TestSoakUnderFaults pushes many jobs through the emulator while every
// fault is switched on and off at random, wave after wave: duplicated,
// dropped, early and delayed webhooks, failed jobs, 429 storms, 500s,
// latency, and slow callbacks on the handler. Every job must complete
// exactly once with its own result; afterwards no goroutine is left and the
// heap is back near where it started.
//
// SHARPAPI_SOAK_JOBS sets the size (default 400, what CI runs); -short
// skips it.
func TestSoakUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("soak skipped with -short")
	}
	jobs := 400
	if v, err := strconv.Atoi(os.Getenv("SHARPAPI_SOAK_JOBS")); err == nil && v > 0 {
		jobs = v
	}
	const (
		wave    = 50
		workers = 32
	)
	baseGoroutines := runtime.NumGoroutine()
	baseHeap := heapInUse()

	stats := soak(t, jobs, wave, workers)
	t.Logf("%d jobs: %d succeeded, %d failed, %d re-dispatched after a 500, %d webhooks delivered, %d duplicates dropped",
		jobs, stats.ok, stats.failed, stats.redispatched, stats.delivered, stats.duplicates)

	waitFor(t, func() bool { return runtime.NumGoroutine() <= baseGoroutines })
	if grown := heapInUse() - baseHeap; grown > 16<<20 {
		t.Errorf("heap grew by %d MiB and stayed", grown>>20)
	}
}

type soakStats struct {
	ok, failed, redispatched int64
	delivered, duplicates    uint64
}

// soak runs the jobs and tears everything down before it returns, so that
// the caller can check for leaks.
func soak(t *testing.T, jobs, wave, workers int) soakStats {
	hooks, err := sharpapi.NewWebhookHandler(hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	receiver := httptest.NewServer(hooks)
	echo := sharpapitest.WithResult(string(sharpapi.JobTypeContentTranslate), func(req sharpapitest.JobRequest) (any, error) {
		return map[string]string{"content": "<" + req.Text("content") + ">", "to_language": "Italian"}, nil
	})
	emu := sharpapitest.NewServer(
		sharpapitest.WithWebhookSecret(hookSecret),
		sharpapitest.WithJobDuration(2*time.Millisecond),
		sharpapitest.WithRetryAfter(time.Millisecond),
		sharpapitest.WithWebhookRetryDelay(time.Millisecond),
		sharpapitest.WithRecordLimit(1000),
		// 429 storms come from RateLimitRate below; the per-minute limit
		// itself would throttle a large soak for real minutes.
		sharpapitest.WithRateLimit(1<<30, time.Minute),
		sharpapitest.WithSeed(20261127),
		echo)
	client, err := sharpapi.NewClient("soak-key",
		sharpapi.WithBaseURL(emu.URL),
		sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhook(receiver.URL),
		sharpapi.WithWebhookGrace(20*time.Millisecond),
		sharpapi.WithPollInterval(2*time.Millisecond),
		sharpapi.WithMaxRetries(12), // a 15% fault rate per request must not exhaust them
		sharpapi.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}

	release := make(chan struct{}) // slow callbacks block until the end
	var slowCalls atomic.Int64
	var stats soakStats
	rng := rand.New(rand.NewPCG(1, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	for start := 0; start < jobs; start += wave {
		emu.SetFaults(sharpapitest.Faults{
			DropRate:      []float64{0, 0.2, 0.5}[rng.IntN(3)],
			Duplicates:    1 + rng.IntN(4),
			Early:         rng.IntN(4) == 0,
			WebhookDelay:  time.Duration(rng.IntN(3)) * time.Millisecond,
			FailRate:      0.1,
			ErrorRate:     []float64{0, 0.05}[rng.IntN(2)],
			RateLimitRate: []float64{0, 0.1, 0.3}[rng.IntN(3)],
			Latency:       time.Duration(rng.IntN(2)) * time.Millisecond,
		})
		n := min(wave, jobs-start)
		var wg sync.WaitGroup
		next := make(chan int)
		errs := make(chan error, n)
		for range min(workers, n) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					errs <- soakOne(ctx, client, emu, hooks, i, release, &slowCalls, &stats)
				}
			}()
		}
		for i := start; i < start+n; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if t.Failed() {
			break
		}
	}
	if got := len(emu.Jobs()); int64(got) != stats.ok+stats.failed {
		t.Errorf("emulator created %d jobs for %d completed: a dispatch was duplicated", got, stats.ok+stats.failed)
	}
	if slowCalls.Load() == 0 {
		t.Error("no slow callback ran: the soak did not exercise them")
	}
	close(release)
	st := hooks.Stats()
	stats.delivered, stats.duplicates = st.Delivered, st.Duplicates
	emu.Close()
	receiver.Close()
	hooks.Close()
	return stats
}

// soakOne dispatches job i (re-dispatching on a 500, which SharpAPI answers
// before creating anything), sometimes hangs a slow callback on it, and
// checks Wait's outcome against what the emulator decided.
func soakOne(ctx context.Context, c *sharpapi.Client, emu *sharpapitest.Server, hooks *sharpapi.WebhookHandler,
	i int, release <-chan struct{}, slowCalls *atomic.Int64, stats *soakStats) error {
	text := fmt.Sprintf("job-%d", i)
	var job *sharpapi.Job[sharpapi.TranslateResult]
	for {
		var err error
		job, err = c.Translate(ctx, sharpapi.TranslateParams{Content: text})
		var apiErr *sharpapi.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == 500 {
			atomic.AddInt64(&stats.redispatched, 1)
			continue
		}
		if err != nil {
			return fmt.Errorf("dispatch %d: %w", i, err)
		}
		break
	}
	if i%7 == 0 {
		hooks.OnCompleteForTest(job.ID(), func(sharpapi.WebhookEvent) {
			slowCalls.Add(1)
			<-release
		})
	}
	res, err := job.Wait(ctx)
	info, _ := emu.Job(job.ID())
	var failed *sharpapi.JobFailedError
	switch {
	case errors.As(err, &failed):
		if info.Status != string(sharpapi.JobStatusFailed) {
			return fmt.Errorf("job %s: JobFailedError but the emulator says %s", job.ID(), info.Status)
		}
		atomic.AddInt64(&stats.failed, 1)
	case err != nil:
		return fmt.Errorf("job %d: %w", i, err)
	case res.Content != "<"+text+">":
		return fmt.Errorf("job %s got %q, want %q", job.ID(), res.Content, "<"+text+">")
	default:
		atomic.AddInt64(&stats.ok, 1)
	}
	return nil
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
