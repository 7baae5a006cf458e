package otelsharpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/observe"
	"github.com/sharpapi-go/sharpapi/otelsharpapi/internal/oteltest"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestOnEventSpanWithoutLedger: without a ledger, each OnEvent run is a
// sharpapi.on_event span, the child of the delivery that brought its
// event, with its outcome (ok; failed, with error.type, for an error or a
// panic) and no lease attributes; the context OnEvent gets carries the
// span.
func TestOnEventSpanWithoutLedger(t *testing.T) {
	sdk := oteltest.New(t)
	ended := oteltest.Ended(sdk.TP, "sharpapi.on_event")
	obs := New(WithTracerProvider(sdk.TP), WithMeterProvider(sdk.MP))
	const (
		idOK    = "11111111-0dfd-49b6-8edb-9280e468c210"
		idErr   = "22222222-0dfd-49b6-8edb-9280e468c210"
		idPanic = "33333333-0dfd-49b6-8edb-9280e468c210"
	)
	inHook := make(chan trace.SpanContext, 3)
	h, err := sharpapi.NewWebhookHandler(testSecret, sharpapi.WithObserver(obs),
		sharpapi.OnEvent(func(ctx context.Context, ev sharpapi.WebhookEvent) error {
			inHook <- trace.SpanContextFromContext(ctx)
			switch ev.ID {
			case idErr:
				return errors.New("the database is down")
			case idPanic:
				panic("OnEvent's bug")
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	for _, id := range []string{idOK, idErr, idPanic} {
		body := []byte(`{"id":"` + id + `","status":"success","type":"content_translate","result":{}}`)
		req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
		req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapi.SignWebhook(body, testSecret))
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	runs := oteltest.AwaitEnded(t, ended, 3)
	hookCtx := map[trace.SpanID]bool{}
	for range 3 {
		hookCtx[(<-inHook).SpanID()] = true
	}
	deliveries := map[string]sdktrace.ReadOnlySpan{}
	for _, d := range spans(sdk.SR, "sharpapi.webhook") {
		deliveries[attrs(d)["sharpapi.job.id"]] = d
	}
	type run struct {
		Outcome, ErrorType, Runs string
		Error, ChildOfDelivery   bool
		CtxCarriesIt             bool
	}
	got := map[string]run{}
	for _, s := range runs {
		at := attrs(s)
		d := deliveries[at["sharpapi.job.id"]]
		got[at["sharpapi.job.id"]] = run{Outcome: at["sharpapi.hook.outcome"], ErrorType: at["error.type"], Runs: at["sharpapi.hook.runs"],
			Error:           s.Status().Code == codes.Error,
			ChildOfDelivery: d != nil && s.Parent().SpanID() == d.SpanContext().SpanID() && s.SpanContext().TraceID() == d.SpanContext().TraceID(),
			CtxCarriesIt:    hookCtx[s.SpanContext().SpanID()]}
		if at["sharpapi.job.type"] != "content_translate" || at["sharpapi.job.status"] != "success" {
			t.Errorf("on_event span attributes %v", at)
		}
	}
	want := map[string]run{
		idOK:    {Outcome: "ok", ChildOfDelivery: true, CtxCarriesIt: true},
		idErr:   {Outcome: "failed", ErrorType: "_OTHER", Error: true, ChildOfDelivery: true, CtxCarriesIt: true},
		idPanic: {Outcome: "failed", ErrorType: "panic", Error: true, ChildOfDelivery: true, CtxCarriesIt: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OnEvent runs (-want +got):\n%s", diff)
	}
}

// TestLedgerRecordSpan: StartLedgerRecord starts sharpapi.ledger.record,
// a child of the job's span that the LedgerRecorded note ends with its
// result; a failed record is an Error, with error.type, and puts
// sharpapi.ledger.record_failed on the job's span. A note whose context
// holds no record span (a core that does not call StartLedgerRecord)
// still puts the event on the job's span.
func TestLedgerRecordSpan(t *testing.T) {
	tel := newTelemetry(t)
	p := tel.obs.Observer()
	ctx, jo := p.StartJob(context.Background(), observe.JobStart{Type: "content_translate", Webhook: true})
	rec := p.(observe.LedgerRecordObserver)
	led := p.(observe.LedgerObserver)
	led.LedgerNoted(rec.StartLedgerRecord(ctx, "j1"), observe.LedgerNote{Kind: observe.LedgerRecorded, JobID: "j1"})
	down := errors.New("redis: connection refused")
	led.LedgerNoted(rec.StartLedgerRecord(ctx, "j1"), observe.LedgerNote{Kind: observe.LedgerRecorded, JobID: "j1", Err: down})
	led.LedgerNoted(ctx, observe.LedgerNote{Kind: observe.LedgerRecorded, JobID: "j1", Err: down})
	jo.End(observe.JobEnd{ID: "j1", Type: "content_translate", Outcome: observe.JobCancelled})
	job := jobSpan(t, tel.sr, "j1")
	type record struct {
		Result, ErrorType string
		Error, Child      bool
	}
	var got []record
	for _, s := range spans(tel.sr, "sharpapi.ledger.record") {
		at := attrs(s)
		got = append(got, record{Result: at["sharpapi.ledger.result"], ErrorType: at["error.type"], Error: s.Status().Code == codes.Error,
			Child: s.Parent().SpanID() == job.SpanContext().SpanID() && at["sharpapi.job.id"] == "j1"})
	}
	want := []record{{Result: "ok", Child: true}, {Result: "error", ErrorType: "_OTHER", Error: true, Child: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record spans (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"sharpapi.ledger.record_failed", "sharpapi.ledger.record_failed"}, events(job)); diff != "" {
		t.Errorf("job span's events (-want +got):\n%s", diff)
	}
}

// TestClaimSpanLinksOnlyAValidToken: a sweeper's sharpapi.ledger.complete
// span is a root that links to the job's span when the token from the
// ledger is a well-formed traceparent, and to nothing otherwise (the
// ledger is in Redis: anything may be there); its end carries what the
// sweeper made of the entry.
func TestClaimSpanLinksOnlyAValidToken(t *testing.T) {
	tel := newTelemetry(t)
	claims := tel.obs.Observer().(observe.ClaimObserver)
	const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	parent, span := tel.obs.tracer.Start(context.Background(), "a sweep")
	defer span.End()
	for _, token := range []string{valid, "", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
		valid + "-extra", strings.Repeat("0", 1<<10)} {
		_, c := claims.StartClaim(parent, observe.ClaimStart{JobID: "j1", JobType: "content_translate", Tries: 2, Trace: token})
		c.End(observe.ClaimEnd{Outcome: observe.ClaimCompleted, Via: observe.JobViaPoll})
	}
	sc, _ := parseTraceparent(valid)
	completes := spans(tel.sr, "sharpapi.ledger.complete")
	if len(completes) != 7 {
		t.Fatalf("%d sharpapi.ledger.complete spans, want 7", len(completes))
	}
	for i, s := range completes {
		at := attrs(s)
		wantLinks := 0
		if i == 0 {
			wantLinks = 1
			if !linksTo(s, sc) || s.Links()[0].Attributes[0].Value.AsString() != "job" {
				t.Errorf("span with a valid token: links %v", s.Links())
			}
		}
		if len(s.Links()) != wantLinks || s.Parent().IsValid() {
			t.Errorf("span %d: %d links, parent %v; want %d, none", i, len(s.Links()), s.Parent(), wantLinks)
		}
		want := map[string]string{"sharpapi.job.id": "j1", "sharpapi.job.type": "content_translate", "sharpapi.ledger.tries": "2",
			"sharpapi.ledger.claim.outcome": "completed", "sharpapi.ledger.completed_via": "poll"}
		if diff := cmp.Diff(want, at); diff != "" {
			t.Errorf("span %d's attributes (-want +got):\n%s", i, diff)
		}
	}
}

// TestOnEventSpanLinksToTheJob: an OnEvent run, the child of its
// delivery, whose hook lease read the job's token from the ledger
// (observe.HookStart.JobTrace) links to the job's span, marked
// sharpapi.link=job; a token that is not a well-formed traceparent is
// dropped. A run that is the child of a span in its ctx (a sweeper's,
// which links to the job, or the job's own) links only to its delivery.
func TestOnEventSpanLinksToTheJob(t *testing.T) {
	tel := newTelemetry(t)
	hooks := tel.obs.Observer().(observe.HookObserver)
	const delivery = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	start := func(parent context.Context, token string) {
		_, run := hooks.StartHook(parent, observe.HookStart{JobID: "j1", JobType: "content_translate", JobStatus: "success",
			Leased: true, Runs: 1, Delivery: delivery, JobTrace: token})
		run.End(observe.HookEnd{Outcome: observe.HookAcked})
	}
	for _, token := range jobTokens {
		start(context.Background(), token)
	}
	checkJobLinks(t, spans(tel.sr, "sharpapi.on_event"), 0)

	tel.sr.Reset()
	sweep, span := tel.obs.tracer.Start(context.Background(), "sharpapi.ledger.complete")
	defer span.End()
	start(sweep, jobTokens[0])
	d, _ := parseTraceparent(delivery)
	if runs := spans(tel.sr, "sharpapi.on_event"); len(runs) != 1 || len(runs[0].Links()) != 1 || !linksTo(runs[0], d) {
		t.Errorf("a sweeper's OnEvent run spans %v; want one, linked to its delivery only", runs)
	}
}
