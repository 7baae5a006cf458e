package benchmarks

import (
	"context"
	"flag"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// The rate-limit benchmark's plan: N dispatches against L requests per
// window W. SharpAPI's window is a minute; the emulator's is shortened to W
// (sharpapitest.WithRateLimit) so that a run takes seconds, and the
// client is told the same window (sharpapi.WithRateLimit). The plan's
// minimum wall time is N/L windows.
var (
	rlJobs   = flag.Int("ratelimit.n", 100, "rate-limit benchmark: dispatches per run")
	rlLimit  = flag.Int("ratelimit.limit", 20, "rate-limit benchmark: requests allowed per window")
	rlWindow = flag.Duration("ratelimit.window", 2*time.Second, "rate-limit benchmark: the plan's window (SharpAPI: 1m)")
)

// BenchmarkRateLimit dispatches N jobs at once against the emulator's
// limit of L per window, through a client with its rate limiter
// (limiter=on) and one built WithoutRateLimiter (limiter=off), in one run.
// Both retry up to 10 times. Reported per run: 429s drawn (goal 0 with the
// limiter), requests sent per job, failed dispatches, and wall time as a
// ratio of the plan's minimum N/L windows (goal 1.05x or less) and of the
// fixed-window floor, (ceil(N/L)-1) windows, which a burst at the start of
// a window makes shorter than N/L.
func BenchmarkRateLimit(b *testing.B) {
	for _, on := range []bool{true, false} {
		name := "limiter=on"
		if !on {
			name = "limiter=off"
		}
		b.Run(name, func(b *testing.B) {
			var last rateRun
			for b.Loop() {
				last = runRateLimited(b, on, *rlJobs, *rlLimit, *rlWindow)
			}
			b.ReportMetric(float64(last.limited), "429s/run")
			b.ReportMetric(float64(last.requests)/float64(*rlJobs), "requests/job")
			b.ReportMetric(float64(last.failed), "failed/run")
			b.ReportMetric(last.ratio, "x-plan-minimum")
			floor := windowFloor(*rlJobs, *rlLimit, *rlWindow)
			b.ReportMetric(float64(last.wall)/float64(floor), "x-window-floor")
			b.Logf("%s: %d jobs, %d per %v: %d requests, %d 429s, %d failed, wall %v = %.3fx of N/L = %v (%.3fx of the fixed-window floor %v)",
				name, *rlJobs, *rlLimit, *rlWindow, last.requests, last.limited, last.failed,
				last.wall.Round(time.Millisecond), last.ratio, planMinimum(*rlJobs, *rlLimit, *rlWindow),
				float64(last.wall)/float64(floor), floor)
		})
	}
}

type rateRun struct {
	requests, limited, failed int
	wall                      time.Duration
	ratio                     float64
}

func planMinimum(n, limit int, window time.Duration) time.Duration {
	return time.Duration(float64(window) * float64(n) / float64(limit))
}

// windowFloor is the least time N requests can take against fixed windows
// that open with the first request: the first L go at once, the last
// batch at the start of window ceil(N/L).
func windowFloor(n, limit int, window time.Duration) time.Duration {
	return time.Duration((n+limit-1)/limit-1) * window
}

// runRateLimited runs one burst against a fresh emulator and counts what
// the emulator answered.
func runRateLimited(b *testing.B, limiter bool, n, limit int, window time.Duration) rateRun {
	b.Helper()
	emu := sharpapitest.NewServer(sharpapitest.WithRateLimit(limit, window))
	defer emu.Close()
	opts := []sharpapi.Option{sharpapi.WithBaseURL(emu.URL), sharpapi.WithMaxRetries(10),
		sharpapi.WithRateLimit(limit, window)}
	if !limiter {
		opts = append(opts, sharpapi.WithoutRateLimiter())
	}
	c, err := sharpapi.NewClient("bench-key", opts...)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Translate(ctx, sharpapi.TranslateParams{Content: "hello", Language: "Italian"})
			if err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	run := rateRun{failed: failed, wall: wall, ratio: float64(wall) / float64(planMinimum(n, limit, window))}
	for _, r := range emu.Requests() {
		run.requests++
		if r.StatusCode == http.StatusTooManyRequests {
			run.limited++
		}
	}
	return run
}
