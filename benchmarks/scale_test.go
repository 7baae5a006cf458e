package benchmarks

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
)

var (
	scaleSizes      = flag.String("scale.n", "1000", "BenchmarkScale: pending jobs per run, comma-separated (the curve: 1000,10000,100000,1000000)")
	scaleDeliverers = flag.Int("scale.deliverers", 4, "BenchmarkScale: goroutines delivering the webhooks after the probe")
	scaleProbe      = flag.Int("scale.probe", 1000, "BenchmarkScale: webhooks delivered one at a time first, to time each (at most half the jobs)")
	scaleBody       = flag.Int("scale.size", 1<<10, "BenchmarkScale: body size of the webhooks")
	scaleHeapDir    = flag.String("scale.heapprofile", "", "BenchmarkScale: directory for a heap profile of each run while its jobs are pending (n=N-await=A.prof); with -memprofilerate=1 it sees every allocation")
)

// scaleAwaits are the three ways to await a job, as BenchmarkScale names
// them.
var scaleAwaits = []string{"ondone", "waitasync", "wait"}

// BenchmarkScale measures what a pending job costs on one replica as the
// number of pending jobs grows, for each way of awaiting it:
//
//	ondone     Job.OnDone: a callback, no goroutine while the job is pending
//	waitasync  Job.WaitAsync: a buffered channel, read after every delivery
//	wait       Job.Wait in a goroutine of the caller's, one per job
//
// Each run dispatches n jobs (-scale.n, one sub-benchmark per size) to a
// stub API through a client built WithWebhookHandler, awaits every one,
// and measures, after GC, with the stub's connections idle:
//
//	job-B/job        heap of the dispatched Job (what the caller holds)
//	await-B/job      heap the await adds: its state, timer, context hook,
//	                 the handler's entry, and for wait the goroutine's
//	                 descriptor, which the runtime keeps when a goroutine
//	                 ends and reuses for the next: a wait run after another
//	                 in the same process starts fewer new goroutines and
//	                 shows about 450 B less
//	heap-B/job       both: what a pending job costs in all (goal ≤ 1 KiB)
//	stack-B/job      goroutine stacks per job (wait's goroutine)
//	goroutines/job   goroutines over the baseline per pending job
//	goroutines-held  goroutines over the baseline, all jobs pending; the
//	                 baseline is taken before the stub starts, so this
//	                 counts its server and its idle connections too (at
//	                 most 1+3*stubConns = 13)
//
// Then it delivers every job's webhook (-scale.size bytes, signed) through
// the handler's ServeHTTP, called directly, in two phases:
//
//	probe   the first -scale.probe jobs (at most half), one at a time, each
//	        timed from ServeHTTP's entry until the awaiting side has the
//	        outcome (the callback runs, Wait returns, the channel read
//	        returns), with all the other jobs still pending:
//	        latency-p50/p99/max-µs
//	load    the others from -scale.deliverers goroutines, each yielding
//	        after a delivery as a server goroutine parks between requests:
//	        deliveries/s until the last job has its outcome, and for ondone
//	        and wait the same latency under that load, loaded-p50/p99-µs
//	        (waitasync's channels are read after the last delivery)
//
// It fails unless every job got its result exactly once and the
// goroutines return to the baseline.
//
// CI runs it at the default size; the curve takes minutes and about 8 GiB
// at a million Wait goroutines:
//
//	go test -run='^$' -bench='^BenchmarkScale$' -benchtime=1x -scale.n=1000,10000,100000,1000000
func BenchmarkScale(b *testing.B) {
	for _, f := range strings.Split(*scaleSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("-scale.n: %q is not a positive size", f)
		}
		for _, await := range scaleAwaits {
			b.Run(fmt.Sprintf("n=%d/await=%s", n, await), func(b *testing.B) {
				var total scaleRound
				for range b.N {
					total.add(runScale(b, n, await))
				}
				total.report(b)
			})
		}
	}
}

// scaleRound is what one run of n jobs measured.
type scaleRound struct {
	jobs                      int
	jobHeap, awaitHeap, stack int64 // bytes, over every job
	goroutines, maxHeld       int   // over the baseline
	probe, loaded             []time.Duration
	delivered                 int // in the load phase
	delivering                time.Duration
}

