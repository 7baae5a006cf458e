package redisbus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi/eventbus"
)

// The ledger's scripts, one call at a time. Times are fixed: the scripts
// take the callers' clocks, so a lease "expires" when a later call says it
// is later.

var t0 = time.UnixMilli(1_800_000_000_000)

func at(d time.Duration) time.Time { return t0.Add(d) }

func pending(id string, due time.Duration) eventbus.PendingJob {
	return eventbus.PendingJob{ID: id, Type: "content_translate", StatusURL: "http://api.test/job/status/" + id,
		Dispatched: t0, Due: at(due), Expires: at(24 * time.Hour)}
}

func mustRecord(t *testing.T, b *Bus, jobs ...eventbus.PendingJob) {
	t.Helper()
	for _, j := range jobs {
		if err := (protocol{b}).Record(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
}

func claimIDs(t *testing.T, b *Bus, now time.Duration, max int) []eventbus.ClaimedJob {
	t.Helper()
	cs, err := (protocol{b}).Claim(t.Context(), at(now), at(now+time.Minute), max)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func ids(cs []eventbus.ClaimedJob) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	slices.Sort(out)
	return out
}

func begin(t *testing.T, b *Bus, id string, stored bool, now time.Duration) eventbus.HookLease {
	t.Helper()
	l, err := (protocol{b}).Begin(t.Context(), eventbus.BeginRequest{JobID: id, Stored: stored, Now: at(now), Until: at(now + time.Minute), Expires: at(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLedgerRecordIsIdempotentAndClaimReturnsTheRecord(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	mustRecord(t, b, pending("job-1", time.Second))
	again := pending("job-1", time.Hour)
	again.StatusURL = "http://elsewhere.test/"
	mustRecord(t, b, again)
	if cs := claimIDs(t, b, 0, 10); len(cs) != 0 {
		t.Fatalf("claimed %v before the due time", ids(cs))
	}
	want := []eventbus.ClaimedJob{{PendingJob: eventbus.PendingJob{ID: "job-1", Type: "content_translate",
		StatusURL: "http://api.test/job/status/job-1", Dispatched: t0}, Token: 1, Tries: 1}}
	if diff := cmp.Diff(want, claimIDs(t, b, time.Second, 10)); diff != "" {
		t.Errorf("claim (-want +got):\n%s", diff)
	}
	// Claimed for a minute: not due again before then, due after.
	if cs := claimIDs(t, b, 30*time.Second, 10); len(cs) != 0 {
		t.Errorf("claimed %v again within the claim's lease", ids(cs))
	}
	cs := claimIDs(t, b, 2*time.Minute, 10)
	if len(cs) != 1 || cs[0].Token != 2 || cs[0].Tries != 2 {
		t.Errorf("the claim after the lease: %+v; want job-1, token 2, try 2", cs)
	}
}

func TestLedgerStaleTokensDoNothing(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	mustRecord(t, b, pending("job-1", 0))
	claim := claimIDs(t, b, 0, 1)[0]
	lease := begin(t, b, "job-1", true, time.Second) // a webhook arrives while the sweeper polls
	if lease.State != eventbus.LeaseGranted || lease.Token <= claim.Token {
		t.Fatalf("Begin: %+v after claim token %d", lease, claim.Token)
	}
	ctx := t.Context()
	if ok, err := (protocol{b}).Release(ctx, "job-1", claim.Token, at(time.Second)); ok || err != nil {
		t.Errorf("Release with the claim's stale token: %v, %v; want false", ok, err)
	}
	if ok, err := (protocol{b}).GiveUp(ctx, "job-1", claim.Token, at(time.Second)); ok || err != nil {
		t.Errorf("GiveUp with a stale token: %v, %v; want false", ok, err)
	}
	if ok, err := (protocol{b}).Renew(ctx, "job-1", claim.Token, at(time.Hour)); ok || err != nil {
		t.Errorf("Renew with a stale token: %v, %v; want false", ok, err)
	}
	if ok, err := (protocol{b}).Renew(ctx, "job-1", lease.Token, at(5*time.Minute)); !ok || err != nil {
		t.Errorf("Renew with the lease's token: %v, %v; want true", ok, err)
	}
	// The renewed lease holds past the first minute.
	if l := begin(t, b, "job-1", false, 2*time.Minute); l.State != eventbus.LeaseHeld {
		t.Errorf("Begin within the renewed lease: %+v; want held", l)
	}
	if ok, err := (protocol{b}).Release(ctx, "job-1", lease.Token, at(10*time.Minute)); !ok || err != nil {
		t.Errorf("Release with the lease's token: %v, %v; want true", ok, err)
	}
	if cs := claimIDs(t, b, 9*time.Minute, 1); len(cs) != 0 {
		t.Errorf("claimed %v before the release's time", ids(cs))
	}
	if cs := claimIDs(t, b, 10*time.Minute, 1); len(cs) != 1 {
		t.Errorf("not claimed at the release's time")
	}
}

func TestLedgerBeginAckAndTombstone(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	ctx := t.Context()
	// Not recorded: done for a caller that did not store the event...
	if l := begin(t, b, "early", false, 0); l.State != eventbus.LeaseDone {
		t.Errorf("Begin of an unknown job without its store: %+v; want done", l)
	}
	// ...created for the one that did (an early webhook beat its Record).
	if l := begin(t, b, "early", true, 0); l.State != eventbus.LeaseGranted || l.Runs != 1 {
		t.Errorf("Begin of an unknown job by its storer: %+v; want granted, run 1", l)
	}
	if l := begin(t, b, "early", false, time.Second); l.State != eventbus.LeaseHeld {
		t.Errorf("a second Begin within the lease: %+v; want held", l)
	}
	// The storer died in OnEvent: the entry comes due when its lease ends.
	cs := claimIDs(t, b, time.Minute, 10)
	if diff := cmp.Diff([]string{"early"}, ids(cs)); diff != "" {
		t.Fatalf("claimed (-want +got):\n%s", diff)
	}
	if cs[0].StatusURL != "" || cs[0].Dispatched != t0 {
		t.Errorf("the created entry: %+v; want no status URL, dispatched at the first Begin", cs[0])
	}
	l := begin(t, b, "early", false, time.Minute)
	if l.State != eventbus.LeaseGranted || l.Runs != 2 {
		t.Fatalf("Begin after the claim: %+v; want granted, run 2", l)
	}
	if stale, err := (protocol{b}).Ack(ctx, "early", l.Token); stale || err != nil {
		t.Errorf("Ack: stale %v, %v", stale, err)
	}
	// Acked: neither Begin nor the job's (late) Record revive it.
	if l := begin(t, b, "early", true, 2*time.Minute); l.State != eventbus.LeaseDone {
		t.Errorf("Begin after the ack: %+v; want done", l)
	}
	mustRecord(t, b, pending("early", 0))
	if cs := claimIDs(t, b, time.Hour, 10); len(cs) != 0 {
		t.Errorf("claimed %v after the ack", ids(cs))
	}
	// An ack by a holder whose lease another took over is stale.
	mustRecord(t, b, pending("slow", 0))
	slow := begin(t, b, "slow", true, 0)
	claimIDs(t, b, 2*time.Minute, 10) // slow's lease ended at 1 min
	other := begin(t, b, "slow", false, 2*time.Minute)
	if other.State != eventbus.LeaseGranted {
		t.Fatalf("Begin after the stalled lease: %+v", other)
	}
	if stale, err := (protocol{b}).Ack(ctx, "slow", slow.Token); !stale || err != nil {
		t.Errorf("the stalled holder's Ack: stale %v, %v; want stale", stale, err)
	}
	st, err := b.LedgerStats(ctx, at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(LedgerStats{}, st); diff != "" {
		t.Errorf("ledger at the end (-want +got):\n%s", diff)
	}
}

func TestLedgerGiveUpKeepsTheDeadIDs(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	mustRecord(t, b, pending("gone", 0), pending("kept", time.Hour))
	c := claimIDs(t, b, 0, 10)[0]
	if ok, err := (protocol{b}).GiveUp(t.Context(), "gone", c.Token, at(time.Second)); !ok || err != nil {
		t.Fatalf("GiveUp: %v, %v", ok, err)
	}
	st, err := b.LedgerStats(t.Context(), at(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(LedgerStats{Pending: 1, Overdue: 1, OldestOverdue: time.Hour, Dead: 1}, st); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if dead, err := b.rdb.ZRange(t.Context(), b.deadKey(), 0, -1).Result(); err != nil || !slices.Equal(dead, []string{"gone"}) {
		t.Errorf("dead set %v (%v); want [gone]", dead, err)
	}
}

// TestLedgerConcurrentClaimsTakeEachEntryOnce: 50 claimers racing over 500
// due entries take each once within the lease.
func TestLedgerConcurrentClaimsTakeEachEntryOnce(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	const n = 500
	var want []string
	for i := range n {
		id := fmt.Sprintf("job-%03d", i)
		want = append(want, id)
		mustRecord(t, b, pending(id, time.Duration(i)*time.Millisecond))
	}
	var (
		mu  sync.Mutex
		got []string
		wg  sync.WaitGroup
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cs, err := (protocol{b}).Claim(context.Background(), at(time.Second), at(time.Hour), 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					got = append(got, c.ID)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claimed ids (-want +got):\n%s", diff)
	}
}

func TestLedgerClaimDropsOrphans(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	mustRecord(t, b, pending("kept", 0))
	if err := b.rdb.ZAdd(t.Context(), b.dueKey(), redis.Z{Score: 0, Member: "orphan"}).Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"kept"}, ids(claimIDs(t, b, time.Second, 10))); diff != "" {
		t.Errorf("claimed (-want +got):\n%s", diff)
	}
	if n, err := b.rdb.ZCard(t.Context(), b.dueKey()).Result(); err != nil || n != 1 {
		t.Errorf("due set holds %d ids (%v); want 1: the orphan dropped", n, err)
	}
}

// TestKeysShareOneSlot: every key of the bus, a job's dedup and event
// keys and the ledger's alike, has the hash tag "bus", so that one script
// may store an event and take its job's hook lease on a Redis Cluster,
// and a prefix cannot change the tag (New refuses braces in it).
func TestKeysShareOneSlot(t *testing.T) {
	b, err := New(newClient(t, testAddr), WithKeyPrefix("svc:"))
	if err != nil {
		t.Fatal(err)
	}
	const id = "5de4887a-0dfd-49b6-8edb-9280e468c210"
	for _, k := range []string{b.seenKey(id), b.seenKey(id) + ":pending", b.eventKey(id),
		b.dueKey(), b.deadKey(), b.jobKey(id), b.jobKeyPrefix() + "x"} {
		open := strings.IndexByte(k, '{')
		end := strings.IndexByte(k[open+1:], '}')
		if !strings.HasPrefix(k, "svc:") || open < 0 || end < 0 || k[open+1:open+1+end] != "bus" {
			t.Errorf("key %q: not under the prefix, or its hash tag is not {bus}", k)
		}
	}
	if _, err := New(newClient(t, testAddr), WithKeyPrefix("a{b}:")); err == nil {
		t.Error("New accepted a prefix with braces")
	}
}

// TestLedgerClaimQuarantinesMalformedEntries: entries no replica could
// have written (a string at the record's key, a token that is not a
// number or does not fit, a 1 MiB status URL, an id that is no job id)
// are due before two good ones. One claim takes both good entries and
// moves each bad one to the dead set with its reason, reading none of the
// large values back; nothing bad is left in the due set.
func TestLedgerClaimQuarantinesMalformedEntries(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	mustRecord(t, b, pending("good-1", 0), pending("good-2", 0))
	ctx := t.Context()
	rdb := b.rdb
	early := float64(at(-time.Minute).UnixMilli())
	for _, z := range []string{"strkey", "badtok", "maxtok", "hugeurl", "bad id!"} {
		if err := rdb.ZAdd(ctx, b.dueKey(), redis.Z{Score: early, Member: z}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	d := t0.UnixMilli()
	for _, err := range []error{
		rdb.Set(ctx, b.jobKey("strkey"), "not a hash", 0).Err(),
		rdb.HSet(ctx, b.jobKey("badtok"), "d", d, "tok", "abc").Err(),
		rdb.HSet(ctx, b.jobKey("maxtok"), "d", d, "tok", "9223372036854775807").Err(),
		rdb.HSet(ctx, b.jobKey("hugeurl"), "d", d, "u", strings.Repeat("u", 1<<20)).Err(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	cs, err := (protocol{b}).Claim(ctx, at(time.Second), at(time.Minute), 2)
	if err != nil {
		t.Fatalf("claim failed: %v", err)
	}
	var live []string
	bad := map[string]string{}
	for _, c := range cs {
		if c.Quarantine != "" {
			bad[c.ID] = c.Quarantine
		} else {
			live = append(live, c.ID)
		}
	}
	slices.Sort(live)
	if diff := cmp.Diff([]string{"good-1", "good-2"}, live); diff != "" {
		t.Errorf("claimed (-want +got):\n%s", diff)
	}
	want := map[string]string{"strkey": "not_a_hash", "badtok": "malformed_field", "maxtok": "malformed_field",
		"hugeurl": "oversized_field", "bad id!": "invalid_id"}
	if diff := cmp.Diff(want, bad); diff != "" {
		t.Errorf("quarantined (-want +got):\n%s", diff)
	}
	dead, err := rdb.ZRange(ctx, b.deadKey(), 0, -1).Result()
	slices.Sort(dead)
	if diff := cmp.Diff([]string{"bad id!", "badtok", "hugeurl", "maxtok", "strkey"}, dead); err != nil || diff != "" {
		t.Errorf("dead set (-want +got):\n%s (%v)", diff, err)
	}
	if n, err := rdb.Exists(ctx, b.jobKey("strkey"), b.jobKey("hugeurl")).Result(); err != nil || n != 0 {
		t.Errorf("%d quarantined records left (%v); want 0", n, err)
	}
	if n, err := rdb.ZCard(ctx, b.dueKey()).Result(); err != nil || n != 2 {
		t.Errorf("due set holds %d ids (%v); want the 2 good ones", n, err)
	}
}

// TestLedgerClaimSkipsOrphansWithoutConsumingTheBatch: 3 000 orphans (ids
// whose records are gone) are due before three real entries: one claim of
// three drops them all and returns the three real ones.
func TestLedgerClaimSkipsOrphansWithoutConsumingTheBatch(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	mustRecord(t, b, pending("real-1", 0), pending("real-2", 0), pending("real-3", 0))
	zs := make([]redis.Z, 3000)
	for i := range zs {
		zs[i] = redis.Z{Score: float64(at(-time.Minute).UnixMilli()), Member: fmt.Sprintf("orphan-%d", i)}
	}
	if err := b.rdb.ZAdd(t.Context(), b.dueKey(), zs...).Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"real-1", "real-2", "real-3"}, ids(claimIDs(t, b, time.Second, 3))); diff != "" {
		t.Errorf("claimed (-want +got):\n%s", diff)
	}
	if n, err := b.rdb.ZCard(t.Context(), b.dueKey()).Result(); err != nil || n != 3 {
		t.Errorf("due set holds %d ids (%v); want 3: the orphans dropped", n, err)
	}
}

// TestLedgerLateAckOntoATombstoneIsStale: a holder stalls past its hook
// lease; another takes the lease over and acks first. The stalled
// holder's late ack, onto the tombstone, is stale; the other's ack,
// repeated (its first answer lost), is not.
func TestLedgerLateAckOntoATombstoneIsStale(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	ctx := t.Context()
	mustRecord(t, b, pending("job-1", 0))
	slow := begin(t, b, "job-1", true, 0)
	claimIDs(t, b, 2*time.Minute, 10) // slow's lease ended at 1 min
	other := begin(t, b, "job-1", false, 2*time.Minute)
	if other.State != eventbus.LeaseGranted {
		t.Fatalf("Begin after the stalled lease: %+v", other)
	}
	for _, ack := range []struct {
		who   string
		token int64
		stale bool
	}{{"the new holder", other.Token, false}, {"the stalled holder, late", slow.Token, true}, {"the new holder again", other.Token, false}} {
		if stale, err := (protocol{b}).Ack(ctx, "job-1", ack.token); stale != ack.stale || err != nil {
			t.Errorf("Ack by %s: stale %v, %v; want %v", ack.who, stale, err, ack.stale)
		}
	}
}

// TestLedgerKeepsTheJobsTrace: Record keeps a job's trace and Claim
// returns it, so that a sweeper completing the job elsewhere can link to
// it. The trace is optional: Record drops one longer than 128 bytes, and
// a claim of an entry whose trace field is 1 KiB (written by someone
// else) returns the entry without it rather than quarantine it.
func TestLedgerKeepsTheJobsTrace(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traced, long, foreign := pending("traced", 0), pending("long", 0), pending("foreign", 0)
	traced.Trace = tp
	long.Trace = strings.Repeat("x", 129)
	mustRecord(t, b, traced, long, foreign)
	if err := b.rdb.HSet(t.Context(), b.jobKey("foreign"), "tr", strings.Repeat("y", 1024)).Err(); err != nil {
		t.Fatal(err)
	}
	cs := claimIDs(t, b, 0, 10)
	got := map[string]string{}
	for _, c := range cs {
		if c.Quarantine != "" {
			t.Errorf("entry %s quarantined (%s); want it claimed", c.ID, c.Quarantine)
		}
		got[c.ID] = c.Trace
	}
	if diff := cmp.Diff(map[string]string{"traced": tp, "long": "", "foreign": ""}, got); diff != "" {
		t.Errorf("claimed entries' traces (-want +got):\n%s", diff)
	}
	if n, err := b.rdb.HExists(t.Context(), b.jobKey("long"), "tr").Result(); err != nil || n {
		t.Errorf("a 129-byte trace was kept (%v)", err)
	}
}
