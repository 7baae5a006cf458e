package sharpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
)

// TestEveryMethodTakesRequestOptions: every call that sends a request, a
// dispatch or a synchronous call, ends in ...RequestOption.
func TestEveryMethodTakesRequestOptions(t *testing.T) {
	ctxType := reflect.TypeFor[context.Context]()
	optsType := reflect.TypeFor[[]sharpapi.RequestOption]()
	ct := reflect.TypeFor[*sharpapi.Client]()
	n := 0
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		if m.Type.NumIn() < 2 || m.Type.In(1) != ctxType {
			continue
		}
		n++
		last := m.Type.In(m.Type.NumIn() - 1)
		if !m.Type.IsVariadic() || last != optsType {
			t.Errorf("%s%v does not end in ...RequestOption", m.Name, m.Type)
		}
	}
	if n < 30 {
		t.Errorf("only %d methods take a context; the check looked at the wrong type", n)
	}
}

func TestWithHeader(t *testing.T) {
	ctx := t.Context()
	c, emu := emulated(t, nil)
	if _, err := c.Translate(ctx, sharpapi.TranslateParams{Content: "hi", Language: "Italian"},
		sharpapi.WithHeader("x-request-id", "r-1"), sharpapi.WithHeader("X-Request-Id", "r-2")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AirportByIATA(ctx, "LHR", sharpapi.WithHeader("Traceparent", "00-1-2-01")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ping(ctx, sharpapi.WithHeader("X-Probe", "1")); err != nil {
		t.Fatal(err)
	}
	reqs := emu.Requests()
	got := [][]string{reqs[0].Header.Values("X-Request-Id"), reqs[1].Header.Values("Traceparent"), reqs[2].Header.Values("X-Probe")}
	want := [][]string{{"r-1", "r-2"}, {"00-1-2-01"}, {"1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers sent (-want +got):\n%s", diff)
	}
}

func TestWithHeaderRefusesHeadersTheSDKOwns(t *testing.T) {
	ctx := t.Context()
	c, emu := emulated(t, nil)
	for _, h := range [][2]string{
		{"Authorization", "Bearer other"}, {"proxy-authorization", "x"}, {"Host", "evil.example"},
		{"Content-Length", "1"}, {"Transfer-Encoding", "chunked"}, {"Job-Webhook", "https://x.example"},
		{"Connection", "close"}, {"User-Agent", "me"}, {"Content-Type", "text/plain"},
		{"Bad Name", "x"}, {"", "x"}, {"X-Ok", "line\r\nInjected: 1"},
	} {
		_, err := c.Translate(ctx, sharpapi.TranslateParams{Content: "hi", Language: "Italian"}, sharpapi.WithHeader(h[0], h[1]))
		if !errors.Is(err, sharpapi.ErrInvalidOption) {
			t.Errorf("WithHeader(%q): err = %v, want ErrInvalidOption", h[0], err)
		}
		_, err = c.Quota(ctx, sharpapi.WithHeader(h[0], h[1]))
		if !errors.Is(err, sharpapi.ErrInvalidOption) {
			t.Errorf("Quota WithHeader(%q): err = %v, want ErrInvalidOption", h[0], err)
		}
	}
	if n := len(emu.Requests()); n != 0 {
		t.Errorf("%d requests sent with a refused header", n)
	}
}

// TestWithWebhookOnSyncCall: a synchronous call has no webhook; asking for
// one is an error, saying so is not.
func TestWithWebhookOnSyncCall(t *testing.T) {
	ctx := t.Context()
	c, emu := emulated(t, nil)
	_, err := c.ScrapeURL(ctx, "example.com", sharpapi.WithWebhook("https://app.example/hook"))
	if !errors.Is(err, sharpapi.ErrInvalidOption) {
		t.Errorf("ScrapeURL WithWebhook: err = %v, want ErrInvalidOption", err)
	}
	if len(emu.Requests()) != 0 {
		t.Error("the call was sent")
	}
	if _, err := c.ScrapeURL(ctx, "example.com", sharpapi.WithoutWebhook()); err != nil {
		t.Errorf("ScrapeURL WithoutWebhook: %v", err)
	}
}

// TestWithMaxRetriesIsPerRequest: WithMaxRetries(0) fails this call fast on
// a 429; the client's default still governs other calls and the job's polls.
func TestWithMaxRetriesIsPerRequest(t *testing.T) {
	var posts, polls atomic.Int32
	var refuse atomic.Int32 // answers still to refuse
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Add(-1) >= 0 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if r.Method == http.MethodPost {
			posts.Add(1)
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte(`{"status_url":"http://` + r.Host + `/api/v1/job/status/j1","job_id":"j1"}`))
			return
		}
		polls.Add(1)
		w.Write([]byte(`{"data":{"id":"j1","attributes":{"status":"success","type":"content_translate","result":"{\"content\":\"ciao\"}"}}}`))
	}))
	t.Cleanup(srv.Close)
	c, err := sharpapi.NewClient("k", sharpapi.WithBaseURL(srv.URL+"/api/v1"), sharpapi.WithMaxRetries(3),
		sharpapi.WithRetryWait(time.Millisecond, time.Millisecond), sharpapi.WithPollInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	p := sharpapi.TranslateParams{Content: "hi", Language: "Italian"}

	refuse.Store(1)
	if _, err := c.Translate(ctx, p, sharpapi.WithMaxRetries(0)); !errors.Is(err, sharpapi.ErrRateLimited) {
		t.Fatalf("WithMaxRetries(0) on a 429: err = %v, want ErrRateLimited", err)
	}
	refuse.Store(2)
	if _, err := c.Translate(ctx, p, sharpapi.WithMaxRetries(1)); !errors.Is(err, sharpapi.ErrRateLimited) {
		t.Fatalf("WithMaxRetries(1) on two 429s: err = %v, want ErrRateLimited", err)
	}
	refuse.Store(2)
	job, err := c.Translate(ctx, p, sharpapi.WithMaxRetries(2))
	if err != nil {
		t.Fatalf("WithMaxRetries(2) on two 429s: %v", err)
	}
	refuse.Store(3) // the client's WithMaxRetries(3) governs the poll
	if _, err := job.Wait(ctx); err != nil {
		t.Fatalf("Wait after three 429s: %v", err)
	}
	if got := [2]int32{posts.Load(), polls.Load()}; got != [2]int32{1, 1} {
		t.Errorf("posts, polls answered = %v, want [1 1]", got)
	}
	if _, err := c.Translate(ctx, p, sharpapi.WithMaxRetries(-1)); !errors.Is(err, sharpapi.ErrInvalidOption) {
		t.Errorf("WithMaxRetries(-1): err = %v, want ErrInvalidOption", err)
	}
}