func (t *scaleRound) add(r scaleRound) {
	t.jobs += r.jobs
	t.jobHeap += r.jobHeap
	t.awaitHeap += r.awaitHeap
	t.stack += r.stack
	t.goroutines += r.goroutines
	t.maxHeld = max(t.maxHeld, r.goroutines)
	t.probe = append(t.probe, r.probe...)
	t.loaded = append(t.loaded, r.loaded...)
	t.delivered += r.delivered
	t.delivering += r.delivering
}

func (t *scaleRound) report(b *testing.B) {
	per := func(v int64) float64 { return float64(v) / float64(t.jobs) }
	b.ReportMetric(per(t.jobHeap), "job-B/job")
	b.ReportMetric(per(t.awaitHeap), "await-B/job")
	b.ReportMetric(per(t.jobHeap+t.awaitHeap), "heap-B/job")
	b.ReportMetric(per(t.stack), "stack-B/job")
	b.ReportMetric(per(int64(t.goroutines)), "goroutines/job")
	b.ReportMetric(float64(t.maxHeld), "goroutines-held")
	b.ReportMetric(float64(t.delivered)/t.delivering.Seconds(), "deliveries/s")
	reportLatencies(b, "latency", t.probe, time.Microsecond)
	if len(t.loaded) > 0 {
		slices.Sort(t.loaded)
		b.ReportMetric(float64(percentile(t.loaded, 50))/1e3, "loaded-p50-µs")
		b.ReportMetric(float64(percentile(t.loaded, 99))/1e3, "loaded-p99-µs")
	}
}

