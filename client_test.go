package sharpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const pipeKey = "sk-live-DO-NOT-LEAK-0123456789"

// pipeClient returns a client aimed at h with fast retries and polls, and
// the server behind it.
func pipeClient(t *testing.T, h http.Handler, opts ...Option) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base := []Option{
		WithBaseURL(srv.URL + "/api/v1"),
		WithMaxRetries(2),
		WithRetryWait(time.Millisecond, 2*time.Millisecond),
		WithPollInterval(time.Millisecond),
	}
	c, err := NewClient(pipeKey, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// countingTransport counts round trips, including ones that never reach a
// server.
type countingTransport struct {
	n  atomic.Int32
	rt http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

func TestNewClientRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		key  string
		opts []Option
		want error
	}{
		{"empty key", "", nil, ErrNoAPIKey},
		{"blank key", "  ", nil, ErrNoAPIKey},
		{"key with newline", "a\nb", nil, ErrInvalidOption},
		{"relative base URL", "k", []Option{WithBaseURL("/api/v1")}, ErrInvalidOption},
		{"ftp base URL", "k", []Option{WithBaseURL("ftp://x/api")}, ErrInvalidOption},
		{"base URL with credentials", "k", []Option{WithBaseURL("https://u:p@x/api")}, ErrInvalidOption},
		{"nil HTTP client", "k", []Option{WithHTTPClient(nil)}, ErrInvalidOption},
		{"empty user agent", "k", []Option{WithUserAgent("")}, ErrInvalidOption},
		{"negative retries", "k", []Option{WithMaxRetries(-1)}, ErrInvalidOption},
		{"inverted retry wait", "k", []Option{WithRetryWait(time.Second, time.Millisecond)}, ErrInvalidOption},
		{"zero poll interval", "k", []Option{WithPollInterval(0)}, ErrInvalidOption},
		{"zero max poll interval", "k", []Option{WithMaxPollInterval(0)}, ErrInvalidOption},
		{"nil webhooks", "k", []Option{WithWebhookHandler(nil)}, ErrInvalidOption},
		{"zero webhooks", "k", []Option{WithWebhookHandler(&WebhookHandler{})}, ErrInvalidOption},
		{"bad default webhook", "k", []Option{WithWebhook("not a url")}, ErrInvalidOption},
		{"negative grace", "k", []Option{WithWebhookGrace(-time.Second)}, ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.key, tt.opts...)
			if !errors.Is(err, tt.want) || c != nil {
				t.Fatalf("NewClient = %v, %v; want nil, %v", c, err, tt.want)
			}
		})
	}
	// Every bad option is reported, not just the first.
	_, err := NewClient("k", WithMaxRetries(-1), WithPollInterval(0))
	if msg := err.Error(); !strings.Contains(msg, "max retries") || !strings.Contains(msg, "poll interval") {
		t.Errorf("error %q does not report both options", msg)
	}
}

// A handler not built by NewWebhookHandler would refuse every webhook and
// leave its jobs polling, silently: NewClient refuses it, and says how to
// build one.
func TestWithWebhookHandlerRefusesZero(t *testing.T) {
	c, err := NewClient("k", WithWebhookHandler(&WebhookHandler{}))
	if !errors.Is(err, ErrInvalidOption) || c != nil || !strings.Contains(err.Error(), "NewWebhookHandler") {
		t.Fatalf("NewClient = %v, %v; want nil and an ErrInvalidOption that names NewWebhookHandler", c, err)
	}
	h, err := NewWebhookHandler("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := NewClient("k", WithWebhookHandler(h)); err != nil {
		t.Errorf("NewClient with a built handler: %v", err)
	}
}

func TestRequestHeaders(t *testing.T) {
	var got http.Header
	c, _ := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Write([]byte(`{"ping":"pong"}`))
	}))
	var out map[string]any
	if err := c.getJSON(context.Background(), "/ping", nil, &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Authorization": "Bearer " + pipeKey,
		"Accept":        "application/json",
		"User-Agent":    "sharpapi-go/" + Version,
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}

	c2, _ := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Write([]byte(`{}`))
	}), WithUserAgent("affiliate/1.0"))
	if err := c2.getJSON(context.Background(), "/ping", nil, &out); err != nil {
		t.Fatal(err)
	}
	if ua := got.Get("User-Agent"); ua != "affiliate/1.0" {
		t.Errorf("User-Agent = %q, want the override", ua)
	}
}

