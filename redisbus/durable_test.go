package redisbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/observe"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// Durable completion: replicas sharing one Redis with the ledger on,
// against the emulator. Durations are short and configurable; every wait
// is on a channel or a condition, bounded so that a broken build fails
// instead of hanging.

// fleet is the emulator and the replicas of one service sharing a Redis,
// with an OnEvent hook that records every call cluster-wide.
type fleet struct {
	t    testing.TB
	emu  *sharpapitest.Server
	addr string
	// cluster, when set, holds the seed addresses of a Redis Cluster the
	// replicas use instead of addr.
	cluster []string
	prefix  string
	calls   chan hookCall // every OnEvent call of a terminal event

	mu     sync.Mutex
	hooked map[string][]hookCall // job id → its OnEvent calls
}

type hookCall struct {
	replica string
	ev      sharpapi.WebhookEvent
	at      time.Time
}

func (c hookCall) String() string {
	return fmt.Sprintf("{%s: %s %s %q}", c.replica, c.ev.ID, c.ev.Status, content(c.ev))
}

// content is a successful translation event's content, or its status.
func content(ev sharpapi.WebhookEvent) string {
	var res sharpapi.TranslateResult
	if ev.Status != sharpapi.JobStatusSuccess || ev.Decode(&res) != nil {
		return "(" + string(ev.Status) + ")"
	}
	return res.Content
}

// member configures one replica of a fleet.
type member struct {
	name   string
	grace  time.Duration // the client's webhook grace; default 1 h
	ledger sharpapi.LedgerConfig
	// hook runs after the call is recorded, and its error is OnEvent's.
	hook func(ctx context.Context, ev sharpapi.WebhookEvent) error
	log  *slog.Logger
	// clientName names the replica's Redis connections (CLIENT SETNAME).
	clientName string
	// observer, if set, observes the replica's handler.
	observer observe.Observer
	// baseURL, if set, is the client's SharpAPI URL instead of the
	// emulator's (a proxy in front of it).
	baseURL string
	// apiKeys, if set, are the API keys of the replica's clients, all
	// built with its handler (default one client, key "e2e-key").
	apiKeys []string
	// redisHook, if set, sees every command of the replica's Redis client.
	redisHook redis.Hook
}

// fastLedger has sweeps and retries in milliseconds, and leases long
// enough that a loaded machine does not expire them by accident.
func fastLedger() sharpapi.LedgerConfig {
	return sharpapi.LedgerConfig{SweepInterval: 10 * time.Millisecond, ClaimLease: 10 * time.Second,
		HookLease: 5 * time.Second, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond}
}

func newFleet(t testing.TB, addr string, jobs int, emuOpts ...sharpapitest.Option) *fleet {
	t.Helper()
	f := &fleet{t: t, addr: addr, prefix: testPrefix(t), calls: make(chan hookCall, 2*jobs+100), hooked: make(map[string][]hookCall)}
	f.emu = sharpapitest.NewServer(append([]sharpapitest.Option{
		sharpapitest.WithWebhookSecret(e2eSecret),
		sharpapitest.WithJobDuration(time.Millisecond),
		sharpapitest.WithRetryAfter(time.Millisecond),
		sharpapitest.WithWebhookRetryDelay(time.Millisecond),
		sharpapitest.WithRateLimit(1<<30, time.Minute),
		sharpapitest.WithRecordLimit(10),
		sharpapitest.WithResult(string(sharpapi.JobTypeContentTranslate), func(req sharpapitest.JobRequest) (any, error) {
			return map[string]string{"content": "<" + req.Text("content") + ">", "to_language": "Italian"}, nil
		}),
	}, emuOpts...)...)
	t.Cleanup(f.emu.Close)
	return f
}

