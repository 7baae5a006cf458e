package e2e

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi/otelsharpapi"
	"github.com/sharpapi-go/sharpapi/otelsharpapi/internal/oteltest"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/redisbus"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// ackSignal is a redisbus.Bus (its Ledger included) that tells each Ack's
// job id on acked once Redis has it, so that a test knows an entry left
// the ledger without polling for it.
type ackSignal struct {
	ledgerBus
	acked chan string
}

// ledgerBus is what a redisbus.Bus gives the handler: a bus and its ledger.
type ledgerBus interface {
	eventbus.Bus
	eventbus.Ledger
}

func (b ackSignal) EventBus() eventbus.Bus { return b }

func (b ackSignal) Ack(ctx context.Context, jobID string, token int64) (bool, error) {
	stale, err := b.ledgerBus.Ack(ctx, jobID, token)
	b.acked <- jobID
	return stale, err
}

// ledgerReplica is one replica with the ledger on: its telemetry, bus,
// handler (observed, with an OnEvent hook that takes every event) and
// client (observed too).
type ledgerReplica struct {
	tel    *telemetry
	bus    ackSignal
	hooks  *sharpapi.WebhookHandler
	client *sharpapi.Client
}

func newLedgerReplica(t *testing.T, addr, prefix, emuURL string, grace time.Duration, cfg sharpapi.LedgerConfig) *ledgerReplica {
	t.Helper()
	return newHookedReplica(t, addr, prefix, emuURL, grace, cfg, func(context.Context, sharpapi.WebhookEvent) error { return nil })
}

// newHookedReplica is newLedgerReplica with onEvent as its OnEvent hook.
func newHookedReplica(t *testing.T, addr, prefix, emuURL string, grace time.Duration, cfg sharpapi.LedgerConfig,
	onEvent func(context.Context, sharpapi.WebhookEvent) error) *ledgerReplica {
	t.Helper()
	lr := &ledgerReplica{tel: newTelemetry(t)}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	bus, err := redisbus.New(rdb, redisbus.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	lr.bus = ackSignal{ledgerBus: bus.EventBus().(ledgerBus), acked: make(chan string, 64)}
	if lr.hooks, err = sharpapi.NewWebhookHandler(testSecret, sharpapi.WithEventBus(lr.bus), sharpapi.WithLedgerConfig(cfg),
		sharpapi.WithObserver(lr.tel.obs),
		sharpapi.OnEvent(onEvent)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lr.hooks.Close() })
	if lr.client, err = sharpapi.NewClient(testKey, sharpapi.WithObserver(lr.tel.obs), sharpapi.WithBaseURL(emuURL),
		sharpapi.WithWebhookHandler(lr.hooks), sharpapi.WithWebhookGrace(grace)); err != nil {
		t.Fatal(err)
	}
	return lr
}

// fastSweeps sweeps every few milliseconds, with leases long enough that a
// loaded machine does not expire them.
func fastSweeps() sharpapi.LedgerConfig {
	return sharpapi.LedgerConfig{SweepInterval: 5 * time.Millisecond, ClaimLease: 10 * time.Second,
		HookLease: 5 * time.Second, RetryMin: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond}
}