// runScale dispatches n jobs, awaits them, measures them pending, then
// delivers their webhooks.
func runScale(b *testing.B, n int, await string) scaleRound {
	b.StopTimer()
	defer b.StartTimer()
	g0 := runtime.NumGoroutine()
	h, err := sharpapi.NewWebhookHandler(secret) // production defaults
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	stub := newStubAPI(b)
	client := stub.client(b, h)
	// Open the stub's connections before the baseline is taken.
	dispatchJobs(b, client, make([]*sharpapi.Job[sharpapi.TranslateResult], 4*stubConns))

	// Everything the benchmark itself keeps per job is allocated before
	// the baseline.
	jobs := make([]*sharpapi.Job[sharpapi.TranslateResult], n)
	sent := make([]time.Duration, n)  // ServeHTTP entry, by the deliverer of i
	got := make([]time.Duration, n)   // the outcome, by the await of i
	calls := make([]atomic.Int32, n)  // outcomes seen, per job
	failed := make([]atomic.Value, n) // the first wrong outcome, per job
	var chans []<-chan sharpapi.Outcome[sharpapi.TranslateResult]
	if await == "waitasync" {
		chans = make([]<-chan sharpapi.Outcome[sharpapi.TranslateResult], n)
	}
	var outcomes sync.WaitGroup
	outcomes.Add(n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := time.Now()
	var m0, m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)

	dispatchJobs(b, client, jobs)
	runtime.GC()
	runtime.ReadMemStats(&m1)

	// The probe's jobs, one at a time: the deliverer waits for each.
	probe := min(*scaleProbe, n/2)
	probed := make(chan int, 1)
	outcome := func(i int, res sharpapi.TranslateResult, err error) {
		got[i] = time.Since(base)
		if calls[i].Add(1) > 1 {
			return // counted: the run fails
		}
		if err != nil || res.Content == "" {
			failed[i].Store(fmt.Sprintf("job %s: %q, %v", jobs[i].ID(), res.Content, err))
		}
		if i < probe {
			probed <- i
		}
	}
	switch await {
	case "ondone":
		for i, job := range jobs {
			job.OnDone(ctx, func(res sharpapi.TranslateResult, err error) {
				outcome(i, res, err)
				outcomes.Done()
			})
		}
	case "waitasync":
		for i, job := range jobs {
			chans[i] = job.WaitAsync(ctx)
		}
	case "wait":
		for i, job := range jobs {
			go func() {
				res, err := job.Wait(ctx)
				outcome(i, res, err)
				outcomes.Done()
			}()
		}
		waitForWaiting(b, h, n)
	}
	runtime.GC()
	runtime.ReadMemStats(&m2)
	held := runtime.NumGoroutine() - g0
	writeHeapProfile(b, fmt.Sprintf("n=%d-await=%s.prof", n, await))
	if st := h.Stats(); st.Waiting != n {
		b.Fatalf("%d jobs awaited, want %d", st.Waiting, n)
	}
	r := scaleRound{
		jobs:       n,
		jobHeap:    int64(m1.HeapAlloc) - int64(m0.HeapAlloc),
		awaitHeap:  int64(m2.HeapAlloc) - int64(m1.HeapAlloc),
		stack:      int64(m2.StackInuse) - int64(m1.StackInuse),
		goroutines: held,
	}

	ds := deliveriesFor(jobs, *scaleBody)
	serve := func(i int) error {
		req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(ds[i].body))
		req.Header.Set(sharpapi.WebhookSignatureHeader, ds[i].sig)
		rec := httptest.NewRecorder()
		sent[i] = time.Since(base)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return errStatus(ds[i].id, rec.Code)
		}
		return nil
	}

	// No collection in progress when the probe starts: building the
	// deliveries may have started one, over a heap of n pending jobs.
	runtime.GC()
	b.StartTimer()
	for i := range probe {
		if err := serve(i); err != nil {
			b.Fatal(err)
		}
		if await == "waitasync" {
			o := <-chans[i]
			outcome(i, o.Value, o.Err)
			outcomes.Done()
		}
		if j := <-probed; j != i {
			b.Fatalf("probe: job %d's outcome came while job %d's was awaited", j, i)
		}
	}

	deliverers := max(*scaleDeliverers, 1)
	errs := make(chan error, deliverers)
	var wg sync.WaitGroup
	start := time.Now()
	for d := range deliverers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := probe + d; i < n; i += deliverers {
				if err := serve(i); err != nil {
					errs <- err
					return
				}
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	if await == "waitasync" {
		for i := probe; i < n; i++ {
			o := <-chans[i]
			outcome(i, o.Value, o.Err)
			outcomes.Done()
		}
	}
	outcomes.Wait()
	r.delivering = time.Since(start)
	r.delivered = n - probe
	b.StopTimer()

	// Every job has its outcome; the goroutines that delivered them (Wait's,
	// OnDone's callbacks) end on their own, and so do the stub's.
	stub.close()
	if err := h.Close(); err != nil {
		b.Fatal(err)
	}
	waitForGoroutines(b, g0)
	if await == "waitasync" {
		for i, ch := range chans {
			if o, ok := <-ch; ok {
				b.Fatalf("job %s: a second outcome %+v", jobs[i].ID(), o)
			}
		}
	}
	for i := range calls {
		if c := calls[i].Load(); c != 1 {
			b.Fatalf("job %s: %d outcomes, want 1", jobs[i].ID(), c)
		}
		if f := failed[i].Load(); f != nil {
			b.Fatal(f)
		}
	}
	if st := h.Stats(); st.Delivered != uint64(n) || st.Waiting != 0 {
		b.Fatalf("handler: %d delivered, %d waiting; want %d, 0", st.Delivered, st.Waiting, n)
	}
	for i := range n {
		if i < probe {
			r.probe = append(r.probe, got[i]-sent[i])
		} else if await != "waitasync" {
			r.loaded = append(r.loaded, got[i]-sent[i])
		}
	}
	return r
}

// waitForGoroutines returns once no more than n goroutines run: the ones a
// run started end on their own after it. It fails after a minute.
func waitForGoroutines(tb testing.TB, n int) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			tb.Fatalf("%d goroutines a minute after the run, want at most %d (the baseline)", runtime.NumGoroutine(), n)
		}
		runtime.Gosched()
	}
}

// writeHeapProfile writes the heap profile as name in -scale.heapprofile,
// if that flag is set: what is live now, and where it was allocated.
func writeHeapProfile(tb testing.TB, name string) {
	if *scaleHeapDir == "" {
		return
	}
	f, err := os.Create(filepath.Join(*scaleHeapDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
}
