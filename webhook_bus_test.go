package sharpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// fakeStore is an in-memory cluster store, "Redis" for the replicas of a
// test: each replica's handler talks to it through a fakeBus of its own.
type fakeStore struct {
	mu       sync.Mutex
	seen     map[string]bool   // id:status of every stored event
	events   map[string][]byte // terminal events, as JSON
	buses    []*fakeBus
	storeErr error
}

func newFakeStore() *fakeStore {
	return &fakeStore{seen: map[string]bool{}, events: map[string][]byte{}}
}

// fakeBus is one replica's EventBus. While down, its subscription misses
// notifications, as a Redis subscriber whose connection dropped.
type fakeBus struct {
	s       *fakeStore
	loads   atomic.Int64
	entered atomic.Int64 // Loads begun
	closed  atomic.Bool
	gate    chan struct{} // when set before use, each Load waits for it to close
	// during, when set before use, runs at the start of each Store.
	during func()

	mu      sync.Mutex
	hold    chan struct{} // when set (holdLoads), each Load begun waits for it to close
	notify  func(string)
	resync  func()
	down    bool
	loadErr error
}

func (s *fakeStore) bus() *fakeBus {
	b := &fakeBus{s: s}
	s.mu.Lock()
	s.buses = append(s.buses, b)
	s.mu.Unlock()
	return b
}

// EventBus makes a fakeBus its own eventbus.Provider.
func (b *fakeBus) EventBus() eventbus.Bus { return b }

func (b *fakeBus) Store(_ context.Context, ev eventbus.Event) (bool, error) {
	if b.during != nil {
		b.during()
	}
	s := b.s
	s.mu.Lock()
	if s.storeErr != nil {
		s.mu.Unlock()
		return false, s.storeErr
	}
	key := ev.ID + ":" + ev.Status
	if s.seen[key] {
		s.mu.Unlock()
		return false, nil
	}
	s.seen[key] = true
	if !sharpapi.JobStatus(ev.Status).Terminal() {
		s.mu.Unlock()
		return true, nil
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		s.mu.Unlock()
		return false, err
	}
	s.events[ev.ID] = raw
	buses := append([]*fakeBus(nil), s.buses...)
	s.mu.Unlock()
	for _, o := range buses {
		o.mu.Lock()
		notify := o.notify
		if o.down || o.closed.Load() {
			notify = nil
		}
		o.mu.Unlock()
		if notify != nil {
			notify(ev.ID)
		}
	}
	return true, nil
}

func (b *fakeBus) Load(_ context.Context, id string) (eventbus.Event, bool, error) {
	b.entered.Add(1)
	if b.gate != nil {
		<-b.gate
	}
	b.mu.Lock()
	hold := b.hold
	b.mu.Unlock()
	if hold != nil {
		<-hold
	}
	defer b.loads.Add(1) // counted once the store was read
	b.mu.Lock()
	err := b.loadErr
	b.mu.Unlock()
	if err != nil {
		return eventbus.Event{}, false, err
	}
	b.s.mu.Lock()
	raw, ok := b.s.events[id]
	b.s.mu.Unlock()
	var ev eventbus.Event
	if ok {
		if err := json.Unmarshal(raw, &ev); err != nil {
			return ev, false, err
		}
	}
	return ev, ok, nil
}

// holdLoads makes every Load begun from now on wait until hold is closed.
func (b *fakeBus) holdLoads(hold chan struct{}) {
	b.mu.Lock()
	b.hold = hold
	b.mu.Unlock()
}

func (b *fakeBus) Subscribe(notify func(string), resync func()) error {
	b.mu.Lock()
	if b.notify != nil {
		b.mu.Unlock()
		return errors.New("subscribed twice")
	}
	b.notify, b.resync = notify, resync
	b.mu.Unlock()
	resync() // the first subscription
	return nil
}

func (b *fakeBus) Close() error {
	b.closed.Store(true)
	return nil
}

// setDown cuts (true) or restores (false) the subscription; a restored one
// resyncs, as a bus does after it re-subscribes.
func (b *fakeBus) setDown(down bool) {
	b.mu.Lock()
	b.down = down
	resync := b.resync
	b.mu.Unlock()
	if !down {
		resync()
	}
}

const busSecret = "whsec-bus"

// replica is one replica's handler on the shared store, with its hooks.
type replica struct {
	h        *sharpapi.WebhookHandler
	bus      *fakeBus
	events   chan sharpapi.WebhookEvent // OnEvent
	unmatchd chan sharpapi.WebhookEvent // OnUnmatched
}

