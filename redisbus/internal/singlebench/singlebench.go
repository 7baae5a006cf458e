// Package singlebench measures a webhook's path from ServeHTTP to the job
// awaiting it, on one replica or, in redisbus's benchmarks and tests,
// across replicas. Jobs are dispatched through the SDK's public path to a
// stand-in for SharpAPI ([StubAPI]) that accepts every dispatch and never
// finishes a job, so that only the webhook a test posts completes it.
package singlebench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// Delivery is a signed 1 KiB webhook for id, carrying the emulator's
// translation result, as a request to serve.
func Delivery(id, secret string) *http.Request {
	raw, _ := sharpapitest.ExampleResult(string(sharpapi.JobTypeContentTranslate))
	body := []byte(`{"id":"` + id + `","status":"success","type":"content_translate","result":` + string(raw) + `}`)
	req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
	req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapitest.Sign(body, secret))
	return req
}

// StubAPI starts a stand-in for SharpAPI on loopback: every dispatch is
// accepted at once with a fresh job id shaped like SharpAPI's UUIDs
// ("00000000-0000-4000-8000-000000000001", ...), so that keys and map
// entries are as long as in production, and every status poll answers
// "pending". It is closed when tb ends.
func StubAPI(tb testing.TB) *httptest.Server {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprintf(w, `{"job_id":"00000000-0000-4000-8000-%012d"}`, n.Add(1))
			return
		}
		id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		fmt.Fprintf(w, `{"data":{"id":%q,"attributes":{"status":"pending","type":"content_translate"}}}`, id)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// Client returns a client of api (a [StubAPI]) whose jobs await their
// webhook through h, with a webhook URL and a grace period of an hour: a
// poll never completes them.
func Client(tb testing.TB, api *httptest.Server, h *sharpapi.WebhookHandler) *sharpapi.Client {
	c, err := sharpapi.NewClient("stub-key", sharpapi.WithBaseURL(api.URL), sharpapi.WithWebhookHandler(h),
		sharpapi.WithWebhook("http://127.0.0.1:1/hooks/sharpapi"), sharpapi.WithWebhookGrace(time.Hour),
		sharpapi.WithoutRateLimiter())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Dispatch dispatches one translation through c.
func Dispatch(tb testing.TB, c *sharpapi.Client) *sharpapi.Job[sharpapi.TranslateResult] {
	job, err := c.Translate(context.Background(), sharpapi.TranslateParams{Content: "turn", Language: "French"})
	if err != nil {
		tb.Fatal(err)
	}
	return job
}

// ArrivalToWaiter times each delivery from entering receiver's ServeHTTP
// until the job awaiting it through owner (a [Client]) has it, one at a
// time, and reports the median and 99th percentile. owner's handler and
// receiver may be the same.
func ArrivalToWaiter(b *testing.B, owner *sharpapi.Client, receiver *sharpapi.WebhookHandler, secret string) {
	ds := make([]time.Duration, 0, b.N)
	for b.Loop() {
		b.StopTimer()
		job := Dispatch(b, owner)
		ch := job.WaitAsync(context.Background())
		req := Delivery(job.ID(), secret)
		rec := httptest.NewRecorder()
		b.StartTimer()
		start := time.Now()
		receiver.ServeHTTP(rec, req)
		out := <-ch
		ds = append(ds, time.Since(start))
		if rec.Code != http.StatusOK || out.Err != nil {
			b.Fatalf("delivery answered %d; the job: %v", rec.Code, out.Err)
		}
	}
	ReportLatencies(b, ds)
}

// ReportLatencies reports the median and 99th percentile of ds, in µs.
func ReportLatencies(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
