package redisbus

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// The figures of redisbus's README section on the ledger under bad jobs
// and bad entries. They run only with SHARPAPI_FIGURES=1 (without -race,
// for figures that mean something):
//
//	SHARPAPI_FIGURES=1 go test -run 'TestFigure' -count 1 -v .

func needFigures(t *testing.T) {
	if os.Getenv("SHARPAPI_FIGURES") != "1" {
		t.Skip("set SHARPAPI_FIGURES=1 to measure")
	}
}

// TestFigureOverdueWithAHungAndAHugeJob: 200 overdue jobs (webhooks lost,
// dispatcher gone), of which one's status URL hangs forever and one's
// status answer is 10 MiB. A replica sweeping every second with the
// default PollTimeout completes the other 198; the test logs the time from
// the replica's start (every job was due by then) to each OnEvent.
func TestFigureOverdueWithAHungAndAHugeJob(t *testing.T) {
	needFigures(t)
	const n = 198
	f := newFleet(t, testAddr, n, sharpapitest.WithDropRate(1))
	noSweep := fastLedger()
	noSweep.NoSweeper = true
	a := f.start(member{name: "a", grace: time.Millisecond, ledger: noSweep})
	now := time.Now()
	for _, id := range []string{"hung-0001", "huge-0001"} {
		if err := (protocol{a.bus}).Record(t.Context(), eventbus.PendingJob{ID: id, Type: "content_translate",
			Dispatched: now, Due: now.Add(-time.Hour), Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	ids := f.dispatchAll(a, nil, n)
	f.kill(a, "")
	api := newHangingAPI(t, f.emu.URL, []string{"hung-0001"}, []string{"huge-0001"}, 10<<20)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	b := f.start(member{name: "b", ledger: fastSweeps(time.Second), baseURL: api.URL})
	f.awaitHooks(ids)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	f.mu.Lock()
	var lat []time.Duration
	for _, id := range ids {
		lat = append(lat, f.hooked[id][0].at.Sub(start))
	}
	f.mu.Unlock()
	slices.Sort(lat)
	t.Logf("198 of 200 overdue jobs (1 hung, 1 answering 10 MiB; sweeps every 1 s ± 50 %%, PollTimeout 5 s, retries after 1 s): start → OnEvent p50 %v, p99 %v, last %v; bytes allocated meanwhile %.1f MiB; ledger %+v",
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond),
		float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), b.hooks.Stats().Ledger)
}

// fastSweeps is fastLedger with sweeps every interval, the default
// PollTimeout, and retries after 1 s.
func fastSweeps(every time.Duration) sharpapi.LedgerConfig {
	cfg := fastLedger()
	cfg.SweepInterval = every
	cfg.RetryMin, cfg.RetryMax = time.Second, 5*time.Second
	return cfg
}

// TestFigureClaimHeapWithMalformedEntries: 1 000 due entries, of which
// 100 are malformed (a 1 MiB status URL, a string at the record's key, a
// token that is no number, in turn). Claiming them all, 20 at a time,
// logs the bytes allocated and the largest heap seen.
func TestFigureClaimHeapWithMalformedEntries(t *testing.T) {
	needFigures(t)
	b := newBus(t, newClient(t, testAddr))
	rdb := newClient(t, testAddr)
	ctx := t.Context()
	huge := strings.Repeat("u", 1<<20)
	for i := range 1000 {
		id := "job-" + strconv.Itoa(i)
		if i%10 != 0 {
			mustRecord(t, b, pending(id, 0))
			continue
		}
		rdb.ZAdd(ctx, b.dueKey(), redis.Z{Score: float64(t0.UnixMilli()), Member: id})
		switch i / 10 % 3 {
		case 0:
			rdb.HSet(ctx, b.jobKey(id), "d", t0.UnixMilli(), "u", huge)
		case 1:
			rdb.Set(ctx, b.jobKey(id), "not a hash", 0)
		default:
			rdb.HSet(ctx, b.jobKey(id), "d", t0.UnixMilli(), "tok", "x")
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	live, bad := 0, 0
	peak := before.HeapAlloc
	for {
		cs, err := (protocol{b}).Claim(ctx, at(time.Second), at(time.Hour), 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Quarantine != "" {
				bad++
			} else {
				live++
			}
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapAlloc)
		if len(cs) == 0 {
			break
		}
	}
	runtime.ReadMemStats(&after)
	if live != 900 || bad != 100 {
		t.Errorf("claimed %d, quarantined %d; want 900, 100", live, bad)
	}
	t.Logf("claiming 1 000 due entries (100 malformed, 34 of them with a 1 MiB field), 20 at a time: %.2f MiB allocated, heap peak %.2f MiB above the start",
		float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), float64(peak-before.HeapAlloc)/(1<<20))
}
