package benchmarks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
)

// The benchmarks that await jobs dispatch them through the SDK's public
// path (Client.Translate, then Job.Wait, WaitAsync or OnDone) to a
// stand-in for SharpAPI that accepts every dispatch and never finishes a
// job, so that only the webhook a benchmark delivers completes it. The
// emulator (sharpapitest) would do too, at about 60 µs a dispatch; the stub
// costs a fraction of that, which matters at a million jobs.

// stubConns is how many keep-alive connections a stub client opens at
// most, and how many goroutines dispatchJobs dispatches from: each open
// connection holds three goroutines (the client's read and write loops,
// the server's conn.serve), so the goroutines the stub's traffic holds are
// bounded by 3*stubConns, however many jobs are dispatched.
const stubConns = 4

// stubAPI is a stand-in for SharpAPI on loopback, and the transport of
// the clients that dispatch to it.
type stubAPI struct {
	srv *httptest.Server
	tr  *http.Transport
}

// newStubAPI starts a stubAPI. Every POST is answered as SharpAPI answers
// a dispatch (202, a status_url and a fresh job_id shaped like its UUIDs:
// jobID(1), jobID(2), ...; Retry-After, SharpAPI-Job-Id, X-RateLimit-* and
// SharpAPI-Cost headers), so that a Job holds what it holds in production;
// every status GET answers "pending". The transport opens at most
// stubConns connections and keeps them all idle between dispatches. It is
// closed when tb ends.
func newStubAPI(tb testing.TB) *stubAPI {
	var n atomic.Int64
	s := &stubAPI{tr: &http.Transport{MaxConnsPerHost: stubConns, MaxIdleConnsPerHost: stubConns, DisableCompression: true}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Retry-After", "10")
		h.Set("X-RateLimit-Limit", "60")
		h.Set("X-RateLimit-Remaining", "59")
		if r.Method == http.MethodPost {
			id := jobID(int(n.Add(1)))
			h.Set("X-RateLimit-Reset", "1767225600")
			h.Set("SharpAPI-Job-Id", id)
			h.Set("SharpAPI-Cost", "0.0010")
			w.WriteHeader(http.StatusAccepted)
			// PHP's JSON, as SharpAPI sends it: "/" escaped.
			statusURL := strings.ReplaceAll(s.srv.URL+r.URL.Path+"/job/status/"+id, "/", `\/`)
			w.Write([]byte(`{"status_url":"` + statusURL + `","job_id":"` + id + `"}`))
			return
		}
		id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		w.Write([]byte(`{"data":{"type":"api_job","id":` + strconv.Quote(id) + `,"attributes":{"status":"pending","type":"content_translate"}}}`))
	}))
	tb.Cleanup(s.close)
	return s
}

// close closes the stub's connections and the stub; the goroutines that
// served them end soon after.
func (s *stubAPI) close() {
	s.tr.CloseIdleConnections()
	s.srv.Close()
}

// client returns a client of the stub whose jobs await their webhook
// through h: every dispatch asks for a webhook, the grace period is an
// hour (so no poll completes a job in a benchmark), and there is no rate
// limiter.
func (s *stubAPI) client(tb testing.TB, h *sharpapi.WebhookHandler) *sharpapi.Client {
	c, err := sharpapi.NewClient("stub-key", sharpapi.WithBaseURL(s.srv.URL), sharpapi.WithHTTPClient(&http.Client{Transport: s.tr}),
		sharpapi.WithWebhookHandler(h), sharpapi.WithWebhook("http://127.0.0.1:1/hooks/sharpapi"),
		sharpapi.WithWebhookGrace(time.Hour), sharpapi.WithoutRateLimiter())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// translateParams is what every stub dispatch sends.
var translateParams = sharpapi.TranslateParams{Content: "hello world", Language: "Italian"}

// dispatchJobs dispatches len(jobs) translations through c, from stubConns
// goroutines, into jobs.
func dispatchJobs(tb testing.TB, c *sharpapi.Client, jobs []*sharpapi.Job[sharpapi.TranslateResult]) {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for range stubConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				job, err := c.Translate(context.Background(), translateParams)
				if err != nil {
					errOnce.Do(func() { first = err })
					return
				}
				jobs[i] = job
			}
		}()
	}
	wg.Wait()
	if first != nil {
		tb.Fatal(first)
	}
}

// deliveriesFor returns a signed webhook of size bytes for each job.
func deliveriesFor(jobs []*sharpapi.Job[sharpapi.TranslateResult], size int) []delivery {
	ds := make([]delivery, len(jobs))
	for i, job := range jobs {
		body := webhookBody(job.ID(), size)
		ds[i] = delivery{id: job.ID(), sig: sharpapi.SignWebhook(body, secret), body: body}
	}
	return ds
}

// waitForWaiting returns once h has n jobs awaited: the goroutines that
// call Job.Wait register in their own time. It fails after a minute
// instead of hanging.
func waitForWaiting(tb testing.TB, h *sharpapi.WebhookHandler, n int) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for h.Stats().Waiting < n {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d jobs awaited after a minute", h.Stats().Waiting, n)
		}
		runtime.Gosched()
	}
}