// TestRetryMatrix pins which failures are retried for a read (GET) and for
// a dispatch (POST), with WithMaxRetries(2): 3 attempts means retried.
func TestRetryMatrix(t *testing.T) {
	type outcome int
	const (
		status outcome = iota
		dropAfterRead
		refused
	)
	tests := []struct {
		name     string
		outcome  outcome
		code     int
		unsafe   bool
		get, pst int32 // attempts for a GET and for a POST
	}{
		{"429", status, 429, false, 3, 3},
		{"500", status, 500, false, 3, 1},
		{"501", status, 501, false, 1, 1},
		{"502", status, 502, false, 3, 1},
		{"503", status, 503, false, 3, 3},
		{"504", status, 504, false, 3, 1},
		{"400", status, 400, false, 1, 1},
		{"422", status, 422, false, 1, 1},
		{"connection dropped after the request was read", dropAfterRead, 0, false, 3, 1},
		{"connection refused", refused, 0, false, 3, 3},
		{"500 with unsafe dispatch retries", status, 500, true, 3, 3},
		{"dropped connection with unsafe dispatch retries", dropAfterRead, 0, true, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if tt.outcome == dropAfterRead {
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return
				}
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(tt.code)
				w.Write([]byte(`{"message":"no"}`))
			})
			ct := &countingTransport{rt: http.DefaultTransport}
			opts := []Option{WithHTTPClient(&http.Client{Transport: ct})}
			if tt.unsafe {
				opts = append(opts, WithUnsafeDispatchRetries())
			}
			c, srv := pipeClient(t, h, opts...)
			if tt.outcome == refused {
				srv.Close() // nothing listens there any more
			}
			ctx := context.Background()
			var out any
			if err := c.getJSON(ctx, "/quota", nil, &out); err == nil {
				t.Fatal("GET succeeded")
			}
			if n := ct.n.Swap(0); n != tt.get {
				t.Errorf("GET attempts = %d, want %d", n, tt.get)
			}
			body, _ := jsonBody(map[string]string{"content": "x"})
			if _, err := dispatch[map[string]any](ctx, c, "/content/translate", JobTypeContentTranslate, body, nil); err == nil {
				t.Fatal("POST succeeded")
			}
			if n := ct.n.Load(); n != tt.pst {
				t.Errorf("POST attempts = %d, want %d", n, tt.pst)
			}
		})
	}
}

func TestRetriedPOSTResendsTheSameBody(t *testing.T) {
	var bodies []string
	c, srv := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if len(bodies) < 3 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"job_id":"j1","status_url":"` + "http://" + r.Host + `/api/v1/content/translate/job/status/j1"}`))
	}))
	_ = srv
	body, _ := jsonBody(map[string]string{"content": "héllo"})
	job, err := dispatch[map[string]any](context.Background(), c, "/content/translate", JobTypeContentTranslate, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if job.ID() != "j1" {
		t.Errorf("job id = %q", job.ID())
	}
	want := []string{`{"content":"héllo"}`, `{"content":"héllo"}`, `{"content":"héllo"}`}
	if diff := cmp.Diff(want, bodies); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
}