func newReplica(t *testing.T, s *fakeStore, opts ...sharpapi.WebhookOption) *replica {
	t.Helper()
	r := &replica{bus: s.bus(), events: make(chan sharpapi.WebhookEvent, 64), unmatchd: make(chan sharpapi.WebhookEvent, 64)}
	h, err := sharpapi.NewWebhookHandler(busSecret, append([]sharpapi.WebhookOption{
		sharpapi.WithEventBus(r.bus),
		sharpapi.OnEvent(func(_ context.Context, ev sharpapi.WebhookEvent) error { r.events <- ev; return nil }),
		sharpapi.OnUnmatched(func(ev sharpapi.WebhookEvent) { r.unmatchd <- ev }),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	r.h = h
	return r
}

func busEvent(id string, status sharpapi.JobStatus) []byte {
	return []byte(`{"id":"` + id + `","status":"` + string(status) + `","type":"content_translate","result":{"content":"ciao"}}`)
}

// deliver posts a signed body to h and returns the status code.
func deliver(h http.Handler, body []byte) int {
	req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
	req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapi.SignWebhook(body, busSecret))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func mustDeliver(t *testing.T, h http.Handler, body []byte) {
	t.Helper()
	if code := deliver(h, body); code != http.StatusOK {
		t.Fatalf("delivery answered %d", code)
	}
}

func within[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("nothing received")
	}
	panic("unreachable")
}

// none checks that nothing is in ch now.
func none[T any](t *testing.T, what string, ch <-chan T) {
	t.Helper()
	select {
	case v := <-ch:
		t.Errorf("%s: got %+v, want nothing", what, v)
	default:
	}
}

// An event that reaches replica B before anyone awaits it is stored, not
// buffered; a waiter that registers later on replica A finds it in the store.
func TestEventBusEarlyEventIsFoundOnSubscribe(t *testing.T) {
	s := newFakeStore()
	a, b := newReplica(t, s), newReplica(t, s)
	mustDeliver(t, b.h, busEvent("job-early", sharpapi.JobStatusSuccess))
	ev := within(t, a.h.SubscribeForTest("job-early"))
	if ev.ID != "job-early" || ev.Status != sharpapi.JobStatusSuccess || string(ev.Result) != `{"content":"ciao"}` {
		t.Fatalf("replica A got %+v", ev)
	}
	if sa, sb := a.h.Stats(), b.h.Stats(); sb.Stored != 1 || sa.Delivered != 1 || sa.Buffered+sb.Buffered != 0 ||
		sa.BufferedEarly+sb.BufferedEarly != 0 {
		t.Errorf("stats A %+v\nB %+v", sa, sb)
	}
}

// A notification for a job this replica does not await costs nothing: no
// load, nothing held, no hook.
func TestEventBusIgnoresEventsItDoesNotAwait(t *testing.T) {
	s := newFakeStore()
	a, b := newReplica(t, s), newReplica(t, s)
	loadsBefore := a.bus.loads.Load()
	for _, id := range []string{"job-1", "job-2", "job-3"} {
		mustDeliver(t, b.h, busEvent(id, sharpapi.JobStatusSuccess))
	}
	mustDeliver(t, b.h, busEvent("job-4", sharpapi.JobStatusPending))
	for range 4 {
		within(t, b.events)
	}
	if n := a.bus.loads.Load() - loadsBefore; n != 0 {
		t.Errorf("replica A loaded %d events it does not await", n)
	}
	if st := a.h.Stats(); st != (sharpapi.WebhookStats{}) {
		t.Errorf("replica A stats %+v, want all zero", st)
	}
	none(t, "OnEvent on A", a.events)
	none(t, "OnUnmatched on A", a.unmatchd)
	a.h.Close()
	b.h.Close()
	none(t, "OnUnmatched on A after Close", a.unmatchd)
	none(t, "OnUnmatched on B after Close", b.unmatchd)
}

// A replica whose subscription was down re-checks the store for every job
// it awaits when it comes back.
func TestEventBusResyncDeliversWhatWasMissed(t *testing.T) {
	s := newFakeStore()
	a, b := newReplica(t, s), newReplica(t, s)
	ch := a.h.SubscribeForTest("job-missed")
	// Wait until A's own lookup of the store has come back empty, so that
	// only the resync can deliver.
	waitFor(t, func() bool { return a.bus.loads.Load() >= 1 })
	a.bus.setDown(true)
	mustDeliver(t, b.h, busEvent("job-missed", sharpapi.JobStatusFailed))
	none(t, "A while its subscription is down", ch)
	a.bus.setDown(false)
	if ev := within(t, ch); ev.ID != "job-missed" || ev.Status != sharpapi.JobStatusFailed {
		t.Fatalf("after resync A got %+v", ev)
	}
}

// The same signed delivery reaching three replicas, twice each, at once:
// the waiter gets it once and OnEvent runs once in the cluster.
func TestEventBusOnEventRunsOnceAcrossReplicas(t *testing.T) {
	s := newFakeStore()
	rs := []*replica{newReplica(t, s), newReplica(t, s), newReplica(t, s)}
	waiter := rs[2].h.SubscribeForTest("job-x")
	body := busEvent("job-x", sharpapi.JobStatusSuccess)
	var wg sync.WaitGroup
	for _, r := range rs {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code := deliver(r.h, body); code != http.StatusOK {
					t.Errorf("status %d", code)
				}
			}()
		}
	}
	wg.Wait()
	if ev := within(t, waiter); ev.ID != "job-x" {
		t.Fatalf("waiter got %+v", ev)
	}
	if _, ok := <-waiter; ok {
		t.Fatal("a second event for the waiter")
	}
	var dups, stored uint64
	for _, r := range rs {
		st := r.h.Stats()
		dups += st.Duplicates
		stored += st.Stored
	}
	if stored != 1 || dups != 5 {
		t.Errorf("stored %d, duplicates %d; want 1 and 5", stored, dups)
	}
	// Every ServeHTTP has returned, so every OnEvent has been started;
	// the one that ran is the storing replica's.
	for _, r := range rs {
		if r.h.Stats().Stored == 1 {
			if ev := within(t, r.events); ev.ID != "job-x" {
				t.Errorf("OnEvent got %+v", ev)
			}
		}
	}
}

