package redisbus

import (
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// The sweeper under jobs that misbehave: none of them may hold back the
// others.

// hangingAPI is a proxy in front of the emulator whose answers for the
// status of the job ids in hang never come (until the test ends), and
// whose answers for the ids in huge are a 200 of size bytes.
type hangingAPI struct {
	*httptest.Server
	hung atomic.Int32 // requests that hung so far
}

func newHangingAPI(t *testing.T, emu string, hang, huge []string, size int) *hangingAPI {
	t.Helper()
	target, err := url.Parse(emu)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // requests cut by a closing handler
	release := make(chan struct{})
	api := &hangingAPI{}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, id := range hang {
			if strings.Contains(r.URL.Path, id) {
				api.hung.Add(1)
				<-release // ignores the request's context, as a stuck server would
				return
			}
		}
		for _, id := range huge {
			if strings.Contains(r.URL.Path, id) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"data":{"id":"` + id + `","type":"content_translate","attributes":{"status":"success","result":"`))
				w.Write([]byte(strings.Repeat("x", size)))
				w.Write([]byte(`"}}}`))
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	// Cleanups run last first: the hung handlers return, then the server
	// closes.
	t.Cleanup(api.Close)
	t.Cleanup(func() { close(release) })
	return api
}

// TestLedgerHungPollHoldsBackNoOtherJob: among 40 overdue jobs (webhooks
// lost, dispatcher gone), one whose status URL never answers is the first
// due. A sweeper polling 5 at a time completes every other job (each
// reaches OnEvent once, with its result), and the hung job, timed out,
// is rescheduled and polled again rather than holding its slot.
func TestLedgerHungPollHoldsBackNoOtherJob(t *testing.T) {
	const n = 40
	f := newFleet(t, testAddr, n, sharpapitest.WithDropRate(1))
	noSweep := fastLedger()
	noSweep.NoSweeper = true
	a := f.start(member{name: "a", grace: time.Millisecond, ledger: noSweep})
	// The hung job is due before every other one.
	hung := "hung-0001"
	now := time.Now()
	if err := (protocol{a.bus}).Record(t.Context(), eventbus.PendingJob{ID: hung, Type: "content_translate",
		Dispatched: now, Due: now.Add(-time.Hour), Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ids := f.dispatchAll(a, nil, n)
	f.kill(a, "")
	api := newHangingAPI(t, f.emu.URL, []string{hung}, nil, 0)
	cfg := fastLedger()
	cfg.SweepBatch = 5
	cfg.PollTimeout = 200 * time.Millisecond
	b := f.start(member{name: "b", ledger: cfg, baseURL: api.URL})
	f.awaitHooks(ids)
	if by := f.checkOnceEach(ids); by["b"] != n {
		t.Errorf("OnEvent calls by replica: %v; want all %d on b", by, n)
	}
	waitFor(t, "the hung job to be polled again after its timeout", func() bool { return api.hung.Load() >= 2 })
	f.mu.Lock()
	if c := f.hooked[hung]; len(c) != 0 {
		t.Errorf("OnEvent ran for the hung job: %v", c)
	}
	f.mu.Unlock()
	st, err := b.bus.LedgerStats(t.Context(), time.Now())
	if err != nil || st.Pending < 1 {
		t.Errorf("ledger %+v (%v); want the hung job still pending", st, err)
	}
}

// TestLedgerMalformedEntryStopsNoSweep: a foreign entry (a string at its
// record's key) is first in the due set, ahead of 2 000 orphans and of 5
// overdue jobs. The sweeper quarantines it (one Warn, counted as given up
// and quarantined), drops the orphans, and completes every job.
func TestLedgerMalformedEntryStopsNoSweep(t *testing.T) {
	const n = 5
	f := newFleet(t, testAddr, n, sharpapitest.WithDropRate(1))
	a, ids := f.deadDispatcher(n)
	rdb := newClient(t, testAddr)
	early := float64(time.Now().Add(-time.Hour).UnixMilli())
	zs := []redis.Z{{Score: early - 1, Member: "foreign"}}
	for i := range 2000 {
		zs = append(zs, redis.Z{Score: early, Member: "orphan-" + strconv.Itoa(i)})
	}
	if err := rdb.ZAdd(t.Context(), a.bus.dueKey(), zs...).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(t.Context(), a.bus.jobKey("foreign"), "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var logs logRecorder
	b := f.start(member{name: "b", ledger: fastLedger(), log: slog.New(&logs)})
	f.awaitHooks(ids)
	f.ledgerEmpties(b.bus)
	if by := f.checkOnceEach(ids); by["b"] != n {
		t.Errorf("OnEvent calls by replica: %v; want all %d on b", by, n)
	}
	st := b.hooks.Stats().Ledger
	if st.Quarantined != 1 || st.GaveUp != 1 {
		t.Errorf("ledger counts %+v; want 1 quarantined, 1 given up", st)
	}
	if got := logs.messages(slog.LevelWarn, "could not use"); len(got) != 1 {
		t.Errorf("Warn lines about the foreign entry: %q; want 1", got)
	}
}

// TestLedgerUnreadableStoredEventFallsBackToPoll: three overdue jobs whose
// events are marked stored, but whose stored values cannot be read
// (garbage, another job's event, a value over the bus's max event size).
// The sweeper polls each job instead of waiting for MaxAge: each reaches
// OnEvent once with its own result, and the bad values are replaced with
// the polled events, which Load then returns.
func TestLedgerUnreadableStoredEventFallsBackToPoll(t *testing.T) {
	const n = 3
	f := newFleet(t, testAddr, n, sharpapitest.WithDropRate(1))
	a, ids := f.deadDispatcher(n)
	rdb := newClient(t, testAddr)
	bad := []string{
		"{{{ not json",
		`{"id":"another-job","status":"success","type":"content_translate","result":{"content":"<wrong>"}}`,
		strings.Repeat("x", DefaultMaxEventSize+1),
	}
	for i, id := range ids {
		if err := rdb.Set(t.Context(), a.bus.seenKey(id), "1", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		if err := rdb.Set(t.Context(), a.bus.eventKey(id), bad[i], time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	b := f.start(member{name: "b", ledger: fastLedger()})
	f.awaitHooks(ids)
	f.ledgerEmpties(b.bus)
	if by := f.checkOnceEach(ids); by["b"] != n {
		t.Errorf("OnEvent calls by replica: %v; want all %d on b", by, n)
	}
	for i, id := range ids {
		ev, found, err := (protocol{b.bus}).Load(t.Context(), id)
		var res struct{ Content string }
		json.Unmarshal(ev.Result, &res)
		if want := "<job " + strconv.Itoa(i) + ">"; err != nil || !found || ev.ID != id || res.Content != want {
			t.Errorf("job %d: Load = %+v, %v, %v; want the polled event with %q", i, ev, found, err, want)
		}
	}
}

// TestLedgerHugeStatusAnswerIsGivenUp: two overdue jobs whose status
// answers are 10 MiB each, among five ordinary ones. The sweeper reads no
// more of an answer than a webhook body may be: each huge job fails its
// polls and is given up after three, with its reason, and never reaches
// OnEvent; the others complete.
func TestLedgerHugeStatusAnswerIsGivenUp(t *testing.T) {
	const n = 5
	f := newFleet(t, testAddr, n, sharpapitest.WithDropRate(1))
	noSweep := fastLedger()
	noSweep.NoSweeper = true
	a := f.start(member{name: "a", grace: time.Millisecond, ledger: noSweep})
	huge := []string{"huge-0001", "huge-0002"}
	now := time.Now()
	for _, id := range huge {
		if err := (protocol{a.bus}).Record(t.Context(), eventbus.PendingJob{ID: id, Type: "content_translate",
			Dispatched: now, Due: now.Add(-time.Hour), Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	ids := f.dispatchAll(a, nil, n)
	f.kill(a, "")
	api := newHangingAPI(t, f.emu.URL, nil, huge, 10<<20)
	var logs logRecorder
	b := f.start(member{name: "b", ledger: fastLedger(), baseURL: api.URL, log: slog.New(&logs)})
	f.awaitHooks(ids)
	f.ledgerEmpties(b.bus)
	if by := f.checkOnceEach(ids); by["b"] != n {
		t.Errorf("OnEvent calls by replica: %v; want all %d on b", by, n)
	}
	waitFor(t, "both give-ups to be counted", func() bool { return b.hooks.Stats().Ledger.GaveUp >= 2 })
	if st := b.hooks.Stats().Ledger; st.GaveUp != 2 {
		t.Errorf("ledger counts %+v; want the 2 huge jobs given up", st)
	}
	dead, err := newClient(t, testAddr).ZRange(t.Context(), b.bus.deadKey(), 0, -1).Result()
	slices.Sort(dead)
	if diff := cmp.Diff(huge, dead); err != nil || diff != "" {
		t.Errorf("dead set (-want +got):\n%s (%v)", diff, err)
	}
	if got := logs.messages(slog.LevelWarn, "gave up"); len(got) != 2 {
		t.Errorf("Warn lines about giving up: %q; want 2", got)
	}
	f.mu.Lock()
	for _, id := range huge {
		if c := f.hooked[id]; len(c) != 0 {
			t.Errorf("OnEvent ran for %s: %v", id, c)
		}
	}
	f.mu.Unlock()
}
