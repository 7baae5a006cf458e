package redisbus

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// scriptLog is a go-redis hook that records the scripts a client runs, in
// order, by name, with their keys and arguments.
type scriptLog struct {
	mu   sync.Mutex
	runs []scriptRun
}

type scriptRun struct {
	name string
	args []string
}

// scriptNames names the bus's scripts by their SHA1.
var scriptNames = func() map[string]string {
	names := map[string]string{}
	for name, s := range map[string]*redis.Script{
		"record": recordScript, "claim": claimScript, "load": loadScript, "store": storeScript,
		"store+begin": storeBeginScript, "begin": beginScript, "renew": renewScript, "ack": ackScript,
		"release": releaseScript, "give-up": giveUpScript, "extend": extendScript,
	} {
		names[s.Hash()] = name
	}
	return names
}()

func (l *scriptLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *scriptLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		args := cmd.Args()
		if len(args) < 2 || (err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")) {
			return err // the script is sent again, with EVAL
		}
		var sha string
		switch strings.ToLower(fmt.Sprint(args[0])) {
		case "evalsha":
			sha = fmt.Sprint(args[1])
		case "eval":
			sum := sha1.Sum([]byte(fmt.Sprint(args[1])))
			sha = hex.EncodeToString(sum[:])
		default:
			return err
		}
		run := scriptRun{name: scriptNames[sha]}
		if run.name == "" {
			run.name = "unknown " + sha
		}
		for _, a := range args[2:] {
			run.args = append(run.args, fmt.Sprint(a))
		}
		l.mu.Lock()
		l.runs = append(l.runs, run)
		l.mu.Unlock()
		return err
	}
}