// start starts one replica: its own Redis client, bus, handler (with the
// ledger's settings), HTTP server and client.
func (f *fleet) start(m member) *replica {
	t := f.t
	t.Helper()
	r := &replica{}
	if f.cluster != nil {
		r.rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: f.cluster, ContextTimeoutEnabled: true,
			Dialer: r.gate.dial, ClientName: m.clientName, DialerRetries: 1})
	} else {
		r.rdb = redis.NewClient(&redis.Options{Addr: f.addr, ContextTimeoutEnabled: true, Dialer: r.gate.dial,
			ClientName: m.clientName, DialerRetries: 1})
	}
	t.Cleanup(func() { r.rdb.Close() })
	if m.redisHook != nil {
		r.rdb.AddHook(m.redisHook)
	}
	bus, err := New(r.rdb, WithKeyPrefix(f.prefix))
	if err != nil {
		t.Fatal(err)
	}
	r.bus = bus
	opts := []sharpapi.WebhookOption{sharpapi.WithEventBus(bus), sharpapi.WithLedgerConfig(m.ledger),
		sharpapi.OnEvent(func(ctx context.Context, ev sharpapi.WebhookEvent) error {
			if ev.Status.Terminal() {
				call := hookCall{replica: m.name, ev: ev, at: time.Now()}
				f.mu.Lock()
				f.hooked[ev.ID] = append(f.hooked[ev.ID], call)
				f.mu.Unlock()
				f.calls <- call
			}
			if m.hook != nil {
				return m.hook(ctx, ev)
			}
			return nil
		})}
	if m.log != nil {
		opts = append(opts, sharpapi.WithLogger(m.log))
	}
	if m.observer != nil {
		opts = append(opts, sharpapi.WithObserver(observerOf{m.observer}))
	}
	r.hooks, err = sharpapi.NewWebhookHandler(e2eSecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.hooks.Close() })
	r.srv = httptest.NewServer(r.hooks)
	t.Cleanup(r.srv.Close)
	grace := m.grace
	if grace == 0 {
		grace = time.Hour
	}
	base := f.emu.URL
	if m.baseURL != "" {
		base = m.baseURL
	}
	copts := []sharpapi.Option{
		sharpapi.WithBaseURL(base),
		sharpapi.WithWebhookHandler(r.hooks),
		sharpapi.WithWebhookGrace(grace),
		sharpapi.WithPollInterval(5 * time.Millisecond),
		sharpapi.WithMaxRetries(10),
		sharpapi.WithRetryWait(time.Millisecond, 5*time.Millisecond),
	}
	if m.log != nil {
		copts = append(copts, sharpapi.WithLogger(m.log))
	}
	keys := m.apiKeys
	if len(keys) == 0 {
		keys = []string{"e2e-key"}
	}
	for _, key := range keys {
		c, err := sharpapi.NewClient(key, copts...)
		if err != nil {
			t.Fatal(err)
		}
		r.clients = append(r.clients, c)
	}
	r.client = r.clients[0]
	return r
}

// deadDispatcher starts replica "a", with no sweeper of its own (its sweeps
// would complete some jobs before it goes), has it dispatch n jobs whose
// webhooks the fleet's emulator drops, and kills it: the jobs are left to
// the ledger and another replica's sweeper.
func (f *fleet) deadDispatcher(n int) (*replica, []string) {
	noSweep := fastLedger()
	noSweep.NoSweeper = true
	a := f.start(member{name: "a", grace: time.Millisecond, ledger: noSweep})
	ids := f.dispatchAll(a, nil, n)
	f.kill(a, "")
	return a, ids
}

// kill stops a replica as a crash would, as far as a test in one process
// can: no more connections to Redis, its own cut, its webhooks refused,
// its handler (and so its sweeper and lease renewals) stopped. Its hooks
// still running stay blocked until the test lets them go.
func (f *fleet) kill(r *replica, name string) {
	f.t.Helper()
	r.gate.set(true)
	if name != "" {
		killClients(f.t, f.addr, name)
	}
	r.srv.Close()
	r.hooks.Close()
}

