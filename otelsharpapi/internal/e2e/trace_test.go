package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/otelsharpapi/internal/oteltest"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestLedgerRecordIsASpanOfTheJob: the ledger record inside a dispatch
// is a sharpapi.ledger.record span, a child of the job's span, after
// the dispatch's POST, with its result.
func TestLedgerRecordIsASpanOfTheJob(t *testing.T) {
	addr := startRedis(t)
	emu := newEmulator(t, sharpapitest.WithDropRate(1))
	cfg := fastSweeps()
	cfg.NoSweeper = true
	a := newLedgerReplica(t, addr, "otel-record:", emu.URL, time.Hour, cfg)
	job, err := a.client.Translate(t.Context(), italian, sharpapi.WithWebhook("http://127.0.0.1:1/hooks"))
	if err != nil {
		t.Fatal(err)
	}
	// An await that ends at once ends the job's span (cancelled).
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := job.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v; want context.Canceled", err)
	}
	js := oteltest.JobSpan(t, a.tel.SR, job.ID())
	kids := oteltest.Children(a.tel.SR, js)
	records := kids["sharpapi.ledger.record"]
	if len(records) != 1 || len(kids["POST"]) != 1 {
		t.Fatalf("the job span's children %v; want a POST and a sharpapi.ledger.record", slices.Collect(mapsKeys(kids)))
	}
	r := records[0]
	want := map[string]string{"sharpapi.job.id": job.ID(), "sharpapi.ledger.result": "ok"}
	if diff := cmp.Diff(want, oteltest.Attrs(r)); diff != "" {
		t.Errorf("record span attributes (-want +got):\n%s", diff)
	}
	if r.StartTime().Before(kids["POST"][0].EndTime()) || r.EndTime().After(js.EndTime()) {
		t.Errorf("record span %v–%v; want after the POST (ended %v), within the job", r.StartTime(), r.EndTime(), kids["POST"][0].EndTime())
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestOnEventSpansShowRedelivery: each OnEvent run under the ledger is a
// sharpapi.on_event span with its run number and what became of the
// entry: OnEvent fails (run 1, released), panics (run 2, released,
// error.type panic), then takes the event (run 3, acked). Run 1 is the
// child of the delivery that stored the event; runs 2 and 3, offered
// again by the sweeper from the store, are children of its
// sharpapi.ledger.complete span (completed via store), which links to the
// delivery. OnEvent's context carries its run's span.
func TestOnEventSpansShowRedelivery(t *testing.T) {
	addr := startRedis(t)
	var runs atomic.Int32
	inHook := make(chan trace.SpanContext, 8)
	onEvent := func(ctx context.Context, ev sharpapi.WebhookEvent) error {
		inHook <- trace.SpanContextFromContext(ctx)
		switch runs.Add(1) {
		case 1:
			return errors.New("the database is down")
		case 2:
			panic("OnEvent's bug")
		}
		return nil
	}
	emu := newEmulator(t, sharpapitest.WithJobDuration(0))
	a := newHookedReplica(t, addr, "otel-hook:", emu.URL, time.Hour, fastSweeps(), onEvent)
	ended := oteltest.Ended(a.tel.TP, "sharpapi.on_event")
	recv := httptest.NewServer(a.hooks)
	t.Cleanup(recv.Close)
	job, err := a.client.Translate(t.Context(), italian, sharpapi.WithWebhook(recv.URL+"/hooks"))
	if err != nil {
		t.Fatal(err)
	}
	got := oteltest.AwaitEnded(t, ended, 3)
	hookCtx := map[trace.SpanID]bool{}
	for range 3 {
		hookCtx[(<-inHook).SpanID()] = true
	}
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range a.tel.SR.Ended() {
		byID[s.SpanContext().SpanID()] = s
	}
	var delivery sdktrace.ReadOnlySpan
	for _, d := range oteltest.Spans(a.tel.SR, "sharpapi.webhook") {
		if oteltest.Attrs(d)["sharpapi.webhook.outcome"] == "stored" {
			delivery = d
		}
	}
	if delivery == nil {
		t.Fatal("no delivery span with outcome stored")
	}
	type run struct {
		Runs, Outcome, ErrorType, Parent string
		LinksToDelivery, CtxCarriesIt    bool
	}
	var rs []run
	for _, s := range got {
		at := oteltest.Attrs(s)
		if at["sharpapi.job.id"] != job.ID() {
			t.Errorf("on_event span of job %q, want %q", at["sharpapi.job.id"], job.ID())
		}
		parent := "?"
		if p, ok := byID[s.Parent().SpanID()]; ok {
			parent = p.Name()
			if p.Name() == "sharpapi.ledger.complete" {
				parent += " via " + oteltest.Attrs(p)["sharpapi.ledger.completed_via"]
			}
		}
		rs = append(rs, run{Runs: at["sharpapi.hook.runs"], Outcome: at["sharpapi.hook.outcome"], ErrorType: at["error.type"], Parent: parent,
			LinksToDelivery: oteltest.LinksTo(s, delivery.SpanContext()), CtxCarriesIt: hookCtx[s.SpanContext().SpanID()]})
	}
	want := []run{
		{Runs: "1", Outcome: "released", ErrorType: "_OTHER", Parent: "sharpapi.webhook", CtxCarriesIt: true},
		{Runs: "2", Outcome: "released", ErrorType: "panic", Parent: "sharpapi.ledger.complete via store", LinksToDelivery: true, CtxCarriesIt: true},
		{Runs: "3", Outcome: "acked", Parent: "sharpapi.ledger.complete via store", LinksToDelivery: true, CtxCarriesIt: true},
	}
	if diff := cmp.Diff(want, rs); diff != "" {
		t.Errorf("OnEvent runs (-want +got):\n%s", diff)
	}
}

// TestSweeperJoinsTheJobTrace: replica a dispatches a job whose webhook
// is lost, gives up awaiting it and goes away; replica b's sweeper
// completes it. b's sharpapi.ledger.complete span (completed via poll)
// holds the poll's GET span and the OnEvent run's span (run 1, acked),
// and links to a's job span, named by the token a recorded with the
// job's ledger entry (eventbus.PendingJob.Trace). With
// SHARPAPI_PRINT_TRACE=1 it prints both replicas' traces (the README's).
func TestSweeperJoinsTheJobTrace(t *testing.T) {
	addr := startRedis(t)
	emu := newEmulator(t, sharpapitest.WithJobDuration(0), sharpapitest.WithDropRate(1))
	const prefix = "otel-join:"
	noSweeper := fastSweeps()
	noSweeper.NoSweeper = true
	a := newLedgerReplica(t, addr, prefix, emu.URL, time.Millisecond, noSweeper)

	// The service's request on a: its span is the job's parent.
	ctx, caller := a.tel.TP.Tracer("app").Start(t.Context(), "POST /translations")
	job, err := a.client.Translate(ctx, italian, sharpapi.WithWebhook("http://127.0.0.1:1/hooks"))
	if err != nil {
		t.Fatal(err)
	}
	// a is shutting down: its await ends, and so does a.
	wctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := job.Wait(wctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v; want context.Canceled", err)
	}
	caller.End()
	a.hooks.Close()
	aJob := oteltest.JobSpan(t, a.tel.SR, job.ID())

	var inHook trace.SpanContext
	hooked := make(chan struct{})
	b := newHookedReplica(t, addr, prefix, emu.URL, time.Hour, fastSweeps(), func(ctx context.Context, ev sharpapi.WebhookEvent) error {
		inHook = trace.SpanContextFromContext(ctx)
		close(hooked)
		return nil
	})
	ended := oteltest.Ended(b.tel.TP, "sharpapi.on_event")
	run := oteltest.AwaitEnded(t, ended, 1)[0]
	<-hooked
	b.hooks.Close() // the sweeper's work for the job has ended with it
	completes := oteltest.Spans(b.tel.SR, "sharpapi.ledger.complete")
	if len(completes) != 1 {
		t.Fatalf("%d sharpapi.ledger.complete spans on b, want 1", len(completes))
	}
	c := completes[0]
	want := map[string]string{"sharpapi.job.id": job.ID(), "sharpapi.job.type": "content_translate", "sharpapi.ledger.tries": "1",
		"sharpapi.ledger.claim.outcome": "completed", "sharpapi.ledger.completed_via": "poll"}
	if diff := cmp.Diff(want, oteltest.Attrs(c)); diff != "" {
		t.Errorf("b's sharpapi.ledger.complete attributes (-want +got):\n%s", diff)
	}
	kids := oteltest.Children(b.tel.SR, c)
	if len(kids["GET"]) != 1 || len(kids["sharpapi.on_event"]) != 1 || !kids["sharpapi.on_event"][0].SpanContext().Equal(run.SpanContext()) {
		t.Errorf("b's sharpapi.ledger.complete children %v; want its poll's GET and the OnEvent run", slices.Collect(mapsKeys(kids)))
	}
	if at := oteltest.Attrs(run); at["sharpapi.hook.runs"] != "1" || at["sharpapi.hook.outcome"] != "acked" || !inHook.Equal(run.SpanContext()) {
		t.Errorf("OnEvent run %v, OnEvent's ctx span %v; want run 1, acked, in OnEvent's ctx", at, inHook)
	}
	if os.Getenv("SHARPAPI_PRINT_TRACE") != "" {
		printTraces(os.Stdout, map[string][]sdktrace.ReadOnlySpan{"replica a (the dispatcher, gone)": a.tel.SR.Ended(),
			"replica b (its sweeper)": b.tel.SR.Ended()})
	}
	if !oteltest.LinksTo(c, aJob.SpanContext()) {
		t.Errorf("b's sharpapi.ledger.complete links %v; want a link to a's job span %v", c.Links(), aJob.SpanContext())
	}
}

// printTraces prints the spans of each replica as trace trees, as a
// tracing backend shows them: a tree per trace, children under their
// parent by start time, with each span's events and links.
func printTraces(w io.Writer, replicas map[string][]sdktrace.ReadOnlySpan) {
	names := map[trace.SpanID]string{}
	for _, spans := range replicas {
		for _, s := range spans {
			names[s.SpanContext().SpanID()] = s.Name()
		}
	}
	for _, replica := range slices.Sorted(mapsKeys(replicas)) {
		spans := replicas[replica]
		fmt.Fprintf(w, "── %s\n", replica)
		kids := map[trace.SpanID][]sdktrace.ReadOnlySpan{}
		var roots []sdktrace.ReadOnlySpan
		ids := map[trace.SpanID]bool{}
		for _, s := range spans {
			ids[s.SpanContext().SpanID()] = true
		}
		for _, s := range spans {
			if p := s.Parent(); p.IsValid() && ids[p.SpanID()] {
				kids[p.SpanID()] = append(kids[p.SpanID()], s)
			} else {
				roots = append(roots, s)
			}
		}
		byStart := func(ss []sdktrace.ReadOnlySpan) {
			sort.Slice(ss, func(i, j int) bool { return ss[i].StartTime().Before(ss[j].StartTime()) })
		}
		byStart(roots)
		var walk func(s sdktrace.ReadOnlySpan, depth int)
		walk = func(s sdktrace.ReadOnlySpan, depth int) {
			pad := strings.Repeat("    ", depth)
			fmt.Fprintf(w, "%s%s  %s%s\n", pad, s.Name(), span(s.EndTime().Sub(s.StartTime())), shownAttrs(s.Attributes()))
			if depth == 0 {
				fmt.Fprintf(w, "%s  trace %s…\n", pad, s.SpanContext().TraceID().String()[:8])
			}
			for _, e := range s.Events() {
				fmt.Fprintf(w, "%s  • event %s  +%s%s\n", pad, e.Name, span(e.Time.Sub(s.StartTime())), shownAttrs(e.Attributes))
			}
			for _, l := range s.Links() {
				name := names[l.SpanContext.SpanID()]
				if name == "" {
					name = "span " + l.SpanContext.SpanID().String()[:8] + "…"
				}
				fmt.Fprintf(w, "%s  ↪ link to %s of trace %s…%s\n", pad, name, l.SpanContext.TraceID().String()[:8], shownAttrs(l.Attributes))
			}
			byStart(kids[s.SpanContext().SpanID()])
			for _, k := range kids[s.SpanContext().SpanID()] {
				walk(k, depth+1)
			}
		}
		for _, r := range roots {
			walk(r, 0)
		}
		fmt.Fprintln(w)
	}
}

// span is a duration as a backend shows it.
func span(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// shownAttrs are the attributes worth a line: this package's, and the
// few conventions' an operator reads; a job id is cut short.
func shownAttrs(kvs []attribute.KeyValue) string {
	var out []string
	for _, kv := range kvs {
		k, v := string(kv.Key), kv.Value.Emit()
		switch {
		case k == "sharpapi.job.id":
			v = v[:8] + "…"
		case strings.HasPrefix(k, "sharpapi."), k == "error.type", k == "http.response.status_code", k == "url.template":
		default:
			continue
		}
		out = append(out, k+"="+v)
	}
	if len(out) == 0 {
		return ""
	}
	return "  [" + strings.Join(out, " ") + "]"
}

// TestOnEventOfAPolledJobIsTheJobsChild: a job whose webhook is lost and
// whose own await polls its outcome hands it to the ledger; the OnEvent
// run that follows is a child of the job's span (run 1, acked).
func TestOnEventOfAPolledJobIsTheJobsChild(t *testing.T) {
	addr := startRedis(t)
	emu := newEmulator(t, sharpapitest.WithJobDuration(0), sharpapitest.WithDropRate(1))
	cfg := fastSweeps()
	cfg.NoSweeper = true
	a := newHookedReplica(t, addr, "otel-polled:", emu.URL, time.Millisecond, cfg,
		func(context.Context, sharpapi.WebhookEvent) error { return nil })
	ended := oteltest.Ended(a.tel.TP, "sharpapi.on_event")
	job, err := a.client.Translate(t.Context(), italian, sharpapi.WithWebhook("http://127.0.0.1:1/hooks"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	run := oteltest.AwaitEnded(t, ended, 1)[0]
	js := oteltest.JobSpan(t, a.tel.SR, job.ID())
	if at := oteltest.Attrs(js); at["sharpapi.job.completed_via"] != "poll" {
		t.Fatalf("job completed via %q, want poll", at["sharpapi.job.completed_via"])
	}
	at := oteltest.Attrs(run)
	if run.Parent().SpanID() != js.SpanContext().SpanID() || at["sharpapi.hook.runs"] != "1" || at["sharpapi.hook.outcome"] != "acked" {
		t.Errorf("OnEvent run: parent %v, attributes %v; want the job span's child, run 1, acked", run.Parent().SpanID(), at)
	}
}

// TestDeliveryOnAnotherReplicaLinksToTheJob: replica a dispatches a job
// (its webhook lost by the emulator) and awaits it; the webhook reaches
// replica b, which stores it and takes the job's OnEvent lease in one
// step, reading the token a recorded with the job's ledger entry. b's
// sharpapi.webhook span and its sharpapi.on_event span each link to a's
// job span (sharpapi.link=job), though they are in other traces; a's job
// span, completed via the store, links back to b's delivery.
func TestDeliveryOnAnotherReplicaLinksToTheJob(t *testing.T) {
	addr := startRedis(t)
	emu := newEmulator(t, sharpapitest.WithJobDuration(0), sharpapitest.WithDropRate(1))
	const prefix = "otel-deliver-b:"
	cfg := fastSweeps()
	cfg.NoSweeper = true
	a := newLedgerReplica(t, addr, prefix, emu.URL, time.Hour, cfg)
	b := newLedgerReplica(t, addr, prefix, emu.URL, time.Hour, cfg)
	delivered := oteltest.Ended(b.tel.TP, "sharpapi.webhook")
	hooked := oteltest.Ended(b.tel.TP, "sharpapi.on_event")
	recvB := httptest.NewServer(b.hooks)
	t.Cleanup(recvB.Close)

	ctx, caller := a.tel.TP.Tracer("app").Start(t.Context(), "POST /translations")
	defer caller.End()
	job, err := a.client.Translate(ctx, italian, sharpapi.WithWebhook(recvB.URL+"/hooks"))
	if err != nil {
		t.Fatal(err)
	}
	// The dispatch has returned: the job's ledger entry holds its token.
	// SharpAPI's webhook (the emulator dropped its own) lands on b.
	body := `{"id":"` + job.ID() + `","status":"success","type":"content_translate",` +
		`"result":{"content":"ciao","from_language":"English","to_language":"Italian"}}`
	if code := deliver(t, recvB.URL+"/hooks", body); code != 200 {
		t.Fatalf("b answered %d, want 200", code)
	}
	if _, err := job.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	aJob := oteltest.JobSpan(t, a.tel.SR, job.ID())
	d := oteltest.AwaitEnded(t, delivered, 1)[0]
	run := oteltest.AwaitEnded(t, hooked, 1)[0]

	type link struct{ To, Kind string }
	links := func(s sdktrace.ReadOnlySpan) []link {
		var out []link
		for _, l := range s.Links() {
			to := l.SpanContext.SpanID().String()
			same := func(sc trace.SpanContext) bool {
				return l.SpanContext.TraceID() == sc.TraceID() && l.SpanContext.SpanID() == sc.SpanID()
			}
			switch {
			case same(aJob.SpanContext()):
				to = "a's job"
			case same(d.SpanContext()):
				to = "b's delivery"
			}
			kind := ""
			for _, kv := range l.Attributes {
				if kv.Key == "sharpapi.link" {
					kind = kv.Value.AsString()
				}
			}
			out = append(out, link{to, kind})
		}
		return out
	}
	type view struct {
		Outcome, Parent string
		SameTraceAsJob  bool
		Links           []link
	}
	got := map[string]view{
		"b's delivery": {Outcome: oteltest.Attrs(d)["sharpapi.webhook.outcome"], SameTraceAsJob: d.SpanContext().TraceID() == aJob.SpanContext().TraceID(), Links: links(d)},
		"b's on_event": {Outcome: oteltest.Attrs(run)["sharpapi.hook.outcome"], SameTraceAsJob: run.SpanContext().TraceID() == aJob.SpanContext().TraceID(),
			Parent: map[bool]string{true: "b's delivery", false: "?"}[run.Parent().SpanID() == d.SpanContext().SpanID()], Links: links(run)},
		"a's job": {Outcome: oteltest.Attrs(aJob)["sharpapi.job.completed_via"], Links: links(aJob), SameTraceAsJob: true},
	}
	want := map[string]view{
		"b's delivery": {Outcome: "stored", Links: []link{{"a's job", "job"}}},
		"b's on_event": {Outcome: "acked", Parent: "b's delivery", Links: []link{{"a's job", "job"}}},
		"a's job":      {Outcome: "store", Links: []link{{"b's delivery", "webhook_delivery"}}, SameTraceAsJob: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spans across the replicas (-want +got):\n%s", diff)
	}
}
