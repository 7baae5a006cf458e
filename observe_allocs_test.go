package sharpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// allocsBudget is the most one dispatch and webhook-awaited wait
// (newAllocsCycle) may allocate with no Observer, by Go release. When the
// seam was merged the counts equalled those of its parent commit e6dda51
// (148, 149 and 134): the seam's nil checks cost nothing. Since then
// ResponseMeta stopped copying the response header (3 fewer). Print the
// counts with SHARPAPI_PRINT_ALLOCS=1 go test -v -run
// TestObserverNilPathAllocs; lower a budget when a change saves an
// allocation, never raise it without saying why in the commit.
var allocsBudget = map[string]float64{
	"go1.24": 145, // go1.24.13
	"go1.26": 146, // go1.26.8
	"go1.27": 131, // go1.27.4
}

// TestObserverNilPathAllocs: with no Observer (the default), a job's whole
// cycle allocates no more than its budget, so that neither the seam nor
// anything added later makes the common path dearer unnoticed.
func TestObserverNilPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are measured without the race detector")
	}
	cycle := newAllocsCycle(t)
	got := testing.AllocsPerRun(200, cycle)
	release := goRelease()
	if os.Getenv("SHARPAPI_PRINT_ALLOCS") != "" {
		fmt.Printf("%s: %v allocs per cycle\n", release, got)
	}
	budget, ok := allocsBudget[release]
	if !ok {
		t.Skipf("no budget for %s (measured %v allocs per cycle)", release, got)
	}
	if got > budget {
		t.Errorf("a dispatch and webhook-awaited wait with no Observer allocates %v times, over its budget of %v", got, budget)
	} else if got < budget {
		t.Logf("%v allocations, under the budget of %v: lower allocsBudget[%q]", got, budget, release)
	}
}

// goRelease is the running Go's release, "go1.26" for go1.26.8.
func goRelease() string {
	v := runtime.Version()
	if i := strings.IndexByte(v[len("go1."):], '.'); i >= 0 {
		return v[:len("go1.")+i]
	}
	return v
}

// newAllocsCycle returns one job's cycle, run in the calling goroutine with
// no network: a dispatch answered by an in-memory transport, then a
// WaitAsync completed by a signed webhook handed to the handler's
// ServeHTTP. Only the pre-seam API is used, so that the same code measures
// the commit before the seam.
func newAllocsCycle(t testing.TB) func() {
	const secret = "whsec-allocs"
	h, err := NewWebhookHandler(secret, WithDedup(1, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	n := 0
	stub := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		id := "job-" + strconv.Itoa(n)
		body := `{"status_url":"http://sharpapi.test/api/v1/content/translate/job/status/` + id + `","job_id":"` + id + `"}`
		return &http.Response{StatusCode: http.StatusAccepted, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})
	c, err := NewClient("key", WithBaseURL("http://sharpapi.test/api/v1"), WithHTTPClient(&http.Client{Transport: stub}),
		WithWebhookHandler(h), WithWebhookGrace(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := []RequestOption{WithWebhook("http://app.test/hooks")}
	params := map[string]string{"content": "hello", "language": "Italian"}
	return func() {
		n++
		body, err := jsonBody(params)
		if err != nil {
			t.Fatal(err)
		}
		job, err := dispatch[map[string]any](ctx, c, "/content/translate", JobTypeContentTranslate, body, opts)
		if err != nil {
			t.Fatal(err)
		}
		ch := job.WaitAsync(ctx)
		ev := []byte(`{"id":"` + job.ID() + `","status":"success","type":"content_translate","result":{"content":"ciao"}}`)
		req := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(ev))
		req.Header.Set(WebhookSignatureHeader, SignWebhook(ev, secret))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if o := <-ch; o.Err != nil || rec.Code != http.StatusOK {
			t.Fatalf("cycle: %v, answered %d", o.Err, rec.Code)
		}
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