// TestWithRequestTimeout: the call ends with the deadline of its own
// option, not the caller's context.
func TestWithRequestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	t.Cleanup(srv.Close)
	c, err := sharpapi.NewClient("k", sharpapi.WithBaseURL(srv.URL+"/api/v1"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Airports(t.Context(), sharpapi.AirportsParams{}, sharpapi.WithRequestTimeout(20*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
	if _, err := c.Ping(t.Context(), sharpapi.WithRequestTimeout(0)); !errors.Is(err, sharpapi.ErrInvalidOption) {
		t.Errorf("WithRequestTimeout(0): err = %v, want ErrInvalidOption", err)
	}
}

// TestRequestOptionsAsClientDefaults: a RequestOption given to NewClient is
// the default of every request, status polls included; the same kind of
// option given to a call overrides it for that call only.
func TestRequestOptionsAsClientDefaults(t *testing.T) {
	ctx := t.Context()
	const hook = "http://127.0.0.1:1/hooks/sharpapi"
	c, emu := emulated(t, nil, sharpapi.WithHeader("X-Tenant", "default"), sharpapi.WithHeader("X-Env", "test"),
		sharpapi.WithWebhook(hook))
	p := sharpapi.TranslateParams{Content: "hi", Language: "Italian"}
	job, err := c.Translate(ctx, p) // the defaults
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(ctx); err != nil { // no handler: the job is polled
		t.Fatal(err)
	}
	if _, err := c.Translate(ctx, p, sharpapi.WithHeader("X-Tenant", "call"), sharpapi.WithoutWebhook()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ping(ctx); err != nil { // a default webhook does not apply to a synchronous call
		t.Fatal(err)
	}
	type sent struct{ Method, Tenant, Env, Webhook string }
	var got []sent
	for _, r := range emu.Requests() {
		got = append(got, sent{r.Method, r.Header.Get("X-Tenant"), r.Header.Get("X-Env"), r.Header.Get("Job-Webhook")})
	}
	got = slices.Compact(got) // a job still running at the first poll is polled again
	want := []sent{
		{"POST", "default", "test", hook},
		{"GET", "default", "test", ""}, // the poll
		{"POST", "call", "test", ""},
		{"GET", "default", "test", ""}, // ping
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// A bad default fails NewClient, as any option does.
	if _, err := sharpapi.NewClient("k", sharpapi.WithHeader("Authorization", "x")); !errors.Is(err, sharpapi.ErrInvalidOption) {
		t.Errorf("NewClient(WithHeader(Authorization)) = %v, want ErrInvalidOption", err)
	}
}