// A store that fails (Redis down, or slower than the publish timeout) is a
// 503, so SharpAPI retries; nothing is routed locally meanwhile.
func TestEventBusStoreErrorIs503(t *testing.T) {
	s := newFakeStore()
	a := newReplica(t, s)
	ch := a.h.SubscribeForTest("job-1")
	s.mu.Lock()
	s.storeErr = errors.New("redis: connection refused")
	s.mu.Unlock()
	body := busEvent("job-1", sharpapi.JobStatusSuccess)
	if code := deliver(a.h, body); code != http.StatusServiceUnavailable {
		t.Fatalf("failing store: status %d, want 503", code)
	}
	none(t, "waiter while the store fails", ch)
	s.mu.Lock()
	s.storeErr = nil
	s.mu.Unlock()
	mustDeliver(t, a.h, body) // SharpAPI's retry
	if ev := within(t, ch); ev.ID != "job-1" {
		t.Fatalf("got %+v", ev)
	}
	if st := a.h.Stats(); st.PublishErrors != 1 || st.Delivered != 1 {
		t.Errorf("stats %+v", st)
	}
}

// slowBus is a bus whose Store never returns before its context ends.
type slowBus struct{ *fakeBus }

func (b slowBus) EventBus() eventbus.Bus { return b }

func (b slowBus) Store(ctx context.Context, _ eventbus.Event) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

