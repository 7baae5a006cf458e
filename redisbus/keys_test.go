package redisbus

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/observe"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// accountsAPI is a proxy in front of the emulator that keeps accounts
// apart as SharpAPI does: a job's status, asked for with another API key
// than the one that dispatched it, is answered 404.
type accountsAPI struct {
	*httptest.Server
	mu        sync.Mutex
	owner     map[string]string // job id → the Authorization that dispatched it
	notFounds atomic.Int32
}

func newAccountsAPI(t *testing.T, emu string) *accountsAPI {
	t.Helper()
	target, err := url.Parse(emu)
	if err != nil {
		t.Fatal(err)
	}
	api := &accountsAPI{owner: map[string]string{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodPost {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var d struct {
			JobID string `json:"job_id"`
		}
		if json.Unmarshal(body, &d) == nil && d.JobID != "" {
			api.mu.Lock()
			api.owner[d.JobID] = resp.Request.Header.Get("Authorization")
			api.mu.Unlock()
		}
		return nil
	}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			api.mu.Lock()
			owner, known := api.owner[path.Base(r.URL.Path)]
			api.mu.Unlock()
			if known && owner != r.Header.Get("Authorization") {
				api.notFounds.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(`{"message":"Not found."}`))
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	return api
}

// TestLedgerPollsEachJobWithItsOwnKey: one replica's handler has clients
// with two API keys, and dispatches four jobs with each; their webhooks
// are lost and the replica goes. A replica with only key A's client
// completes A's jobs and leaves B's alone (never polling them with A's
// key, which SharpAPI answers 404); a replica with key B's client then
// completes B's. Each job reaches OnEvent once.
func TestLedgerPollsEachJobWithItsOwnKey(t *testing.T) {
	const n = 4
	f := newFleet(t, testAddr, 2*n, sharpapitest.WithDropRate(1))
	api := newAccountsAPI(t, f.emu.URL)
	noSweep := fastLedger()
	noSweep.NoSweeper = true
	a := f.start(member{name: "a", grace: time.Millisecond, ledger: noSweep, baseURL: api.URL, apiKeys: []string{"key-a", "key-b"}})
	byKey := make([][]string, 2)
	for k, c := range a.clients {
		for i := range n {
			job, err := c.Translate(t.Context(), sharpapi.TranslateParams{Content: "job " + strconv.Itoa(i), Language: "Italian"},
				sharpapi.WithWebhook("http://127.0.0.1:1/hooks/sharpapi"))
			if err != nil {
				t.Fatal(err)
			}
			byKey[k] = append(byKey[k], job.ID())
		}
	}
	f.kill(a, "")
	onlyA := f.start(member{name: "only-a", ledger: fastLedger(), baseURL: api.URL, apiKeys: []string{"key-a"}})
	f.awaitHooks(byKey[0])
	waitFor(t, "key B's jobs to be claimed and left", func() bool { return onlyA.hooks.Stats().Ledger.Claimed >= 2*n })
	if st := onlyA.hooks.Stats().Ledger; st.GaveUp != 0 || api.notFounds.Load() != 0 {
		t.Errorf("only-a's ledger counts %+v, %d answers 404; want nothing given up, no poll with the wrong key", st, api.notFounds.Load())
	}
	onlyB := f.start(member{name: "only-b", ledger: fastLedger(), baseURL: api.URL, apiKeys: []string{"key-b"}})
	f.awaitHooks(byKey[1])
	f.ledgerEmpties(onlyB.bus)
	for k, ids := range byKey {
		by := f.checkOnceEach(ids)
		if want := []string{"only-a", "only-b"}[k]; by[want] != n {
			t.Errorf("key %d's jobs: OnEvent calls by replica %v; want all %d on %s", k, by, n, want)
		}
	}
	if c := api.notFounds.Load(); c != 0 {
		t.Errorf("%d polls answered 404; want 0", c)
	}
}

// TestLedgerJobsDispatchedDuringAnOutageReachOnEvent: while Redis is
// unreachable, a replica dispatches three jobs whose webhooks are lost
// (their records fail: one Warn). Once Redis is back, the replica records
// them from its outbox, and each reaches OnEvent once, on the sweeper of
// another replica, though the dispatcher never awaits them.
func TestLedgerJobsDispatchedDuringAnOutageReachOnEvent(t *testing.T) {
	const n = 3
	f := newFleet(t, testAddr, n, sharpapitest.WithDropRate(1))
	var logs logRecorder
	cfg := fastLedger()
	cfg.NoSweeper = true
	name := "replica-a-" + f.prefix
	a := f.start(member{name: "a", clientName: name, grace: time.Millisecond, ledger: cfg, log: slog.New(&logs)})
	a.gate.set(true) // new connections refused, the open ones cut
	killClients(t, testAddr, name)
	ids := f.dispatchAll(a, nil, n)
	if st := a.hooks.Stats().Ledger; st.RecordErrors != n || len(logs.messages(slog.LevelWarn, "recording dispatched jobs")) != 1 {
		t.Fatalf("record errors %d, Warns %q; want %d and one", st.RecordErrors, logs.messages(slog.LevelWarn, "recording"), n)
	}
	a.gate.set(false)
	// The next dispatch records, and the outbox follows it.
	later := f.dispatchAll(a, nil, 1)
	b := f.start(member{name: "b", ledger: fastLedger()})
	f.awaitHooks(append(ids, later...))
	f.ledgerEmpties(b.bus)
	if by := f.checkOnceEach(ids); by["b"] != n {
		t.Errorf("OnEvent calls by replica: %v; want all %d on b", by, n)
	}
	if st := a.hooks.Stats().Ledger; st.Recorded != n+1 {
		t.Errorf("a recorded %d jobs; want %d: the outbox's and the later one", st.Recorded, n+1)
	}
	// Down again, and the handler closes before Redis is back: the job
	// left in the outbox is named once.
	a.gate.set(true)
	killClients(t, testAddr, name)
	lost := f.dispatchAll(a, nil, 1)
	a.hooks.Close()
	a.hooks.Close()
	got := logs.messages(slog.LevelWarn, "never recorded")
	if len(got) != 1 {
		t.Errorf("Warns about unrecorded jobs at Close: %q; want 1", got)
	}
	if attrs := logs.attrs(slog.LevelWarn, "never recorded"); !strings.Contains(attrs, lost[0]) {
		t.Errorf("the Warn at Close says %q; want it to name job %s", attrs, lost[0])
	}
}

// TestAnOutageIsSaidOnce: with Redis unreachable from a replica, five
// resumed jobs each fail to load their event, and a job dispatched
// meanwhile fails to record: the replica's logger gets one Warn per kind
// of failure, not one per job, and one Info once loads work again.
func TestAnOutageIsSaidOnce(t *testing.T) {
	const n = 5
	f := newFleet(t, testAddr, n+1)
	var logs logRecorder
	cfg := fastLedger()
	cfg.NoSweeper = true
	name := "replica-a-" + f.prefix
	a := f.start(member{name: "a", clientName: name, ledger: cfg, log: slog.New(&logs)})
	ids := f.dispatchAll(a, a, n)
	f.awaitHooks(ids) // every job done, its webhook stored
	a.gate.set(true)
	killClients(t, testAddr, name)
	for _, id := range ids {
		job, err := sharpapi.ResumeJob[sharpapi.TranslateResult](a.client, id, sharpapi.JobTypeContentTranslate)
		if err != nil {
			t.Fatal(err)
		}
		job.WaitAsync(t.Context())
	}
	waitFor(t, "every resumed job's load to fail", func() bool { return a.hooks.Stats().LoadErrors >= n })
	if _, err := a.client.Translate(t.Context(), sharpapi.TranslateParams{Content: "down", Language: "Italian"},
		sharpapi.WithWebhook("http://127.0.0.1:1/hooks/sharpapi")); err != nil { // no delivery: its 503 would warn too
		t.Fatal(err)
	}
	if got := logs.messages(slog.LevelWarn, ""); len(got) != 2 {
		t.Errorf("Warn lines during the outage: %q; want 2: loads fail, records fail", got)
	}
	a.gate.set(false)
	waitFor(t, "the loads to work again", func() bool { return len(logs.messages(slog.LevelInfo, "works again")) >= 1 })
	if got := logs.messages(slog.LevelWarn, ""); len(got) != 2 {
		t.Errorf("Warn lines after the outage: %q; want still 2", got)
	}
}

// TestWithoutLedgerKeepsNoLedger: a Bus built WithoutLedger offers the
// handler no ledger: a job dispatched with a webhook through it is
// delivered and reaches OnEvent once, and nothing is recorded (no ledger
// key in Redis, no ledger counts).
func TestWithoutLedgerKeepsNoLedger(t *testing.T) {
	rdb := newClient(t, testAddr)
	b := newBus(t, rdb, WithoutLedger())
	if _, ok := b.EventBus().(eventbus.Ledger); ok {
		t.Fatal("the bus offers a ledger")
	}
	emu := sharpapitest.NewServer(sharpapitest.WithWebhookSecret(e2eSecret), sharpapitest.WithJobDuration(time.Millisecond))
	t.Cleanup(emu.Close)
	hooked := make(chan string, 4)
	hooks, err := sharpapi.NewWebhookHandler(e2eSecret, sharpapi.WithEventBus(b),
		sharpapi.OnEvent(func(_ context.Context, ev sharpapi.WebhookEvent) error {
			if ev.Status.Terminal() {
				hooked <- ev.ID
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hooks.Close() })
	srv := httptest.NewServer(hooks)
	t.Cleanup(srv.Close)
	c, err := sharpapi.NewClient("key", sharpapi.WithBaseURL(emu.URL), sharpapi.WithWebhookHandler(hooks))
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.Translate(t.Context(), sharpapi.TranslateParams{Content: "x", Language: "Italian"}, sharpapi.WithWebhook(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if id := recv(t, hooked, "OnEvent"); id != job.ID() {
		t.Errorf("OnEvent for %s; want %s", id, job.ID())
	}
	for _, pattern := range []string{b.dueKey(), b.deadKey(), b.jobKeyPrefix() + "*"} {
		keys, err := rdb.Keys(t.Context(), pattern).Result()
		if err != nil || len(keys) != 0 {
			t.Errorf("ledger keys %q (%v); want none", keys, err)
		}
	}
	if st := hooks.Stats().Ledger; st != (observe.LedgerCounts{}) {
		t.Errorf("ledger counts %+v; want zero", st)
	}
}

// TestLedgerLiveDispatcherCostsOnePoll: a dispatcher that lives and
// awaits its jobs, whose webhooks are lost, keeps another replica's
// sweeper (sweeping every 10 ms) off them: each job is polled once, by
// its await after the grace period, and reaches OnEvent once.
func TestLedgerLiveDispatcherCostsOnePoll(t *testing.T) {
	const n = 20
	f := newFleet(t, testAddr, n, sharpapitest.WithDropRate(1))
	cfg := fastLedger()
	// Its heartbeat reaches 300 ms ahead, and comes every 50-150 ms plus
	// the sweep's time: a loaded machine has 150 ms of slack.
	cfg.SweepInterval = 100 * time.Millisecond
	a := f.start(member{name: "a", grace: 300 * time.Millisecond, ledger: cfg})
	b := f.start(member{name: "b", ledger: fastLedger()})
	done := make(chan error, n)
	ids := make([]string, n)
	for i := range n {
		job, err := a.client.Translate(t.Context(), sharpapi.TranslateParams{Content: "job " + strconv.Itoa(i), Language: "Italian"},
			sharpapi.WithWebhook("http://127.0.0.1:1/hooks/sharpapi"))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = job.ID()
		job.OnDone(t.Context(), func(_ sharpapi.TranslateResult, err error) { done <- err })
	}
	for range n {
		if err := recv(t, done, "an await's outcome"); err != nil {
			t.Error(err)
		}
	}
	f.awaitHooks(ids)
	f.ledgerEmpties(b.bus)
	f.checkOnceEach(ids)
	if p := f.polls(ids); p != n {
		t.Errorf("%d status polls for %d jobs; want one each (b's ledger counts %+v)", p, n, b.hooks.Stats().Ledger)
	}
}
