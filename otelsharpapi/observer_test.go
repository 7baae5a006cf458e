package otelsharpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/observe"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

const translate = "sharpapi.job.type=content_translate"

// server is the emulator's "server.address=...,server.port=..." attributes.
func server(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return "server.address=" + u.Hostname() + ",server.port=" + u.Port()
}

// TestJobCompletedByWebhook: a job whose webhook comes is one span with
// its dispatch POST as a child and no poll, linked to the delivery's span,
// and its metrics say so.
func TestJobCompletedByWebhook(t *testing.T) {
	r := newRig(t, time.Hour, nil)
	ctx := context.Background()
	job, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	r.awaitAnswers(t, 1)

	js := jobSpan(t, r.sr, job.ID())
	if js.Name() != "sharpapi.job content_translate" || js.SpanKind() != trace.SpanKindInternal {
		t.Errorf("job span %q kind %v", js.Name(), js.SpanKind())
	}
	want := map[string]string{
		"sharpapi.job.id": job.ID(), "sharpapi.job.type": "content_translate", "sharpapi.job.webhook": "true",
		"sharpapi.job.outcome": "success", "sharpapi.job.completed_via": "webhook", "sharpapi.job.polls": "0",
	}
	if diff := cmp.Diff(want, attrs(js)); diff != "" {
		t.Errorf("job span attributes (-want +got):\n%s", diff)
	}
	if js.Status().Code != codes.Unset {
		t.Errorf("job span status %v", js.Status())
	}
	if diff := cmp.Diff([]string{"sharpapi.webhook.received"}, events(js)); diff != "" {
		t.Errorf("job span events (-want +got):\n%s", diff)
	}
	kids := children(r.sr, js)
	if len(kids["POST"]) != 1 || len(kids) != 1 {
		t.Fatalf("job span's children: %v; want one POST", kids)
	}
	post := attrs(kids["POST"][0])
	if post["http.response.status_code"] != "202" || post["url.full"] != r.emu.URL+"/content/translate" ||
		post["sharpapi.request.kind"] != "dispatch" || post["url.template"] != "/api/v1/content/translate" {
		t.Errorf("POST span attributes: %v", post)
	}
	if n := len(spans(r.sr, "GET")); n != 0 {
		t.Errorf("%d GET spans; a job completed by its webhook is never polled", n)
	}
	ds := spans(r.sr, "sharpapi.webhook")
	if len(ds) != 1 {
		t.Fatalf("%d delivery spans, want 1", len(ds))
	}
	first := arrival(t, ds[0])
	if got := attrs(ds[0]); got["sharpapi.job.id"] != job.ID() ||
		got["http.response.status_code"] != "200" || ds[0].SpanKind() != trace.SpanKindConsumer {
		t.Errorf("delivery span %v: %v", ds[0].SpanKind(), got)
	}
	if !linksTo(js, ds[0].SpanContext()) {
		t.Errorf("the job span has no link to its delivery's span; links: %v", js.Links())
	}

	wantMetrics := map[string]map[string]point{
		"sharpapi.job.duration":       {"sharpapi.job.completed_via=webhook,sharpapi.job.outcome=success," + translate: {Count: 1}},
		"sharpapi.job.pending":        {translate: {Value: 0}},
		"sharpapi.job.polls":          {"sharpapi.job.completed_via=webhook,sharpapi.job.outcome=success," + translate: {Count: 1, Sum: 0}},
		"sharpapi.webhook.deliveries": {"http.response.status_code=200,sharpapi.webhook.outcome=" + first: {Value: 1}},
		"http.client.request.duration": {
			"http.request.method=POST,http.response.status_code=202," + server(t, r.emu.URL) + ",sharpapi.request.kind=dispatch": {Count: 1},
		},
	}
	if diff := cmp.Diff(wantMetrics, r.metrics(t)); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// arrival is the outcome of a job's first delivery: "delivered" to its
// await, or "buffered" when the webhook came before the await began (the
// job took a millisecond; the emulator may deliver before Translate has
// returned to the test). Either completes the job by its webhook.
func arrival(t *testing.T, delivery sdktrace.ReadOnlySpan) string {
	t.Helper()
	o := attrs(delivery)["sharpapi.webhook.outcome"]
	if o != "delivered" && o != "buffered" {
		t.Fatalf("first delivery's outcome %q, want delivered or buffered", o)
	}
	return o
}

// TestJobCompletedByPolling: a lost webhook; after the grace period the job
// is polled, each poll a child span, and completed by the poll.
func TestJobCompletedByPolling(t *testing.T) {
	r := newRig(t, time.Millisecond, nil, sharpapitest.WithDropNext(1))
	ctx := context.Background()
	job, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	info, _ := r.emu.Job(job.ID())
	polls := info.Polls
	if polls == 0 {
		t.Fatal("the emulator saw no poll")
	}
	js := jobSpan(t, r.sr, job.ID())
	a := attrs(js)
	if a["sharpapi.job.completed_via"] != "poll" || a["sharpapi.job.polls"] != strconv.Itoa(polls) || a["sharpapi.job.outcome"] != "success" {
		t.Errorf("job span attributes %v; want completed_via poll, %d polls", a, polls)
	}
	if diff := cmp.Diff([]string{"sharpapi.webhook.grace_expired"}, events(js)); diff != "" {
		t.Errorf("job span events (-want +got):\n%s", diff)
	}
	kids := children(r.sr, js)
	if len(kids["POST"]) != 1 || len(kids["GET"]) != polls {
		t.Fatalf("job span's children: %d POST, %d GET; want 1 and %d", len(kids["POST"]), len(kids["GET"]), polls)
	}
	for _, g := range kids["GET"] {
		if ga := attrs(g); ga["sharpapi.request.kind"] != "poll" || ga["url.template"] != "/api/v1/content/translate/job/status/{id}" ||
			ga["sharpapi.job.id"] != job.ID() {
			t.Errorf("poll span attributes %v", ga)
		}
	}
	m := r.metrics(t)
	wantPolls := map[string]point{"sharpapi.job.completed_via=poll,sharpapi.job.outcome=success," + translate: {Count: 1, Sum: int64(polls)}}
	if diff := cmp.Diff(wantPolls, m["sharpapi.job.polls"]); diff != "" {
		t.Errorf("sharpapi.job.polls (-want +got):\n%s", diff)
	}
	wantHTTP := map[string]point{
		"http.request.method=POST,http.response.status_code=202," + server(t, r.emu.URL) + ",sharpapi.request.kind=dispatch": {Count: 1},
		"http.request.method=GET,http.response.status_code=200," + server(t, r.emu.URL) + ",sharpapi.request.kind=poll":      {Count: uint64(polls)},
	}
	if diff := cmp.Diff(wantHTTP, m["http.client.request.duration"]); diff != "" {
		t.Errorf("http.client.request.duration (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]point{translate: {Value: 0}}, m["sharpapi.job.pending"]); diff != "" {
		t.Errorf("sharpapi.job.pending (-want +got):\n%s", diff)
	}
}

// TestFailedJob: a job SharpAPI fails ends its span in error, with no
// word of SharpAPI's result for it.
func TestFailedJob(t *testing.T) {
	r := newRig(t, time.Hour, nil, sharpapitest.WithFailJobTypes("content_translate"))
	ctx := context.Background()
	job, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(ctx); !errors.Is(err, sharpapi.ErrJobFailed) {
		t.Fatalf("Wait = %v, want ErrJobFailed", err)
	}
	js := jobSpan(t, r.sr, job.ID())
	want := sdktrace.Status{Code: codes.Error, Description: "sharpapi: job " + job.ID() + " failed"}
	if diff := cmp.Diff(want, js.Status()); diff != "" {
		t.Errorf("job span status (-want +got):\n%s", diff)
	}
	if a := attrs(js); a["sharpapi.job.outcome"] != "failed" || a["error.type"] != "job_failed" || a["sharpapi.job.completed_via"] != "webhook" {
		t.Errorf("job span attributes %v", a)
	}
	wantDur := map[string]point{"error.type=job_failed,sharpapi.job.completed_via=webhook,sharpapi.job.outcome=failed," + translate: {Count: 1}}
	if diff := cmp.Diff(wantDur, r.metrics(t)["sharpapi.job.duration"]); diff != "" {
		t.Errorf("sharpapi.job.duration (-want +got):\n%s", diff)
	}
}

// TestCancelledWait: an await whose context ends ends the job's span with
// outcome cancelled and no error status; awaiting the job again starts a
// new span, marked resumed.
func TestCancelledWait(t *testing.T) {
	r := newRig(t, time.Hour, nil, sharpapitest.WithDropNext(1))
	job, err := r.client.Translate(context.Background(), italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := job.WaitAsync(ctx)
	cancel()
	if o := <-ch; !errors.Is(o.Err, context.Canceled) {
		t.Fatalf("WaitAsync = %v, want context.Canceled", o.Err)
	}
	// Awaited again, under a context already ended: a second span.
	if _, err := job.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
	var got []map[string]string
	for _, s := range r.sr.Ended() {
		if a := attrs(s); a["sharpapi.job.id"] == job.ID() && s.Name() == "sharpapi.job content_translate" {
			if s.Status().Code != codes.Unset {
				t.Errorf("cancelled job span status %v, want unset", s.Status())
			}
			got = append(got, a)
		}
	}
	want := []map[string]string{
		{"sharpapi.job.id": job.ID(), "sharpapi.job.type": "content_translate", "sharpapi.job.webhook": "true",
			"sharpapi.job.outcome": "cancelled", "sharpapi.job.polls": "0"},
		{"sharpapi.job.id": job.ID(), "sharpapi.job.type": "content_translate", "sharpapi.job.webhook": "true",
			"sharpapi.job.resumed": "true", "sharpapi.job.outcome": "cancelled", "sharpapi.job.polls": "0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("job spans (-want +got):\n%s", diff)
	}
	m := r.metrics(t)
	if diff := cmp.Diff(map[string]point{"sharpapi.job.outcome=cancelled," + translate: {Count: 2}}, m["sharpapi.job.duration"]); diff != "" {
		t.Errorf("sharpapi.job.duration (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]point{translate: {Value: 0}}, m["sharpapi.job.pending"]); diff != "" {
		t.Errorf("sharpapi.job.pending (-want +got):\n%s", diff)
	}
}

// TestRateLimitPause: a 429 on the dispatch pauses the client; the retry
// waits in the limiter (an event on the job's span), goes as a resend, and
// the 429 and the wait are counted.
func TestRateLimitPause(t *testing.T) {
	tel := newTelemetry(t)
	emu, err := sharpapitest.NewEmulator(sharpapitest.WithAPIKey(testKey), sharpapitest.WithJobDuration(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	first := true
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if first { // one request at a time: the client's limiter lets one go first
			first = false
			// Long enough that the retry, sent at once, meets the pause.
			w.Header().Set("Retry-After", "0.5")
			http.Error(w, `{"message":"Too Many Attempts."}`, http.StatusTooManyRequests)
			return
		}
		emu.ServeHTTP(w, req)
	}))
	t.Cleanup(front.Close)
	c, err := sharpapi.NewClient(testKey, sharpapi.WithObserver(tel.obs), sharpapi.WithBaseURL(front.URL+"/api/v1"),
		sharpapi.WithRetryWait(time.Millisecond, time.Second), sharpapi.WithPollInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.Translate(context.Background(), italian)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	js := jobSpan(t, tel.sr, job.ID())
	var hold []map[string]string
	for _, e := range js.Events() {
		if e.Name == "sharpapi.limiter.hold" {
			a := map[string]string{}
			for _, kv := range e.Attributes {
				if kv.Key != "sharpapi.limiter.wait" {
					a[string(kv.Key)] = kv.Value.Emit()
				}
			}
			hold = append(hold, a)
		}
	}
	wantHold := []map[string]string{{"sharpapi.request.kind": "dispatch", "sharpapi.limiter.reason": "paused_429", "sharpapi.limiter.gave_up": "false"}}
	if diff := cmp.Diff(wantHold, hold); diff != "" {
		t.Errorf("limiter events on the job span (-want +got):\n%s", diff)
	}
	posts := children(tel.sr, js)["POST"]
	if len(posts) != 2 {
		t.Fatalf("%d POST spans, want 2", len(posts))
	}
	if a0, a1 := attrs(posts[0]), attrs(posts[1]); a0["http.response.status_code"] != "429" || a0["error.type"] != "429" ||
		posts[0].Status().Code != codes.Error || a1["http.response.status_code"] != "202" || a1["http.request.resend_count"] != "1" {
		t.Errorf("POST spans: %v (%v), then %v", a0, posts[0].Status(), a1)
	}
	m := tel.metrics(t)
	if diff := cmp.Diff(map[string]point{"sharpapi.request.kind=dispatch": {Value: 1}}, m["sharpapi.client.rate_limited_responses"]); diff != "" {
		t.Errorf("sharpapi.client.rate_limited_responses (-want +got):\n%s", diff)
	}
	wantWait := map[string]point{"sharpapi.limiter.gave_up=false,sharpapi.limiter.reason=paused_429,sharpapi.request.kind=dispatch": {Count: 1}}
	if diff := cmp.Diff(wantWait, m["sharpapi.limiter.wait.duration"]); diff != "" {
		t.Errorf("sharpapi.limiter.wait.duration (-want +got):\n%s", diff)
	}
}

// TestRejectedSignature: a delivery with a wrong signature is a span in
// error, counted by outcome; nothing of the signature is recorded.
func TestRejectedSignature(t *testing.T) {
	tel := newTelemetry(t)
	h, err := sharpapi.NewWebhookHandler(testSecret, sharpapi.WithObserver(tel.obs))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	body := []byte(`{"id":"5de4887a-0dfd-49b6-8edb-9280e468c210","status":"success","type":"content_translate"}`)
	sig := sharpapi.SignWebhook(body, "not-the-secret")
	req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
	req.Header.Set(sharpapi.WebhookSignatureHeader, sig)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("answered %d, want 401", rec.Code)
	}
	ds := spans(tel.sr, "sharpapi.webhook")
	if len(ds) != 1 {
		t.Fatalf("%d delivery spans, want 1", len(ds))
	}
	want := map[string]string{
		"http.request.method": "POST", "url.path": "/hooks/sharpapi", "http.response.status_code": "401",
		"sharpapi.webhook.outcome": "rejected_signature", "error.type": "rejected_signature",
	}
	if diff := cmp.Diff(want, attrs(ds[0])); diff != "" {
		t.Errorf("delivery span attributes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sdktrace.Status{Code: codes.Error, Description: "rejected_signature"}, ds[0].Status()); diff != "" {
		t.Errorf("delivery span status (-want +got):\n%s", diff)
	}
	wantM := map[string]point{"http.response.status_code=401,sharpapi.webhook.outcome=rejected_signature": {Value: 1}}
	if diff := cmp.Diff(wantM, tel.metrics(t)["sharpapi.webhook.deliveries"]); diff != "" {
		t.Errorf("sharpapi.webhook.deliveries (-want +got):\n%s", diff)
	}
}

// TestDuplicateDelivery: SharpAPI's retry of a delivery is a span of its
// own, outcome duplicate; the job links to the first delivery only.
func TestDuplicateDelivery(t *testing.T) {
	r := newRig(t, time.Hour, nil, sharpapitest.WithDuplicates(2))
	ctx := context.Background()
	job, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{200, 200}, r.awaitAnswers(t, 2)); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	ds := spans(r.sr, "sharpapi.webhook")
	var outcomes []string
	for _, d := range ds {
		outcomes = append(outcomes, attrs(d)["sharpapi.webhook.outcome"])
	}
	first := arrival(t, ds[0])
	if diff := cmp.Diff([]string{first, "duplicate"}, outcomes); diff != "" {
		t.Errorf("delivery outcomes (-want +got):\n%s", diff)
	}
	js := jobSpan(t, r.sr, job.ID())
	if len(js.Links()) != 1 || !linksTo(js, ds[0].SpanContext()) {
		t.Errorf("job span links %v; want one, to the first delivery", js.Links())
	}
	want := map[string]point{
		"http.response.status_code=200,sharpapi.webhook.outcome=" + first:  {Value: 1},
		"http.response.status_code=200,sharpapi.webhook.outcome=duplicate": {Value: 1},
	}
	if diff := cmp.Diff(want, r.metrics(t)["sharpapi.webhook.deliveries"]); diff != "" {
		t.Errorf("sharpapi.webhook.deliveries (-want +got):\n%s", diff)
	}
}

// TestJobSpanIsAChildOfTheCallersSpan: the job span's parent is the span
// in the dispatch's context.
func TestJobSpanIsAChildOfTheCallersSpan(t *testing.T) {
	r := newRig(t, time.Hour, nil)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.sr))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "handle order")
	job, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	parent.End()
	js := jobSpan(t, r.sr, job.ID())
	if js.Parent().SpanID() != parent.SpanContext().SpanID() || js.Parent().TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("job span's parent %v, want the caller's span %v", js.Parent(), parent.SpanContext())
	}
}

// TestGenAIAttributesAreOptIn: gen_ai.* attributes only with the option.
func TestGenAIAttributesAreOptIn(t *testing.T) {
	for _, on := range []bool{false, true} {
		var opts []Option
		if on {
			opts = append(opts, WithGenAIAttributes())
		}
		tel := newTelemetry(t, opts...)
		_, o := tel.obs.Observer().StartJob(context.Background(), observe.JobStart{ID: "job-1", Type: "content_translate"})
		o.End(observe.JobEnd{ID: "job-1", Outcome: observe.JobSucceeded})
		a := attrs(tel.sr.Ended()[0])
		got := []string{a["gen_ai.provider.name"], a["gen_ai.operation.name"]}
		want := []string{"", ""}
		if on {
			want = []string{"sharpapi", "content_translate"}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("WithGenAIAttributes %v: gen_ai attributes (-want +got):\n%s", on, diff)
		}
	}
}
