// Package benchcycle is the job cycle the observation benchmarks time: a
// dispatch answered by an in-memory transport, then an await completed by
// a signed webhook handed to the handler's ServeHTTP, all in the calling
// goroutine. It uses only the API that predates the observation seam, so
// that the same code measures the core before it (see compare.sh).
package benchcycle

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
)

const secret = "whsec-bench"

// New returns one job's cycle with a client and a handler built with the
// given options (an observer, say); it fails tb when a cycle goes wrong.
// Nothing goes over a network: the cost of the SDK and its observer alone.
func New(tb testing.TB, clientOpts []sharpapi.Option, hookOpts []sharpapi.WebhookOption) func() {
	return newCycle(tb, false, clientOpts, hookOpts)
}

// NewLoopback is New over loopback TCP, as a service runs it: the dispatch
// goes to an HTTP server playing SharpAPI, and the webhook is POSTed to an
// HTTP server mounting the handler.
func NewLoopback(tb testing.TB, clientOpts []sharpapi.Option, hookOpts []sharpapi.WebhookOption) func() {
	return newCycle(tb, true, clientOpts, hookOpts)
}

func newCycle(tb testing.TB, loopback bool, clientOpts []sharpapi.Option, hookOpts []sharpapi.WebhookOption) func() {
	h, err := sharpapi.NewWebhookHandler(secret, hookOpts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	n := 0
	stub := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		id := "job-" + strconv.Itoa(n)
		body := `{"status_url":"http://sharpapi.test/api/v1/content/translate/job/status/` + id + `","job_id":"` + id + `"}`
		return &http.Response{StatusCode: http.StatusAccepted, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})
	base, hc := "http://sharpapi.test/api/v1", &http.Client{Transport: stub}
	deliver := func(ev []byte) int {
		req := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(ev))
		req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapi.SignWebhook(ev, secret))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if loopback {
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			resp, _ := stub(r)
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
		}))
		hooks := httptest.NewServer(h)
		tb.Cleanup(api.Close)
		tb.Cleanup(hooks.Close)
		base, hc = api.URL+"/api/v1", api.Client()
		deliver = func(ev []byte) int {
			req, _ := http.NewRequest(http.MethodPost, hooks.URL+"/hooks", bytes.NewReader(ev))
			req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapi.SignWebhook(ev, secret))
			resp, err := hooks.Client().Do(req)
			if err != nil {
				tb.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
	}
	c, err := sharpapi.NewClient("key", append([]sharpapi.Option{
		sharpapi.WithBaseURL(base), sharpapi.WithHTTPClient(hc),
		sharpapi.WithWebhookHandler(h), sharpapi.WithWebhookGrace(time.Hour), sharpapi.WithWebhook("http://app.test/hooks"),
	}, clientOpts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	params := sharpapi.TranslateParams{Content: "hello", Language: "Italian"}
	return func() {
		n++
		job, err := c.Translate(ctx, params)
		if err != nil {
			tb.Fatal(err)
		}
		ch := job.WaitAsync(ctx)
		ev := []byte(`{"id":"` + job.ID() + `","status":"success","type":"content_translate","result":{"content":"ciao"}}`)
		code := deliver(ev)
		if o := <-ch; o.Err != nil || code != http.StatusOK {
			tb.Fatalf("cycle: %v, answered %d", o.Err, code)
		}
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
