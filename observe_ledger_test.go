package sharpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/observe"
)

// recordingLedger is an eventbus.Bus and eventbus.Ledger that keeps the
// jobs recorded in it and answers each Record with err; the rest does
// nothing.
type recordingLedger struct {
	mu   sync.Mutex
	jobs []eventbus.PendingJob
	err  error
	log  *[]string // shared with the observer: the order of calls
}

func (l *recordingLedger) EventBus() eventbus.Bus { return l }
func (l *recordingLedger) Store(context.Context, eventbus.Event) (bool, error) {
	return true, nil
}
func (l *recordingLedger) Load(context.Context, string) (eventbus.Event, bool, error) {
	return eventbus.Event{}, false, nil
}
func (l *recordingLedger) Subscribe(func(string), func()) error { return nil }
func (l *recordingLedger) Close() error                         { return nil }
func (l *recordingLedger) Record(_ context.Context, job eventbus.PendingJob) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.jobs = append(l.jobs, job)
	*l.log = append(*l.log, "record")
	return l.err
}
func (l *recordingLedger) Claim(context.Context, time.Time, time.Time, int) ([]eventbus.ClaimedJob, error) {
	return nil, nil
}
func (l *recordingLedger) Begin(context.Context, eventbus.BeginRequest) (eventbus.HookLease, error) {
	return eventbus.HookLease{State: eventbus.LeaseDone}, nil
}
func (l *recordingLedger) StoreBegin(context.Context, eventbus.Event, eventbus.BeginRequest) (bool, eventbus.HookLease, error) {
	return true, eventbus.HookLease{State: eventbus.LeaseDone}, nil
}
func (l *recordingLedger) Renew(context.Context, string, int64, time.Time) (bool, error) {
	return true, nil
}
func (l *recordingLedger) Ack(context.Context, string, int64) (bool, error) { return false, nil }
func (l *recordingLedger) Release(context.Context, string, int64, time.Time) (bool, error) {
	return true, nil
}
func (l *recordingLedger) GiveUp(context.Context, string, int64, time.Time) (bool, error) {
	return true, nil
}

// tokenObserver observes jobs with a token, and the ledger's record
// and notes; log (guarded by the ledger's mu: calls come from the
// dispatching goroutine) says in which order.
type tokenObserver struct {
	token string
	log   *[]string
	notes []observe.LedgerNote
	ctxOK []bool // whether each note's ctx is the one StartLedgerRecord returned
}

type recordCtxKey struct{}

func (o *tokenObserver) Observer() observe.Observer { return o }
func (o *tokenObserver) StartJob(ctx context.Context, _ observe.JobStart) (context.Context, observe.JobObservation) {
	return ctx, tokenJob{o.token}
}
func (o *tokenObserver) StartLedgerRecord(ctx context.Context, jobID string) context.Context {
	*o.log = append(*o.log, "start "+jobID)
	return context.WithValue(ctx, recordCtxKey{}, jobID)
}
func (o *tokenObserver) LedgerNoted(ctx context.Context, n observe.LedgerNote) {
	*o.log = append(*o.log, "noted")
	o.notes = append(o.notes, n)
	o.ctxOK = append(o.ctxOK, ctx.Value(recordCtxKey{}) == n.JobID)
}

type tokenJob struct{ token string }

func (j tokenJob) Context(ctx context.Context) context.Context { return ctx }
func (j tokenJob) Note(observe.JobNote)                        {}
func (j tokenJob) End(observe.JobEnd)                          {}
func (j tokenJob) Token() string                               { return j.token }