func (l *scriptLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// of returns the names of the scripts run on jobID's keys or with its id
// as an argument, sorted (a webhook may be stored before its job's
// record), but Load's: a waiter may look in the store twice when the
// bus's notification overtakes the local hand-off.
func (l *scriptLog) of(jobID string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var names []string
	for _, r := range l.runs {
		if r.name != "load" && slices.ContainsFunc(r.args, func(a string) bool { return strings.Contains(a, jobID) }) {
			names = append(names, r.name)
		}
	}
	slices.Sort(names)
	return names
}

// TestStorerHoldsTheHookLease: whoever stores a job's terminal event (the
// webhook's receiver, the job's await's poll, a sweeper's poll) takes the
// job's hook lease in the same script, and sends no Begin of its own: a
// job that reaches OnEvent once and is acked costs the ledger its record,
// that one script and the ack.
func TestStorerHoldsTheHookLease(t *testing.T) {
	noSweep := fastLedger()
	noSweep.NoSweeper = true
	t.Run("webhook", func(t *testing.T) {
		f := newFleet(t, testAddr, 1)
		var log scriptLog
		a := f.start(member{name: "a", ledger: noSweep, redisHook: &log})
		ids := f.dispatchAll(a, a, 1)
		f.awaitHooks(ids)
		waitFor(t, "the ack", func() bool { return a.hooks.Stats().Ledger.Acked == 1 })
		if diff := cmp.Diff([]string{"ack", "record", "store+begin"}, log.of(ids[0])); diff != "" {
			t.Errorf("scripts run for the job (-want +got):\n%s", diff)
		}
	})
	t.Run("the await's poll", func(t *testing.T) {
		f := newFleet(t, testAddr, 1, sharpapitest.WithDropRate(1))
		var log scriptLog
		a := f.start(member{name: "a", grace: time.Millisecond, ledger: noSweep, redisHook: &log})
		job, err := a.client.Translate(t.Context(), sharpapi.TranslateParams{Content: "job 0", Language: "Italian"},
			sharpapi.WithWebhook("http://127.0.0.1:1/hooks/sharpapi"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := job.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		f.awaitHooks([]string{job.ID()})
		waitFor(t, "the ack", func() bool { return a.hooks.Stats().Ledger.Acked == 1 })
		if diff := cmp.Diff([]string{"ack", "record", "store+begin"}, log.of(job.ID())); diff != "" {
			t.Errorf("scripts run for the job (-want +got):\n%s", diff)
		}
	})
	t.Run("a sweeper's poll", func(t *testing.T) {
		f := newFleet(t, testAddr, 1, sharpapitest.WithDropRate(1))
		_, ids := f.deadDispatcher(1)
		var log scriptLog
		b := f.start(member{name: "b", ledger: fastLedger(), redisHook: &log})
		f.awaitHooks(ids)
		waitFor(t, "the ack", func() bool { return b.hooks.Stats().Ledger.Acked == 1 })
		if diff := cmp.Diff([]string{"ack", "store+begin"}, log.of(ids[0])); diff != "" {
			t.Errorf("scripts run for the job (-want +got):\n%s", diff)
		}
	})
}

// TestStoreBeginTakesTheLeaseOnce: StoreBegin stores a terminal event and
// grants its storer the hook lease in one step; a retry of the delivery
// is a duplicate that takes no lease, another replica's Begin finds the
// lease held, and Load returns the event. A job not in the ledger (its
// webhook beat its Record) gets an entry, as Begin by its storer does. A
// non-terminal event is stored once and takes no lease.
func TestStoreBeginTakesTheLeaseOnce(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	p := protocol{b}
	ctx := t.Context()
	req := func(id string, now time.Duration) eventbus.BeginRequest {
		return eventbus.BeginRequest{JobID: id, Stored: true, Now: at(now), Until: at(now + time.Minute), Expires: at(24 * time.Hour)}
	}
	ev := eventbus.Event{ID: "sb-1", Status: "success", Type: "content_translate", Result: []byte(`{"content":"x"}`)}
	mustRecord(t, b, pending("sb-1", time.Hour))
	stored, lease, err := p.StoreBegin(ctx, ev, req("sb-1", 0))
	if err != nil || !stored || lease.State != eventbus.LeaseGranted || lease.Token <= 0 || lease.Runs != 1 {
		t.Fatalf("StoreBegin: stored %v, lease %+v, %v; want stored, granted, run 1", stored, lease, err)
	}
	if l := begin(t, b, "sb-1", false, time.Second); l.State != eventbus.LeaseHeld {
		t.Errorf("another replica's Begin within the lease: %+v; want held", l)
	}
	stored, again, err := p.StoreBegin(ctx, ev, req("sb-1", time.Second))
	if err != nil || stored || again != (eventbus.HookLease{}) {
		t.Errorf("StoreBegin of a retry: stored %v, lease %+v, %v; want a duplicate and no lease", stored, again, err)
	}
	got, found, err := p.Load(ctx, "sb-1")
	if err != nil || !found {
		t.Fatalf("Load: found %v, %v", found, err)
	}
	if diff := cmp.Diff(ev, got); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
	// The lease is the storer's: it renews and acks with its token.
	if ok, err := p.Renew(ctx, "sb-1", lease.Token, at(2*time.Minute)); !ok || err != nil {
		t.Errorf("Renew with StoreBegin's token: %v, %v; want true", ok, err)
	}
	if stale, err := p.Ack(ctx, "sb-1", lease.Token); stale || err != nil {
		t.Errorf("Ack with StoreBegin's token: stale %v, %v", stale, err)
	}

	early := eventbus.Event{ID: "sb-early", Status: "failed", Type: "content_translate"}
	stored, lease, err = p.StoreBegin(ctx, early, req("sb-early", 0))
	if err != nil || !stored || lease.State != eventbus.LeaseGranted || lease.Runs != 1 {
		t.Errorf("StoreBegin of a job not in the ledger: stored %v, lease %+v, %v; want stored, granted", stored, lease, err)
	}
	if cs := claimIDs(t, b, 2*time.Minute, 10); len(cs) != 1 || cs[0].ID != "sb-early" {
		t.Errorf("claimed %+v after the lease ended; want the entry StoreBegin created", cs)
	}

	pend := eventbus.Event{ID: "sb-2", Status: "pending", Type: "content_translate"}
	for i, want := range []bool{true, false} {
		stored, lease, err := p.StoreBegin(ctx, pend, req("sb-2", 0))
		if err != nil || stored != want || lease != (eventbus.HookLease{}) {
			t.Errorf("StoreBegin of a pending event, call %d: stored %v, lease %+v, %v; want stored %v, no lease", i+1, stored, lease, err, want)
		}
	}
	if n, err := b.rdb.Exists(ctx, b.jobKey("sb-2"), b.eventKey("sb-2")).Result(); err != nil || n != 0 {
		t.Errorf("a pending event left %d keys (%v); want no entry and no event", n, err)
	}
	if _, _, err := p.StoreBegin(ctx, ev, req("other", 0)); err == nil {
		t.Error("StoreBegin with a request for another job: no error")
	}
}

// TestHookLeaseCarriesTheJobsTrace: a granted hook lease carries the
// trace its job's dispatcher recorded (eventbus.PendingJob.Trace), from
// StoreBegin and from Begin alike, so that the replica running OnEvent
// can link to the job's span. A trace field of 1 KiB (written by someone
// else) comes back empty, as from Claim; a job not in the ledger, or an
// entry recorded without a trace, gives none; a lease that is not granted
// carries none.
func TestHookLeaseCarriesTheJobsTrace(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	p := protocol{b}
	ctx := t.Context()
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req := func(id string, now time.Duration) eventbus.BeginRequest {
		return eventbus.BeginRequest{JobID: id, Stored: true, Now: at(now), Until: at(now + time.Minute), Expires: at(24 * time.Hour)}
	}
	traced, foreign, plain := pending("tr-traced", time.Hour), pending("tr-foreign", time.Hour), pending("tr-plain", time.Hour)
	traced.Trace = tp
	mustRecord(t, b, traced, foreign, plain)
	if err := b.rdb.HSet(ctx, b.jobKey("tr-foreign"), "tr", strings.Repeat("y", 1024)).Err(); err != nil {
		t.Fatal(err)
	}
	type got struct {
		State        eventbus.LeaseState
		Runs         int
		Trace        string
		Stored, Fail bool
	}
	var gots []got
	for _, id := range []string{"tr-traced", "tr-foreign", "tr-plain", "tr-unrecorded"} {
		ev := eventbus.Event{ID: id, Status: "success", Type: "content_translate", Result: []byte(`{}`)}
		stored, l, err := p.StoreBegin(ctx, ev, req(id, 0))
		gots = append(gots, got{State: l.State, Runs: l.Runs, Trace: l.Trace, Stored: stored, Fail: err != nil})
	}
	// Within the lease another replica's Begin is told it is held; after
	// it (the storer died), Begin grants it again, with the trace.
	for _, now := range []time.Duration{time.Second, 2 * time.Minute} {
		l := begin(t, b, "tr-traced", false, now)
		gots = append(gots, got{State: l.State, Runs: l.Runs, Trace: l.Trace})
	}
	l := begin(t, b, "tr-foreign", false, 2*time.Minute)
	gots = append(gots, got{State: l.State, Runs: l.Runs, Trace: l.Trace})
	want := []got{
		{State: eventbus.LeaseGranted, Runs: 1, Trace: tp, Stored: true},
		{State: eventbus.LeaseGranted, Runs: 1, Stored: true},
		{State: eventbus.LeaseGranted, Runs: 1, Stored: true},
		{State: eventbus.LeaseGranted, Runs: 1, Stored: true},
		{State: eventbus.LeaseHeld},
		{State: eventbus.LeaseGranted, Runs: 2, Trace: tp},
		{State: eventbus.LeaseGranted, Runs: 2},
	}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("leases (-want +got):\n%s", diff)
	}
}

// TestHookLeaseReplyMalformed: a begin reply of the wrong shape or types
// is an error, never a panic or a lease.
func TestHookLeaseReplyMalformed(t *testing.T) {
	for _, reply := range [][]any{
		nil,
		{int64(1), int64(1)},
		{int64(1), int64(1), "tr", "more"},
		{"1", int64(1), ""},
		{int64(1), "1", ""},
		{int64(1), int64(1), int64(0)},
		{int64(1), int64(1), nil},
	} {
		if l, err := hookLease(reply); err == nil || l != (eventbus.HookLease{}) {
			t.Errorf("hookLease(%#v) = %+v, %v; want an error and no lease", reply, l, err)
		}
	}
	l, err := hookLease([]any{int64(7), int64(2), strings.Repeat("x", maxTrace+1)})
	if want := (eventbus.HookLease{State: eventbus.LeaseGranted, Token: 7, Runs: 2}); err != nil || l != want {
		t.Errorf("hookLease with an oversized trace = %+v, %v; want %+v", l, err, want)
	}
}
