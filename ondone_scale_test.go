package sharpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// stubConns bounds the connections of TestOnDoneHoldsNoGoroutines's
// client: each open one holds three goroutines (the transport's read and
// write loops, the server's conn.serve).
const stubConns = 2

// TestOnDoneHoldsNoGoroutines dispatches many jobs (2 000, or
// SHARPAPI_ONDONE_JOBS) and awaits each with OnDone: while they are all
// pending, the process holds no more goroutines than before the test plus
// the stub API's server and its idle connections, however many jobs there
// are. Then every webhook is delivered: each callback runs exactly once
// with its job's result, and the goroutines return to the baseline.
func TestOnDoneHoldsNoGoroutines(t *testing.T) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("SHARPAPI_ONDONE_JOBS")); err == nil && v > 0 {
		n = v
	}
	before := runtime.NumGoroutine()

	var seq atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost {
			http.Error(w, "no poll is expected", http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"job_id":"6f1c2d3e-0000-4000-8000-%012d"}`, seq.Add(1))
	}))
	hooks, err := sharpapi.NewWebhookHandler(hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxConnsPerHost: stubConns, MaxIdleConnsPerHost: stubConns}
	client, err := sharpapi.NewClient("test-key", sharpapi.WithBaseURL(api.URL),
		sharpapi.WithHTTPClient(&http.Client{Transport: tr}),
		sharpapi.WithWebhookHandler(hooks), sharpapi.WithWebhook("https://app.example/hooks/sharpapi"),
		sharpapi.WithWebhookGrace(time.Hour), sharpapi.WithoutRateLimiter())
	if err != nil {
		t.Fatal(err)
	}

	jobs := make([]*sharpapi.Job[sharpapi.TranslateResult], n)
	var wg sync.WaitGroup
	errs := make(chan error, stubConns)
	for w := range stubConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += stubConns {
				job, err := client.Translate(context.Background(), italian)
				if err != nil {
					errs <- err
					return
				}
				jobs[i] = job
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}

	calls := make([]atomic.Int32, n)
	results := make([]sharpapi.TranslateResult, n)
	callErrs := make([]error, n)
	var called sync.WaitGroup
	called.Add(n)
	for i, job := range jobs {
		job.OnDone(context.Background(), func(res sharpapi.TranslateResult, err error) {
			if calls[i].Add(1) == 1 {
				results[i], callErrs[i] = res, err
				called.Done()
			}
		})
	}
	if st := hooks.Stats(); st.Waiting != n {
		t.Fatalf("the handler awaits %d jobs, want %d", st.Waiting, n)
	}
	// The stub's server loop and its idle connections are all the
	// goroutines there may be.
	if held, most := runtime.NumGoroutine()-before, 1+3*stubConns; held > most {
		t.Errorf("%d jobs pending with OnDone hold %d goroutines over the baseline, want at most %d (the stub API's)", n, held, most)
	}

	raw, _ := sharpapitest.ExampleResult(string(sharpapi.JobTypeContentTranslate))
	for _, job := range jobs {
		body := []byte(`{"id":"` + job.ID() + `","status":"success","type":"content_translate","result":` + string(raw) + `}`)
		req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
		req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapi.SignWebhook(body, hookSecret))
		rec := httptest.NewRecorder()
		hooks.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("delivery of job %s answered %d", job.ID(), rec.Code)
		}
	}
	done := make(chan struct{})
	go func() {
		called.Wait()
		close(done)
	}()
	within(t, done)

	tr.CloseIdleConnections()
	api.Close()
	if err := hooks.Close(); err != nil {
		t.Fatal(err)
	}
	// The callbacks' goroutines and the stub's end on their own.
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
	var want sharpapi.TranslateResult
	if err := (sharpapi.WebhookEvent{Result: raw}).Decode(&want); err != nil {
		t.Fatal(err)
	}
	var wrong []string
	for i := range jobs {
		if c := calls[i].Load(); c != 1 || callErrs[i] != nil || !cmp.Equal(want, results[i]) {
			wrong = append(wrong, fmt.Sprintf("job %s: %d calls, %v", jobs[i].ID(), c, callErrs[i]))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%d of %d callbacks wrong, e.g. %s", len(wrong), n, strings.Join(wrong[:min(len(wrong), 3)], "; "))
	}
	if st := hooks.Stats(); st.Delivered != uint64(n) {
		t.Errorf("the handler delivered %d events, want %d", st.Delivered, n)
	}
}