// newTokenRig is a client whose handler's bus is l, both observed by o,
// dispatching to a stub that accepts every job as job-N.
func newTokenRig(t *testing.T, l *recordingLedger, o *tokenObserver) (*WebhookHandler, func() string) {
	t.Helper()
	h, err := NewWebhookHandler(observedSecret, WithEventBus(l), WithObserver(o), WithLedgerConfig(LedgerConfig{NoSweeper: true}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	var n int
	var mu sync.Mutex
	stub := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
		mu.Lock()
		n++
		id := "job-" + strconv.Itoa(n)
		mu.Unlock()
		body := `{"status_url":"http://sharpapi.test/api/v1/content/translate/job/status/` + id + `","job_id":"` + id + `"}`
		return &http.Response{StatusCode: http.StatusAccepted, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	})
	c, err := NewClient("key", WithBaseURL("http://sharpapi.test/api/v1"), WithHTTPClient(&http.Client{Transport: stub}),
		WithWebhookHandler(h), WithWebhookGrace(time.Hour), WithObserver(o))
	if err != nil {
		t.Fatal(err)
	}
	return h, func() string {
		t.Helper()
		job, err := c.Translate(context.Background(), TranslateParams{Content: "hi", Language: "Italian"}, WithWebhook("http://app.test/hooks"))
		if err != nil {
			t.Fatal(err)
		}
		return job.ID()
	}
}

// TestLedgerRecordCarriesTheJobToken: a job's ledger entry carries the
// token its observation gives (observe.JobToken), so that a sweeper on
// another replica can link to the job; a token over 128 bytes is left
// out. The record is observed from its start: StartLedgerRecord comes
// before the Record, and the LedgerRecorded note gets the context it
// returned.
func TestLedgerRecordCarriesTheJobToken(t *testing.T) {
	const token = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	var log []string
	l := &recordingLedger{log: &log}
	o := &tokenObserver{token: token, log: &log}
	_, dispatch := newTokenRig(t, l, o)
	id := dispatch()
	o.token = strings.Repeat("x", 129)
	dispatch()
	var traces []string
	for _, j := range l.jobs {
		traces = append(traces, j.Trace)
	}
	if diff := cmp.Diff([]string{token, ""}, traces); diff != "" {
		t.Errorf("PendingJob.Trace of the two jobs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"start " + id, "record", "noted", "start job-2", "record", "noted"}, log); diff != "" {
		t.Errorf("order of calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, true}, o.ctxOK); diff != "" {
		t.Errorf("LedgerRecorded notes given StartLedgerRecord's context (-want +got):\n%s", diff)
	}
}

// TestOutboxOverflowIsNoted: a job whose record fails while the outbox is
// full is told to the observer (LedgerOutboxOverflow, after its failed
// LedgerRecorded), as LedgerCounts.OutboxOverflow counts it.
func TestOutboxOverflowIsNoted(t *testing.T) {
	var log []string
	down := errors.New("bus down")
	l := &recordingLedger{log: &log, err: down}
	o := &tokenObserver{log: &log}
	h, dispatch := newTokenRig(t, l, o)
	ls := h.ledger()
	ls.outbox.mu.Lock()
	ls.outbox.jobs = make([]eventbus.PendingJob, OutboxSize)
	ls.outbox.mu.Unlock()
	id := dispatch()
	want := []observe.LedgerNote{
		{Kind: observe.LedgerRecorded, JobID: id, Err: down},
		{Kind: observe.LedgerOutboxOverflow, JobID: id},
	}
	if diff := cmp.Diff(want, o.notes, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	if got := h.Stats().Ledger.OutboxOverflow; got != 1 {
		t.Errorf("LedgerCounts.OutboxOverflow = %d, want 1", got)
	}
}

// leaseLedger is a recordingLedger whose StoreBegin answers stored and
// storeLease, and whose Begin answers beginLease.
type leaseLedger struct {
	*recordingLedger
	stored                 bool
	storeLease, beginLease eventbus.HookLease
}

func (l *leaseLedger) EventBus() eventbus.Bus { return l }
func (l *leaseLedger) StoreBegin(context.Context, eventbus.Event, eventbus.BeginRequest) (bool, eventbus.HookLease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stored, l.storeLease, nil
}
func (l *leaseLedger) Begin(context.Context, eventbus.BeginRequest) (eventbus.HookLease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.beginLease, nil
}

// jobTraceObserver tells each delivery's end and each OnEvent run's start.
type jobTraceObserver struct {
	ends   chan observe.DeliveryEnd
	starts chan observe.HookStart
}

func (o jobTraceObserver) Observer() observe.Observer { return o }
func (o jobTraceObserver) StartJob(ctx context.Context, _ observe.JobStart) (context.Context, observe.JobObservation) {
	return ctx, nil
}
func (o jobTraceObserver) StartDelivery(ctx context.Context, _ *http.Request) (context.Context, observe.DeliveryObservation) {
	return ctx, jobTraceDelivery(o)
}
func (o jobTraceObserver) StartHook(ctx context.Context, s observe.HookStart) (context.Context, observe.HookObservation) {
	o.starts <- s
	return ctx, nil
}

type jobTraceDelivery jobTraceObserver

func (d jobTraceDelivery) Token() string             { return "" }
func (d jobTraceDelivery) End(e observe.DeliveryEnd) { d.ends <- e }

// TestDeliveryAndOnEventLearnTheJobTrace: the job's token that the hook
// lease read from the ledger (eventbus.HookLease.Trace) reaches the
// delivery's observation (observe.DeliveryEnd.JobTrace) and the OnEvent
// run's (observe.HookStart.JobTrace), so that a tracer links both to the
// job's span on the replica that dispatched it. The lease StoreBegin took
// serves both; when StoreBegin stored the event without a lease, the
// delivery has no job token and the run gets Begin's; a duplicate
// delivery has none and runs nothing.
func TestDeliveryAndOnEventLearnTheJobTrace(t *testing.T) {
	const stored, begun = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	l := &leaseLedger{recordingLedger: &recordingLedger{log: new([]string)}}
	o := jobTraceObserver{ends: make(chan observe.DeliveryEnd, 4), starts: make(chan observe.HookStart, 4)}
	h, err := NewWebhookHandler(observedSecret, WithEventBus(l), WithObserver(o), WithLedgerConfig(LedgerConfig{NoSweeper: true}),
		OnEvent(func(context.Context, WebhookEvent) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	rig := &observedRig{h: h}
	type got struct{ Delivery, Hook string }
	var gots []got
	for _, c := range []struct {
		stored     bool
		storeLease eventbus.HookLease
		hook       bool
	}{
		{true, eventbus.HookLease{State: eventbus.LeaseGranted, Token: 1, Runs: 1, Trace: stored}, true},
		{true, eventbus.HookLease{}, true},
		{false, eventbus.HookLease{}, false},
	} {
		l.mu.Lock()
		l.stored, l.storeLease = c.stored, c.storeLease
		l.beginLease = eventbus.HookLease{State: eventbus.LeaseGranted, Token: 2, Runs: 1, Trace: begun}
		l.mu.Unlock()
		rig.deliver(t, "job-1")
		g := got{Delivery: (<-o.ends).JobTrace}
		if c.hook {
			g.Hook = (<-o.starts).JobTrace
		}
		gots = append(gots, g)
	}
	want := []got{{Delivery: stored, Hook: stored}, {Hook: begun}, {}}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("job traces told (-want +got):\n%s", diff)
	}
	select {
	case s := <-o.starts:
		t.Errorf("OnEvent ran for a duplicate delivery: %+v", s)
	default:
	}
}