// killClients cuts every Redis connection named name.
func killClients(t testing.TB, addr, name string) {
	t.Helper()
	needRealRedis(t) // miniredis has no CLIENT LIST
	admin := newClient(t, addr)
	list, err := admin.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(list, "\n") {
		var id, n string
		for _, kv := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(kv, "id="); ok {
				id = v
			} else if v, ok := strings.CutPrefix(kv, "name="); ok {
				n = v
			}
		}
		if n == name && id != "" {
			admin.Do(t.Context(), "CLIENT", "KILL", "ID", id)
		}
	}
}

// dispatchAll dispatches a translation of "job i" for each i < n from
// replica from (its webhook going to to's URL, when to is not nil) with 16
// workers, and returns the job ids by i.
func (f *fleet) dispatchAll(from, to *replica, n int) []string {
	f.t.Helper()
	url := "http://127.0.0.1:1/hooks/sharpapi" // dropped or refused: no replica hears it
	if to != nil {
		url = to.srv.URL + "/hooks/sharpapi"
	}
	ids := make([]string, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				job, err := from.client.Translate(context.Background(), sharpapi.TranslateParams{Content: "job " + strconv.Itoa(i), Language: "Italian"},
					sharpapi.WithWebhook(url))
				if err != nil {
					f.t.Error(err)
					continue
				}
				ids[i] = job.ID()
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if f.t.Failed() {
		f.t.FailNow()
	}
	return ids
}

// awaitHooks receives OnEvent calls until every id in ids has had one.
func (f *fleet) awaitHooks(ids []string) {
	f.t.Helper()
	left := make(map[string]bool, len(ids))
	for _, id := range ids {
		left[id] = true
	}
	for len(left) > 0 {
		c := recv(f.t, f.calls, fmt.Sprintf("OnEvent for %d more jobs", len(left)))
		delete(left, c.ev.ID)
	}
}

// ledgerEmpties waits until no entry is pending: every job acked.
func (f *fleet) ledgerEmpties(b *Bus) {
	f.t.Helper()
	waitFor(f.t, "the ledger to empty", func() bool {
		st, err := b.LedgerStats(context.Background(), time.Now())
		return err == nil && st.Pending == 0
	})
}

// checkOnceEach checks that each job in ids (job i translating "job i")
// reached OnEvent exactly once in the fleet, with its own result, and
// returns how many calls each replica made.
func (f *fleet) checkOnceEach(ids []string) map[string]int {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	by := map[string]int{}
	bad := 0
	for i, id := range ids {
		calls := f.hooked[id]
		want := "<job " + strconv.Itoa(i) + ">"
		if len(calls) != 1 || content(calls[0].ev) != want {
			if bad++; bad <= 5 {
				f.t.Errorf("job %d (%s): %d OnEvent calls %v; want one with %q", i, id, len(calls), calls, want)
			}
			continue
		}
		by[calls[0].replica]++
	}
	if bad > 0 {
		f.t.Errorf("%d of %d jobs did not reach OnEvent exactly once with their result", bad, len(ids))
	}
	return by
}

func (f *fleet) polls(ids []string) int {
	n := 0
	for _, id := range ids {
		info, _ := f.emu.Job(id)
		n += info.Polls
	}
	return n
}

func sumLedger(rs []*replica, field func(observe.LedgerCounts) uint64) uint64 {
	var n uint64
	for _, r := range rs {
		n += field(r.hooks.Stats().Ledger)
	}
	return n
}

// TestLedgerCompletesLostWebhooksOfADeadDispatcher: replica a dispatches
// 1000 jobs whose webhooks are all dropped and goes away without awaiting
// any; replica b, started afterwards on the same Redis, completes every job
// from the ledger: each reaches b's OnEvent once, with its result, polled
// once, in the sweep that first found it overdue (claimed once).
func TestLedgerCompletesLostWebhooksOfADeadDispatcher(t *testing.T) {
	const n = 1000
	ledgerCompletesLostWebhooksOfADeadDispatcher(t, newFleet(t, testAddr, n, sharpapitest.WithDropRate(1)), n)
}

// ledgerCompletesLostWebhooksOfADeadDispatcher is the test's body, on f
// (whose emulator drops every webhook) with n jobs.
func ledgerCompletesLostWebhooksOfADeadDispatcher(t *testing.T, f *fleet, n int) {
	noSweep := fastLedger()
	noSweep.NoSweeper = true // a's own sweeps would complete some jobs before it goes
	a := f.start(member{name: "a", grace: 50 * time.Millisecond, ledger: noSweep})
	ids := f.dispatchAll(a, nil, n)
	if st := a.hooks.Stats().Ledger; st.Recorded != uint64(n) || st.RecordErrors != 0 {
		t.Fatalf("a recorded %d jobs, %d errors; want %d, 0", st.Recorded, st.RecordErrors, n)
	}
	a.srv.Close()
	a.hooks.Close()
	b := f.start(member{name: "b", ledger: fastLedger()})
	f.awaitHooks(ids)
	f.ledgerEmpties(b.bus)
	waitFor(t, "every ack to be counted", func() bool { return b.hooks.Stats().Ledger.Acked >= uint64(n) })
	if by := f.checkOnceEach(ids); by["b"] != n {
		t.Errorf("OnEvent calls by replica: %v; want all %d on b", by, n)
	}
	st := b.hooks.Stats().Ledger
	if st.Claimed != uint64(n) || st.Polls != uint64(n) || st.Completed != uint64(n) || st.Acked != uint64(n) {
		t.Errorf("b's ledger counts %+v; want %d claimed, polled, completed and acked: each job once", st, n)
	}
	if p := f.polls(ids); p != n {
		t.Errorf("%d status polls for %d jobs; want one each", p, n)
	}
}

// TestLedgerWebhooksInTimeCostNoPoll: with webhooks arriving (on a replica
// other than the dispatcher's), every entry is acked by its webhook's path:
// the sweepers, running all along, claim nothing and poll nothing, and the
// ledger ends empty.
func TestLedgerWebhooksInTimeCostNoPoll(t *testing.T) {
	const n = 300
	ledgerWebhooksInTimeCostNoPoll(t, newFleet(t, testAddr, n), n)
}

// ledgerWebhooksInTimeCostNoPoll is the test's body, on f with n jobs (a
// multiple of 3).
func ledgerWebhooksInTimeCostNoPoll(t *testing.T, f *fleet, n int) {
	rs := []*replica{
		f.start(member{name: "a", ledger: fastLedger()}),
		f.start(member{name: "b", ledger: fastLedger()}),
		f.start(member{name: "c", ledger: fastLedger()}),
	}
	var ids []string
	for i, r := range rs {
		ids = append(ids, f.dispatchAll(r, rs[(i+1)%3], n/3)...)
	}
	f.awaitHooks(ids)
	f.ledgerEmpties(rs[0].bus)
	waitFor(t, "every ack to be counted", func() bool {
		return sumLedger(rs, func(c observe.LedgerCounts) uint64 { return c.Acked }) >= uint64(n)
	})
	sweeps := sumLedger(rs, func(c observe.LedgerCounts) uint64 { return c.Sweeps })
	waitFor(t, "every replica to sweep again", func() bool {
		return sumLedger(rs, func(c observe.LedgerCounts) uint64 { return c.Sweeps }) >= sweeps+6
	})
	f.mu.Lock()
	for i, id := range ids {
		calls := f.hooked[id]
		want := "<job " + strconv.Itoa(i%(n/3)) + ">"
		if len(calls) != 1 || content(calls[0].ev) != want {
			t.Errorf("job %s: OnEvent calls %v; want one with %q", id, calls, want)
		}
	}
	f.mu.Unlock()
	if p := f.polls(ids); p != 0 {
		t.Errorf("%d status polls; want 0", p)
	}
	for _, field := range []struct {
		name string
		get  func(observe.LedgerCounts) uint64
		want uint64
	}{
		{"Recorded", func(c observe.LedgerCounts) uint64 { return c.Recorded }, uint64(n)},
		{"Acked", func(c observe.LedgerCounts) uint64 { return c.Acked }, uint64(n)},
		{"Claimed", func(c observe.LedgerCounts) uint64 { return c.Claimed }, 0},
		{"Polls", func(c observe.LedgerCounts) uint64 { return c.Polls }, 0},
		{"HookRedeliveries", func(c observe.LedgerCounts) uint64 { return c.HookRedeliveries }, 0},
	} {
		if got := sumLedger(rs, field.get); got != field.want {
			t.Errorf("%s over the replicas: %d; want %d", field.name, got, field.want)
		}
	}
}

// TestLedgerOwnerPollRacesTheSweepers: the dispatcher lives and awaits its
// jobs, whose webhooks are lost; its own poll after the grace period and
// the sweepers (its own and another replica's) race for each job. Each job
// still reaches OnEvent once in the fleet, and the await on the
// dispatcher gets its result once.
func TestLedgerOwnerPollRacesTheSweepers(t *testing.T) {
	const n = 200
	f := newFleet(t, testAddr, n, sharpapitest.WithDropRate(1))
	a := f.start(member{name: "a", grace: 20 * time.Millisecond, ledger: fastLedger()})
	b := f.start(member{name: "b", ledger: fastLedger()})
	type outcome struct {
		i   int
		res sharpapi.TranslateResult
		err error
	}
	done := make(chan outcome, 2*n)
	ids := make([]string, n)
	for i := range n {
		job, err := a.client.Translate(t.Context(), sharpapi.TranslateParams{Content: "job " + strconv.Itoa(i), Language: "Italian"},
			sharpapi.WithWebhook(a.srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = job.ID()
		job.OnDone(t.Context(), func(res sharpapi.TranslateResult, err error) { done <- outcome{i, res, err} })
	}
	got := make([]int, n)
	for range n {
		o := recv(t, done, "an await's outcome")
		got[o.i]++
		if want := "<job " + strconv.Itoa(o.i) + ">"; o.err != nil || o.res.Content != want {
			t.Errorf("job %d: %+v, %v; want %q", o.i, o.res, o.err, want)
		}
	}
	f.awaitHooks(ids)
	f.ledgerEmpties(b.bus)
	by := f.checkOnceEach(ids)
	for i, k := range got {
		if k != 1 {
			t.Errorf("job %d: the await finished %d times", i, k)
		}
	}
	select {
	case o := <-done:
		t.Errorf("an await finished twice: job %d", o.i)
	default:
	}
	sa, sb := a.hooks.Stats().Ledger, b.hooks.Stats().Ledger
	t.Logf("OnEvent by replica %v; sweepers completed a %d, b %d; the rest by a's own polls", by, sa.Completed, sb.Completed)
}

// TestLedgerClaimOfADeadReplicaExpires: a replica claims every overdue
// entry and dies holding the claims; another replica completes the jobs
// once the claims' lease has ended, not before.
func TestLedgerClaimOfADeadReplicaExpires(t *testing.T) {
	const n = 20
	f := newFleet(t, testAddr, n, sharpapitest.WithDropRate(1))
	_, ids := f.deadDispatcher(n)
	dead, err := New(newClient(t, testAddr), WithKeyPrefix(f.prefix))
	if err != nil {
		t.Fatal(err)
	}
	until := map[string]time.Time{} // job id → the end of the dead replica's claim
	waitFor(t, "the dead replica to claim every job", func() bool {
		now := time.Now()
		cs, err := (protocol{dead}).Claim(context.Background(), now, now.Add(300*time.Millisecond), n)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			until[c.ID] = now.Add(300 * time.Millisecond)
		}
		return len(until) == n
	})
	b := f.start(member{name: "b", ledger: fastLedger()})
	f.awaitHooks(ids)
	f.ledgerEmpties(b.bus)
	if by := f.checkOnceEach(ids); by["b"] != n {
		t.Errorf("OnEvent calls by replica: %v; want all %d on b", by, n)
	}
	f.mu.Lock()
	for _, id := range ids {
		// Scores are whole milliseconds: the claim ends at until's.
		if c := f.hooked[id]; len(c) > 0 && c[0].at.Before(time.UnixMilli(until[id].UnixMilli())) {
			t.Errorf("job %s reached OnEvent at %v, before the dead replica's claim ended at %v", id, c[0].at, until[id])
		}
	}
	f.mu.Unlock()
	if st := b.hooks.Stats().Ledger; st.Claimed != n {
		t.Errorf("b claimed %d entries; want %d, each once its lease was over", st.Claimed, n)
	}
}

// TestLedgerReplicaDiesInsideOnEvent: the replica that stored a job's event
// dies while its OnEvent blocks (its handler closed, its Redis connections
// cut, so it neither renews its lease nor acks): once the lease ends,
// another replica offers the event to OnEvent again. OnEvent has run twice
// for the job: at least once, as documented.
func TestLedgerReplicaDiesInsideOnEvent(t *testing.T) {
	f := newFleet(t, testAddr, 4)
	entered := make(chan struct{}, 1)
	unblock := make(chan struct{})
	defer close(unblock)
	short := fastLedger()
	short.HookLease = time.Second
	a := f.start(member{name: "a", clientName: "replica-a-" + f.prefix, ledger: short,
		hook: func(ctx context.Context, ev sharpapi.WebhookEvent) error {
			entered <- struct{}{}
			<-unblock // ignores ctx: a hook stuck in a database call
			return nil
		}})
	b := f.start(member{name: "b", ledger: short})
	ids := f.dispatchAll(b, a, 1) // b dispatches, the webhook lands on a
	recv(t, entered, "a's OnEvent to start")
	f.kill(a, "replica-a-"+f.prefix)
	first := recv(t, f.calls, "a's OnEvent call")
	second := recv(t, f.calls, "OnEvent offered again")
	if first.replica != "a" || second.replica != "b" || second.ev.ID != ids[0] || string(second.ev.Result) != string(first.ev.Result) {
		t.Errorf("OnEvent calls: %+v then %+v; want a's, then b's with the same event", first, second)
	}
	f.ledgerEmpties(b.bus)
	waitFor(t, "b's ack to be counted", func() bool { return b.hooks.Stats().Ledger.Acked >= 1 })
	st := b.hooks.Stats().Ledger
	if st.HookRedeliveries != 1 || st.Acked != 1 || st.Completed != 1 || st.Polls != 0 {
		t.Errorf("b's ledger counts %+v; want 1 redelivery, completed from the store (no poll) and acked", st)
	}
}

// TestLedgerOnEventErrorIsOfferedAgain: an error or a panic in OnEvent
// releases the event to be offered again after the backoff, until OnEvent
// returns nil; a hook that never succeeds is given up after MaxHookRuns.
func TestLedgerOnEventErrorIsOfferedAgain(t *testing.T) {
	f := newFleet(t, testAddr, 10)
	var runs sync.Map // job id → *atomic.Int32
	cfg := fastLedger()
	cfg.MaxHookRuns = 3
	a := f.start(member{name: "a", ledger: cfg, hook: func(ctx context.Context, ev sharpapi.WebhookEvent) error {
		v, _ := runs.LoadOrStore(ev.ID, new(atomic.Int32))
		run := v.(*atomic.Int32).Add(1)
		switch {
		case ev.Type == "never":
			return errors.New("database down")
		case run == 1:
			return errors.New("database down")
		case run == 2:
			panic("a bug")
		}
		return nil
	}})
	ids := f.dispatchAll(a, a, 1)
	for range 3 {
		recv(t, f.calls, "an OnEvent call")
	}
	// A job that OnEvent never takes: stored by a signed webhook.
	body := []byte(`{"id":"never-ok","status":"success","type":"never","result":{"content":"x"}}`)
	if code := post(t, a, body, sharpapitest.Sign(body, e2eSecret)); code != 200 {
		t.Fatalf("delivery answered %d", code)
	}
	for range 3 {
		recv(t, f.calls, "an OnEvent call of the failing job")
	}
	f.ledgerEmpties(a.bus)
	waitFor(t, "the ack and the give-up to be counted", func() bool {
		st := a.hooks.Stats().Ledger
		return st.Acked >= 1 && st.GaveUp >= 1
	})
	f.mu.Lock()
	if c := len(f.hooked[ids[0]]); c != 3 {
		t.Errorf("OnEvent ran %d times for the job; want 3 (error, panic, nil)", c)
	}
	if c := len(f.hooked["never-ok"]); c != 3 {
		t.Errorf("OnEvent ran %d times for the failing job; want MaxHookRuns = 3", c)
	}
	f.mu.Unlock()
	st := a.hooks.Stats()
	if st.Ledger.HookRedeliveries != 4 || st.Ledger.GaveUp != 1 || st.Ledger.Acked != 1 || st.HookErrors != 4 || st.CallbackPanics != 1 {
		t.Errorf("stats: ledger %+v, hook errors %d, panics %d; want 4 redeliveries, 1 given up, 1 acked, 4 errors, 1 panic",
			st.Ledger, st.HookErrors, st.CallbackPanics)
	}
}

// TestLedgerGivesUp: an entry older than MaxAge, and one SharpAPI does not
// know (404), are given up: one Warn each, counted, kept in the dead set,
// and never handed to OnEvent.
func TestLedgerGivesUp(t *testing.T) {
	f := newFleet(t, testAddr, 4)
	var logs logRecorder
	cfg := fastLedger()
	cfg.MaxAge = time.Hour
	now := time.Now()
	recorder, err := New(newClient(t, testAddr), WithKeyPrefix(f.prefix))
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []eventbus.PendingJob{
		{ID: "too-old", Dispatched: now.Add(-2 * time.Hour), Due: now, Expires: now.Add(time.Hour)},
		{ID: "unknown", Dispatched: now, Due: now, Expires: now.Add(time.Hour)},
	} {
		if err := (protocol{recorder}).Record(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	a := f.start(member{name: "a", ledger: cfg, log: slog.New(&logs)})
	waitFor(t, "both to be given up", func() bool { return a.hooks.Stats().Ledger.GaveUp >= 2 })
	st, err := a.bus.LedgerStats(t.Context(), time.Now())
	if err != nil || st.Dead != 2 {
		t.Errorf("ledger %+v (%v); want 2 dead", st, err)
	}
	if got := logs.messages(slog.LevelWarn, "gave up"); len(got) != 2 {
		t.Errorf("Warn lines about giving up: %q; want 2", got)
	}
	if c := a.hooks.Stats().Ledger.Polls; c != 1 {
		t.Errorf("%d polls; want 1 (the unknown job's; the old one is given up unpolled)", c)
	}
	select {
	case c := <-f.calls:
		t.Errorf("OnEvent ran for %+v", c)
	default:
	}
}

// TestLedgerRecordFailsWhileRedisIsDown: a dispatch while Redis is
// unreachable still returns its job; the miss is counted and warned about
// once per outage, and the job's own await polls after the grace period.
func TestLedgerRecordFailsWhileRedisIsDown(t *testing.T) {
	f := newFleet(t, testAddr, 10, sharpapitest.WithDropRate(1))
	var logs logRecorder
	cfg := fastLedger()
	cfg.NoSweeper = true
	name := "replica-a-" + f.prefix
	a := f.start(member{name: "a", clientName: name, grace: 10 * time.Millisecond, ledger: cfg, log: slog.New(&logs)})
	down := func() { // new connections refused, the open ones cut
		a.gate.set(true)
		killClients(t, testAddr, name)
	}
	dispatch := func(text string) *sharpapi.Job[sharpapi.TranslateResult] {
		job, err := a.client.Translate(t.Context(), sharpapi.TranslateParams{Content: text, Language: "Italian"}, sharpapi.WithWebhook(a.srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		return job
	}
	warned := func() int { return len(logs.messages(slog.LevelWarn, "recording dispatched jobs")) }
	down()
	var jobs []*sharpapi.Job[sharpapi.TranslateResult]
	for i := range 3 {
		jobs = append(jobs, dispatch("down "+strconv.Itoa(i)))
	}
	if st := a.hooks.Stats().Ledger; st.RecordErrors != 3 || st.Recorded != 0 || warned() != 1 {
		t.Errorf("record errors %d, recorded %d, %d Warns; want 3, 0, 1", st.RecordErrors, st.Recorded, warned())
	}
	for i, job := range jobs {
		res, err := job.Wait(t.Context())
		if want := "<down " + strconv.Itoa(i) + ">"; err != nil || res.Content != want {
			t.Errorf("job %d: %+v, %v; want %q from its own poll", i, res, err, want)
		}
	}
	a.gate.set(false)
	dispatch("up")
	// The outbox follows the first record that works: 1 + 3.
	waitFor(t, "the outbox to be recorded", func() bool { return a.hooks.Stats().Ledger.Recorded >= 4 })
	if st := a.hooks.Stats().Ledger; st.Recorded != 4 || len(logs.messages(slog.LevelInfo, "ledger works again")) != 1 {
		t.Errorf("recorded %d, Info lines %q; want 4 and one saying it works again", st.Recorded, logs.messages(slog.LevelInfo, "ledger works again"))
	}
	down()
	dispatch("down again")
	if n := warned(); n != 2 {
		t.Errorf("%d Warns after the second outage; want 2: one per outage", n)
	}
}

// TestLedgerAcrossARedisRestart: jobs whose webhooks were lost, dispatched
// by a replica that is gone, and Redis restarts before another replica
// sweeps. Without persistence the ledger is lost with everything else:
// none of those jobs reaches OnEvent (their results stay at SharpAPI).
// With AOF (appendfsync always here; everysec risks the last second),
// nothing is lost: every job reaches OnEvent once.
func TestLedgerAcrossARedisRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		lost bool
	}{
		{"no persistence", nil, true},
		{"appendonly", []string{"--appendonly", "yes", "--appendfsync", "always"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 50
			srv := ownRedis(t, tc.args...)
			f := newFleet(t, srv.addr, n, sharpapitest.WithDropRate(1))
			_, ids := f.deadDispatcher(n)
			srv.restart(t)
			b := f.start(member{name: "b", ledger: fastLedger()})
			if tc.lost {
				// b sweeps a few times and finds nothing: the jobs are lost.
				waitFor(t, "b to sweep", func() bool { return b.hooks.Stats().Ledger.Sweeps >= 5 })
				st, err := b.bus.LedgerStats(t.Context(), time.Now())
				if err != nil || st.Pending != 0 {
					t.Errorf("ledger after the restart: %+v (%v); want empty", st, err)
				}
				if st := b.hooks.Stats().Ledger; st.Claimed != 0 {
					t.Errorf("b claimed %d entries; want 0", st.Claimed)
				}
				select {
				case c := <-f.calls:
					t.Errorf("OnEvent ran for %s; the ledger should be gone", c.ev.ID)
				default:
				}
				return
			}
			f.awaitHooks(ids)
			f.ledgerEmpties(b.bus)
			if by := f.checkOnceEach(ids); by["b"] != n {
				t.Errorf("OnEvent calls by replica: %v; want all %d on b", by, n)
			}
		})
	}
}

// logRecorder is a slog.Handler that keeps every record's level and
// message.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// attrs returns the attributes, as text, of the records logged at level
// whose message contains sub.
func (l *logRecorder) attrs(level slog.Level, sub string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, r := range l.recs {
		if r.Level == level && strings.Contains(r.Message, sub) {
			r.Attrs(func(a slog.Attr) bool {
				b.WriteString(a.String() + " ")
				return true
			})
		}
	}
	return b.String()
}

// messages returns the messages logged at level that contain sub.
func (l *logRecorder) messages(level slog.Level, sub string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.recs {
		if r.Level == level && strings.Contains(r.Message, sub) {
			out = append(out, r.Message)
		}
	}
	return slices.Clip(out)
}

// observerOf gives a test's observer to sharpapi.WithObserver.
type observerOf struct{ o observe.Observer }

func (p observerOf) Observer() observe.Observer { return p.o }