func TestBackoff(t *testing.T) {
	min, max := 100*time.Millisecond, 5*time.Second
	resp := func(code int, retryAfter string) *http.Response {
		return &http.Response{StatusCode: code, Header: http.Header{"Retry-After": {retryAfter}}}
	}
	inRange := func(t *testing.T, got, lo, hi time.Duration) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("backoff = %v, want in [%v, %v]", got, lo, hi)
		}
	}
	inRange(t, backoff(min, max, 0, resp(429, "2")), 2*time.Second, 2*time.Second)
	inRange(t, backoff(min, max, 0, resp(503, "1.5")), 1500*time.Millisecond, 1500*time.Millisecond)
	inRange(t, backoff(min, max, 0, resp(429, "999999999")), max, max) // capped
	date := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	inRange(t, backoff(min, max, 0, resp(429, date)), time.Second, 3*time.Second)
	// Garbage and negative values fall back to jittered exponential backoff.
	inRange(t, backoff(min, max, 0, resp(429, "soon")), min/2, min)
	inRange(t, backoff(min, max, 2, resp(429, "-5")), 2*min, 4*min)
	// Retry-After on a 500 is not the server's rate limit: backoff applies.
	inRange(t, backoff(min, max, 1, resp(500, "60")), min, 2*min)
	inRange(t, backoff(min, max, 10, nil), max/2, max)
	inRange(t, backoff(min, max, 200, nil), max/2, max) // no overflow
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"10", 10 * time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"0.25", 250 * time.Millisecond, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"tomorrow", 0, false},
		{"1e300", maxRetryAfter, true},
		{"Fri, 27 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Fri, 27 Nov 2026 11:00:00 GMT", 0, true}, // in the past
		{"Sat, 27 Nov 2100 12:00:00 GMT", maxRetryAfter, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		header   http.Header
		body     string
		sentinel error
		want     *APIError
	}{
		{
			name: "401", code: 401, body: `{"message":"Unauthenticated."}`, sentinel: ErrUnauthorized,
			want: &APIError{StatusCode: 401, Message: "Unauthenticated."},
		},
		{
			name: "402 quota", code: 402, sentinel: ErrQuotaExceeded,
			body: `{"code":"GEN-PAYMENT-REQUIRED","message":"You have exceeded your monthly words quota [100000]. Please login to the dashboard and increase number of credits."}`,
			want: &APIError{StatusCode: 402, Code: "GEN-PAYMENT-REQUIRED",
				Message: "You have exceeded your monthly words quota [100000]. Please login to the dashboard and increase number of credits."},
		},
		{
			name: "422 fields", code: 422, sentinel: ErrValidation,
			body: `{"message":"The content field is required.","errors":{"content":["The content field is required."]}}`,
			want: &APIError{StatusCode: 422, Message: "The content field is required.",
				Errors: map[string][]string{"content": {"The content field is required."}}},
		},
		{
			name: "404 not JSON", code: 404, body: `<html>nope</html>`, sentinel: ErrNotFound,
			want: &APIError{StatusCode: 404},
		},
		{
			name: "500 with error key", code: 500, body: `{"error":"boom"}`,
			want: &APIError{StatusCode: 500, Message: "boom"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.code)
				w.Write([]byte(tt.body))
			}), WithMaxRetries(0))
			var out any
			err := c.getJSON(context.Background(), "/quota", nil, &out)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			for _, other := range []error{ErrUnauthorized, ErrQuotaExceeded, ErrValidation, ErrRateLimited, ErrNotFound} {
				if other != tt.sentinel && errors.Is(err, other) {
					t.Errorf("error also matches %v", other)
				}
			}
			if string(apiErr.Body) != tt.body {
				t.Errorf("Body = %q, want %q", apiErr.Body, tt.body)
			}
			if apiErr.Method != "GET" || !strings.HasSuffix(apiErr.URL, "/api/v1/quota") {
				t.Errorf("request = %s %s", apiErr.Method, apiErr.URL)
			}
			opts := cmpopts.IgnoreFields(APIError{}, "Body", "Header", "Method", "URL")
			if diff := cmp.Diff(tt.want, apiErr, opts); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRateLimitErrorAfterRetries(t *testing.T) {
	var n atomic.Int32
	c, _ := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "7")
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"message":"Too Many Attempts."}`))
	}), WithRetryWait(time.Millisecond, time.Millisecond)) // caps Retry-After: 7
	var out any
	err := c.getJSON(context.Background(), "/quota", nil, &out)
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("error %v is not a *RateLimitError", err)
	}
	if !errors.Is(err, ErrRateLimited) {
		t.Error("not ErrRateLimited")
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Errorf("no *APIError inside: %v", err)
	}
	if rl.RetryAfter != 7*time.Second {
		t.Errorf("RetryAfter = %v, want the uncapped 7s", rl.RetryAfter)
	}
	if want := (RateLimit{Limit: 60}); rl.RateLimit != want {
		t.Errorf("RateLimit = %+v, want %+v", rl.RateLimit, want)
	}
	if n.Load() != 3 {
		t.Errorf("attempts = %d, want 3", n.Load())
	}
	if c.RateLimit().Limit != 60 {
		t.Errorf("client RateLimit = %+v", c.RateLimit())
	}
}

// TestRetrySleepIsCancellable: a 429 asking for an hour must not hold a
// caller whose context ends.
func TestRetrySleepIsCancellable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		cancel()
	}), WithRetryWait(time.Millisecond, 2*time.Hour))
	var out any
	err := c.getJSON(ctx, "/quota", nil, &out)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestSecretsNeverLeak drives every error path with a recognisable API key
// and checks neither errors nor log lines carry it.
func TestSecretsNeverLeak(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var n atomic.Int32
	c, srv := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.WriteHeader(401)
			w.Write([]byte(`{"message":"Unauthenticated."}`))
		case 2:
			w.WriteHeader(500)
		default:
			w.Write([]byte(`not json`))
		}
	}), WithLogger(logger), WithMaxRetries(0))
	var errs []error
	var out any
	for range 3 {
		errs = append(errs, c.getJSON(context.Background(), "/quota", nil, &out))
	}
	srv.Close()
	errs = append(errs, c.getJSON(context.Background(), "/quota", nil, &out))
	_, err := NewClient(pipeKey, WithBaseURL("https://user:"+pipeKey+"@example.com/api"))
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d succeeded", i)
		}
		if strings.Contains(err.Error(), pipeKey) {
			t.Errorf("error %d leaks the key: %v", i, err)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && strings.Contains(apiErr.URL, pipeKey) {
			t.Errorf("APIError.URL leaks the key")
		}
	}
	if logs.Len() == 0 {
		t.Error("logger received nothing; the test proves nothing")
	}
	if strings.Contains(logs.String(), pipeKey) {
		t.Errorf("logs leak the key:\n%s", logs.String())
	}
}

func TestCallerHTTPClientKeepsItsIdleConnections(t *testing.T) {
	tr := &closeCountingTransport{RoundTripper: http.DefaultTransport}
	c, _ := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
	}), WithHTTPClient(&http.Client{Transport: tr}))
	var out any
	if err := c.getJSON(context.Background(), "/quota", nil, &out); err == nil {
		t.Fatal("want an error")
	}
	if tr.closed.Load() != 0 {
		t.Errorf("CloseIdleConnections called %d times on the caller's transport", tr.closed.Load())
	}
}

type closeCountingTransport struct {
	http.RoundTripper
	closed atomic.Int32
}

func (t *closeCountingTransport) CloseIdleConnections() { t.closed.Add(1) }

func TestNeverSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = http.Get("http://" + addr)
	if !neverSent(err) {
		t.Errorf("neverSent(%v) = false for a refused connection", err)
	}
	if neverSent(io.ErrUnexpectedEOF) {
		t.Error("neverSent(EOF) = true")
	}
}
