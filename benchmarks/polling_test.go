package benchmarks

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

var (
	pollJobDuration = flag.Duration("poll.job", 50*time.Millisecond, "emulated job duration in BenchmarkWaitEmulator")
	pollInterval    = flag.Duration("poll.interval", 20*time.Millisecond, "poll interval (and emulator Retry-After) in BenchmarkWaitEmulator")
	pollInFlight    = flag.Int("poll.c", 32, "jobs in flight in BenchmarkWaitEmulator: one is started every poll.job/poll.c")
)

// BenchmarkWaitEmulator awaits b.N jobs (run it at -benchtime=1000x) through
// the SDK against the emulator, two ways: mode=webhook dispatches each job
// WithWebhook(url) on a client built WithWebhookHandler(handler), the handler
// mounted on a loopback server the emulator delivers to; mode=polling
// dispatches without a webhook and Wait polls every -poll.interval (the
// emulator's Retry-After says the same). Jobs take -poll.job each; each is
// dispatched and awaited by a goroutine of its own. A job starts every
// -poll.job / -poll.c (1.6 ms by default), so about -poll.c jobs are in
// flight at any time, with no more than -poll.c ever: a steady arrival
// rate rather than cohorts that start, finish and deliver together.
//
// It reports the status requests per job, counted by the emulator (goal:
// zero with webhooks), and the completion delay: the time Wait returned
// minus the time the emulator finished the job (p50, p99, max). With
// webhooks it also reports the part of that delay after the emulator began
// the webhook's POST (post-to-return), which is the SDK's share.
func BenchmarkWaitEmulator(b *testing.B) {
	b.Run("mode=webhook", func(b *testing.B) { benchWait(b, true) })
	b.Run("mode=polling", func(b *testing.B) { benchWait(b, false) })
}

func benchWait(b *testing.B, webhooks bool) {
	emu := sharpapitest.NewServer(
		sharpapitest.WithWebhookSecret(secret),
		sharpapitest.WithJobDuration(*pollJobDuration),
		sharpapitest.WithRetryAfter(*pollInterval),
		sharpapitest.WithRateLimit(1<<30, time.Minute),
	)
	defer emu.Close()
	// A client that keeps enough connections for the jobs in flight, in
	// both modes.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer hc.CloseIdleConnections()
	opts := []sharpapi.Option{
		sharpapi.WithBaseURL(emu.URL),
		sharpapi.WithHTTPClient(hc),
		sharpapi.WithPollInterval(*pollInterval),
	}
	var (
		h        *sharpapi.WebhookHandler
		dispatch []sharpapi.RequestOption
	)
	if webhooks {
		var err error
		if h, err = sharpapi.NewWebhookHandler(secret); err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		recv := httptest.NewServer(h)
		defer recv.Close()
		// The grace outlasts the run: a poll here would be a lost webhook.
		opts = append(opts, sharpapi.WithWebhookHandler(h), sharpapi.WithWebhookGrace(time.Minute))
		dispatch = append(dispatch, sharpapi.WithWebhook(recv.URL+"/hooks/sharpapi"))
	}
	client, err := sharpapi.NewClient("bench-key", opts...)
	if err != nil {
		b.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type outcome struct {
		id       string
		returned time.Time
		err      error
	}
	out := make([]outcome, b.N)
	slots := make(chan struct{}, max(*pollInFlight, 1))
	var wg sync.WaitGroup
	// The arrival schedule of the load, not a wait for anything.
	arrivals := time.NewTicker(max(*pollJobDuration/time.Duration(cap(slots)), time.Microsecond))
	defer arrivals.Stop()
	b.ResetTimer()
	for i := range out {
		if i > 0 {
			<-arrivals.C
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			job, err := client.Translate(ctx, sharpapi.TranslateParams{Content: "hello world", Language: "Italian"}, dispatch...)
			if err != nil {
				out[i].err = err
				return
			}
			out[i].id = job.ID()
			res, err := job.Wait(ctx)
			out[i].returned = time.Now()
			if err == nil && res.Content == "" {
				err = errStatus(job.ID(), 0)
			}
			out[i].err = err
		}()
	}
	wg.Wait()
	b.StopTimer()
	// The emulator records a webhook attempt once its POST is answered,
	// which may be after Wait returned; Close waits for those in flight.
	emu.Close()

	polls := 0
	delays := make([]time.Duration, 0, b.N)
	for _, o := range out {
		if o.err != nil {
			b.Fatal(o.err)
		}
		info, ok := emu.Job(o.id)
		if !ok || info.Finished.IsZero() {
			b.Fatalf("emulator has no finished job %s", o.id)
		}
		polls += info.Polls
		delays = append(delays, o.returned.Sub(info.Finished))
	}
	b.ReportMetric(float64(polls)/float64(b.N), "polls/job")
	if h != nil {
		if st := h.Stats(); st.Delivered != uint64(b.N) {
			b.Fatalf("handler delivered %d events for %d jobs", st.Delivered, b.N)
		}
		// Split the delay at the moment the emulator started the webhook's
		// POST: before it is the emulator's side (timer, body, signature),
		// after it the SDK's (receive, verify, route, wake Wait, decode).
		sent := map[string]time.Time{}
		for _, d := range emu.Deliveries() {
			if d.Attempt == 1 && d.Copy == 1 {
				sent[d.JobID] = d.Time
			}
		}
		sdk := make([]time.Duration, 0, b.N)
		for _, o := range out {
			t, ok := sent[o.id]
			if !ok {
				b.Fatalf("no webhook recorded for job %s", o.id)
			}
			sdk = append(sdk, o.returned.Sub(t))
		}
		reportLatencies(b, "post-to-return", sdk, time.Millisecond)
	}
	reportLatencies(b, "delay", delays, time.Millisecond)
	if webhooks {
		writeSamples(b, "wait_delay_webhook.txt", delays)
	} else {
		writeSamples(b, "wait_delay_polling.txt", delays)
	}
}