func TestEventBusStoreIsBoundedByThePublishTimeout(t *testing.T) {
	h, err := sharpapi.NewWebhookHandler(busSecret, sharpapi.WithEventBus(slowBus{newFakeStore().bus()}),
		sharpapi.WithPublishTimeout(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if code := deliver(h, busEvent("job-1", sharpapi.JobStatusSuccess)); code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", code)
	}
}

// A Load error leaves the waiter registered; a later notification delivers.
func TestEventBusLoadErrorKeepsTheWaiter(t *testing.T) {
	s := newFakeStore()
	a, b := newReplica(t, s), newReplica(t, s)
	a.bus.mu.Lock()
	a.bus.loadErr = errors.New("redis: i/o timeout")
	a.bus.mu.Unlock()
	ch := a.h.SubscribeForTest("job-1")
	waitFor(t, func() bool { return a.h.Stats().LoadErrors >= 1 })
	a.bus.mu.Lock()
	a.bus.loadErr = nil
	a.bus.mu.Unlock()
	mustDeliver(t, b.h, busEvent("job-1", sharpapi.JobStatusSuccess))
	if ev := within(t, ch); ev.ID != "job-1" {
		t.Fatalf("got %+v", ev)
	}
}

// A Load that fails is tried again while the job is awaited: a Subscribe
// waiter, which has no poll to fall back on, gets an event stored while its
// replica's Loads were failing once they succeed again, with no further
// notification or resync.
func TestEventBusFailedLoadIsRetried(t *testing.T) {
	s := newFakeStore()
	a, b := newReplica(t, s), newReplica(t, s)
	a.bus.mu.Lock()
	a.bus.loadErr = errors.New("redis: i/o timeout")
	a.bus.mu.Unlock()
	ch := a.h.SubscribeForTest("job-1")
	mustDeliver(t, b.h, busEvent("job-1", sharpapi.JobStatusSuccess)) // a's notify: its Load fails too
	waitFor(t, func() bool { return a.h.Stats().LoadErrors >= 2 })
	a.bus.mu.Lock()
	a.bus.loadErr = nil
	a.bus.mu.Unlock()
	if ev := within(t, ch); ev.ID != "job-1" || ev.Status != sharpapi.JobStatusSuccess {
		t.Fatalf("got %+v, want job-1's success", ev)
	}
}

func TestEventBusSubscribeErrorFailsConstruction(t *testing.T) {
	b := newFakeStore().bus()
	if err := b.Subscribe(func(string) {}, func() {}); err != nil {
		t.Fatal(err)
	}
	if _, err := sharpapi.NewWebhookHandler(busSecret, sharpapi.WithEventBus(b)); err == nil ||
		strings.Count(err.Error(), "sharpapi:") != 1 {
		t.Fatalf("err = %v, want one error saying sharpapi: once", err)
	}
}

func TestEventBusClosedWithTheHandler(t *testing.T) {
	r := newReplica(t, newFakeStore())
	r.h.Close()
	if !r.bus.closed.Load() {
		t.Error("the handler's Close did not close its bus")
	}
}

// A job resumed on a fresh replica, whose webhook another replica stored
// meanwhile, completes from the store without a status poll; one the store
// does not have polls at once, as without a bus.
func TestEventBusResumedJobNeedsNoPoll(t *testing.T) {
	s := newFakeStore()
	emu := sharpapitest.NewServer(sharpapitest.WithJobDuration(time.Hour))
	defer emu.Close()
	b := newReplica(t, s)
	fresh := newReplica(t, s)
	c, err := sharpapi.NewClient("test-key", sharpapi.WithBaseURL(emu.URL), sharpapi.WithWebhookHandler(fresh.h),
		sharpapi.WithWebhookGrace(time.Hour), sharpapi.WithPollInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stored, err := c.Translate(ctx, sharpapi.TranslateParams{Content: "hello", Language: "Italian"})
	if err != nil {
		t.Fatal(err)
	}
	mustDeliver(t, b.h, busEvent(stored.ID(), sharpapi.JobStatusSuccess))
	job, err := sharpapi.ResumeJob[sharpapi.TranslateResult](c, stored.ID(), sharpapi.JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	res, err := job.Wait(ctx)
	if err != nil || res.Content != "ciao" {
		t.Fatalf("Wait = %+v, %v", res, err)
	}
	if info, _ := emu.Job(stored.ID()); info.Polls != 0 {
		t.Errorf("%d status polls, want 0", info.Polls)
	}

	// Not in the store: the first poll comes at once (the job is pending
	// for an hour, so the poll is what the context's end interrupts).
	other, err := c.Translate(ctx, sharpapi.TranslateParams{Content: "bye", Language: "Italian"})
	if err != nil {
		t.Fatal(err)
	}
	job, err = sharpapi.ResumeJob[sharpapi.TranslateResult](c, other.ID(), sharpapi.JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	done := job.WaitAsync(ctx2)
	waitFor(t, func() bool { info, _ := emu.Job(other.ID()); return info.Polls == 1 })
	cancel()
	if out := <-done; !errors.Is(out.Err, context.Canceled) {
		t.Fatalf("Wait = %+v, want context.Canceled", out)
	}
}

// A webhook for a job whose only waiter gave up is late, not early: counted
// and reported as such on the replica that gave up.
func TestEventBusLateEvent(t *testing.T) {
	s := newFakeStore()
	a, b := newReplica(t, s), newReplica(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.h.AwaitForTest(ctx, "job-late"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Await = %v", err)
	}
	mustDeliver(t, b.h, busEvent("job-late", sharpapi.JobStatusSuccess))
	if st := a.h.Stats(); st.Late != 1 || st.Buffered != 0 || st.BufferedEarly != 0 {
		t.Errorf("replica A %+v, want 1 late, nothing buffered", st)
	}
	if st := b.h.Stats(); st.Late != 0 {
		t.Errorf("replica B %+v, want nothing late", st)
	}
	// The store still has it for a later waiter.
	if ev := within(t, a.h.SubscribeForTest("job-late")); ev.ID != "job-late" {
		t.Fatalf("got %+v", ev)
	}
}

// A burst of notifications of one awaited job id, while its look-up is in
// flight, starts no more goroutines or Loads: at most one look-up per id
// runs, and repeats merge into one more (none once the job has its event).
func TestEventBusCoalescesLookupsPerJob(t *testing.T) {
	s := newFakeStore()
	a := newReplica(t, s)
	a.bus.gate = make(chan struct{})
	ch := a.h.SubscribeForTest("job-1") // its look-up blocks in Load
	waitFor(t, func() bool { return a.bus.entered.Load() == 1 })
	before := runtime.NumGoroutine()
	for range 30000 {
		a.bus.notify("job-1")
	}
	if n := runtime.NumGoroutine() - before; n > 2 {
		t.Errorf("30 000 notifications of one id started %d goroutines; want at most 2", n)
	}
	raw, err := json.Marshal(sharpapi.WebhookEvent{ID: "job-1", Status: sharpapi.JobStatusSuccess, Result: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.events["job-1"] = raw
	s.mu.Unlock()
	close(a.bus.gate)
	if ev := within(t, ch); ev.ID != "job-1" {
		t.Fatalf("got %+v", ev)
	}
	waitFor(t, func() bool { return a.bus.loads.Load() == a.bus.entered.Load() })
	if n := a.bus.loads.Load(); n != 1 {
		t.Errorf("%d Loads for one awaited id; want 1", n)
	}
}

// The bus's notification of a job whose event this replica is storing (the
// echo of its own Store, overtaking the Store's reply, as the fake bus's
// always does) costs no Load: the Store's own hand-off reaches the waiter
// here.
func TestEventBusOwnStoreCostsNoLoad(t *testing.T) {
	s := newFakeStore()
	a := newReplica(t, s)
	ch := a.h.SubscribeForTest("job-1")
	// Its own look-up of the store comes back empty first.
	waitFor(t, func() bool { return a.bus.loads.Load() == 1 && !a.h.LookingUpForTest("job-1") })
	hold := make(chan struct{})
	a.bus.holdLoads(hold)
	t.Cleanup(func() { close(hold) }) // before the handler closes: a Load held would hold Close
	mustDeliver(t, a.h, busEvent("job-1", sharpapi.JobStatusSuccess))
	if ev := within(t, ch); ev.ID != "job-1" || ev.Status != sharpapi.JobStatusSuccess {
		t.Fatalf("got %+v", ev)
	}
	if a.h.LookingUpForTest("job-1") || a.bus.entered.Load() != 1 {
		t.Errorf("the replica that stored the event looks it up in the store (%d Loads begun); want no look-up", a.bus.entered.Load())
	}
}

// A notification that comes while this replica's own Store of the job's
// event runs, and that Store fails (or finds the event stored already),
// is passed on when the Store ends: the waiter here loads the event that
// another replica stored.
func TestEventBusNotificationDuringAFailedStoreIsPassedOn(t *testing.T) {
	s := newFakeStore()
	a := newReplica(t, s)
	ch := a.h.SubscribeForTest("job-2")
	waitFor(t, func() bool { return a.bus.loads.Load() == 1 && !a.h.LookingUpForTest("job-2") })
	raw, err := json.Marshal(eventbus.Event{ID: "job-2", Status: "failed", Type: "content_translate"})
	if err != nil {
		t.Fatal(err)
	}
	a.bus.during = func() { // another replica stores it; this one's Store fails
		s.mu.Lock()
		s.events["job-2"] = raw
		s.storeErr = errors.New("connection reset")
		s.mu.Unlock()
		a.bus.notify("job-2")
	}
	if code := deliver(a.h, busEvent("job-2", sharpapi.JobStatusSuccess)); code != http.StatusServiceUnavailable {
		t.Errorf("delivery answered %d; want 503", code)
	}
	if ev := within(t, ch); ev.ID != "job-2" || ev.Status != sharpapi.JobStatusFailed {
		t.Fatalf("got %+v; want the stored failed event", ev)
	}
}