// TestLedgerMetricsOfALostWebhookAndADeadDispatcher: replica a dispatches
// five jobs whose webhooks are all lost and goes away without awaiting
// them; replica b's sweeper completes each from the ledger by a poll. a
// counts five recorded jobs; b one claim and one completion (via poll) per
// job and as many sweeps as its Stats, with no error, redelivery or
// give-up; the cluster-wide gauges read five pending and overdue jobs, then
// none. b's polls are GET spans that name their job, each the child of
// b's sharpapi.ledger.complete span for that job.
func TestLedgerMetricsOfALostWebhookAndADeadDispatcher(t *testing.T) {
	const n = 5
	addr := startRedis(t)
	emu := newEmulator(t, sharpapitest.WithJobDuration(0), sharpapitest.WithDropRate(1))
	prefix := "otel-ledger:"
	noSweeper := fastSweeps()
	noSweeper.NoSweeper = true
	a := newLedgerReplica(t, addr, prefix, emu.URL, time.Millisecond, noSweeper)

	// An operator's view of the ledger, read an hour ahead so that every
	// entry is overdue whatever the machine's speed.
	reader, err := redisbus.New(redis.NewClient(&redis.Options{Addr: addr}), redisbus.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	ops := newTelemetry(t, otelsharpapi.WithLedgerStats(func(ctx context.Context) (otelsharpapi.LedgerState, error) {
		s, err := reader.LedgerStats(ctx, time.Now().Add(time.Hour))
		return otelsharpapi.LedgerState{Pending: s.Pending, Overdue: s.Overdue}, err
	}))
	gauges := func() map[string]map[string]oteltest.Point { return oteltest.LedgerMetrics(ops.metrics(t)) }

	var ids []string
	for range n {
		job, err := a.client.Translate(t.Context(), italian, sharpapi.WithWebhook("http://127.0.0.1:1/hooks"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, job.ID())
	}
	want := map[string]map[string]oteltest.Point{"sharpapi.ledger.records": {"sharpapi.ledger.result=ok": {Value: n}}}
	if diff := cmp.Diff(want, oteltest.LedgerMetrics(a.tel.metrics(t))); diff != "" {
		t.Errorf("a's ledger metrics (-want +got):\n%s", diff)
	}
	wantGauges := func(v int64) map[string]map[string]oteltest.Point {
		return map[string]map[string]oteltest.Point{"sharpapi.ledger.pending": {"": {Value: v}}, "sharpapi.ledger.overdue": {"": {Value: v}}}
	}
	if diff := cmp.Diff(wantGauges(n), gauges()); diff != "" {
		t.Errorf("gauges with %d jobs lost (-want +got):\n%s", n, diff)
	}
	a.hooks.Close() // the dispatcher is gone

	b := newLedgerReplica(t, addr, prefix, emu.URL, time.Hour, fastSweeps())
	var acked []string
	for range n {
		select {
		case id := <-b.bus.acked:
			acked = append(acked, id)
		case <-time.After(time.Minute): // a bound on a hang, not a wait for something
			t.Fatalf("%d of %d jobs acked within a minute", len(acked), n)
		}
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(acked))); diff != "" {
		t.Errorf("jobs acked (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantGauges(0), gauges()); diff != "" {
		t.Errorf("gauges once every job is acked (-want +got):\n%s", diff)
	}
	b.hooks.Close() // its sweep in progress ends: every sweep is counted
	st := b.hooks.Stats().Ledger
	if st.Claimed != n || st.Completed != n || st.Sweeps == 0 {
		t.Fatalf("b's ledger counts %+v; want %d claimed and completed", st, n)
	}
	want = map[string]map[string]oteltest.Point{
		"sharpapi.ledger.sweeps":      {"": {Value: int64(st.Sweeps)}},
		"sharpapi.ledger.claims":      {"": {Value: n}},
		"sharpapi.ledger.completions": {"sharpapi.ledger.completed_via=poll": {Value: n}},
	}
	if diff := cmp.Diff(want, oteltest.LedgerMetrics(b.tel.metrics(t))); diff != "" {
		t.Errorf("b's ledger metrics (-want +got):\n%s", diff)
	}
	// The sweeper's polls are seen by b's RequestObserver: a span each,
	// naming its job, a child of the sweeper's work for the job.
	completes := map[[8]byte]string{}
	for _, s := range oteltest.Spans(b.tel.SR, "sharpapi.ledger.complete") {
		completes[s.SpanContext().SpanID()] = oteltest.Attrs(s)["sharpapi.job.id"]
	}
	var polled []string
	for _, s := range oteltest.Spans(b.tel.SR, "GET") {
		at := oteltest.Attrs(s)
		if completes[s.Parent().SpanID()] != at["sharpapi.job.id"] || at["sharpapi.request.kind"] != "poll" || at["url.template"] != "/api/v1/content/translate/job/status/{id}" {
			t.Errorf("a sweeper's poll span: parent %v, attributes %v", s.Parent(), at)
		}
		polled = append(polled, at["sharpapi.job.id"])
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(polled))); diff != "" {
		t.Errorf("jobs of b's GET spans (-want +got):\n%s", diff)
	}
}

// TestLedgerRecordFailureIsCounted: a dispatch while the bus's Redis is
// unreachable counts a record error, and puts an event on the job's span
// saying why the job is not durable.
func TestLedgerRecordFailureIsCounted(t *testing.T) {
	tel := newTelemetry(t)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1}) // nothing listens on port 1
	t.Cleanup(func() { rdb.Close() })
	bus, err := redisbus.New(rdb)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sharpapi.NewWebhookHandler(testSecret, sharpapi.WithEventBus(bus), sharpapi.WithObserver(tel.obs),
		sharpapi.WithLedgerConfig(sharpapi.LedgerConfig{NoSweeper: true}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	emu := newEmulator(t, sharpapitest.WithDropRate(1))
	client, err := sharpapi.NewClient(testKey, sharpapi.WithObserver(tel.obs), sharpapi.WithBaseURL(emu.URL),
		sharpapi.WithWebhookHandler(h), sharpapi.WithWebhookGrace(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	job, err := client.Translate(t.Context(), italian, sharpapi.WithWebhook("http://127.0.0.1:1/hooks"))
	if err != nil {
		t.Fatalf("a dispatch while the ledger is down: %v; want its job", err)
	}
	if st := h.Stats().Ledger; st.RecordErrors != 1 || st.Recorded != 0 {
		t.Errorf("ledger counts %+v; want 1 record error", st)
	}
	want := map[string]map[string]oteltest.Point{"sharpapi.ledger.records": {"sharpapi.ledger.result=error": {Value: 1}}}
	if diff := cmp.Diff(want, oteltest.LedgerMetrics(tel.metrics(t))); diff != "" {
		t.Errorf("ledger metrics (-want +got):\n%s", diff)
	}
	// An await that ends at once ends the job's span (cancelled).
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := job.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v; want context.Canceled", err)
	}
	js := oteltest.JobSpan(t, tel.SR, job.ID())
	var found bool
	for _, e := range js.Events() {
		if e.Name == "sharpapi.ledger.record_failed" {
			found = true
			if len(e.Attributes) != 1 || e.Attributes[0].Key != "error.type" {
				t.Errorf("record_failed event attributes %v; want error.type only", e.Attributes)
			}
		}
	}
	if !found {
		t.Errorf("job span events %v; want sharpapi.ledger.record_failed", oteltest.Events(js))
	}
}
