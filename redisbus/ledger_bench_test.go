package redisbus

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/redisbus/internal/singlebench"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// The ledger's costs, side by side with the bus without it (from redisbus/):
//
//	go test -run '^$' -bench 'LedgerJobCost|LedgerIdleSweep|LedgerClaimDue' -benchtime 2000x -count 3 .
//	go test -run '^$' -bench LedgerMemory -benchtime 1x .
//	go test -run '^$' -bench LedgerOverdue -benchtime 200x -count 5 .

// meter counts the commands (round trips: a pipeline is one) a Redis
// client sends and the bytes its connections carry both ways, its
// subscription's included.
type meter struct {
	cmds, bytes atomic.Int64
}

func (m *meter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &meteredConn{Conn: c, m: m}, nil
}

type meteredConn struct {
	net.Conn
	m *meter
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.m.bytes.Add(int64(n))
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.m.bytes.Add(int64(n))
	return n, err
}

func (m *meter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (m *meter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		m.cmds.Add(1)
		return next(ctx, cmd)
	}
}
func (m *meter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		m.cmds.Add(1)
		return next(ctx, cmds)
	}
}

// BenchmarkLedgerJobCost: one job whose webhook arrives in time, from
// dispatch to its await's result and OnEvent's ack: the Redis round trips
// and bytes it costs, with the ledger and without. The job is awaited on
// the replica its webhook reaches (another replica's await adds one GET
// either way).
func BenchmarkLedgerJobCost(b *testing.B) {
	for _, withLedger := range []bool{false, true} {
		name := "without-ledger"
		if withLedger {
			name = "with-ledger"
		}
		b.Run(name, func(b *testing.B) {
			var m meter
			rdb := redis.NewClient(&redis.Options{Addr: testAddr, ContextTimeoutEnabled: true, Dialer: m.dial})
			b.Cleanup(func() { rdb.Close() })
			rdb.AddHook(&m)
			var busOpts []Option
			if !withLedger {
				busOpts = append(busOpts, WithoutLedger())
			}
			bus := newBus(b, rdb, busOpts...)
			var hooked atomic.Int64
			opts := []sharpapi.WebhookOption{sharpapi.OnEvent(func(context.Context, sharpapi.WebhookEvent) error {
				hooked.Add(1)
				return nil
			})}
			if withLedger {
				opts = append(opts, sharpapi.WithEventBus(bus), sharpapi.WithLedgerConfig(sharpapi.LedgerConfig{NoSweeper: true}))
			} else {
				opts = append(opts, sharpapi.WithEventBus(bus))
			}
			h, err := sharpapi.NewWebhookHandler(e2eSecret, opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { h.Close() })
			c := singlebench.Client(b, singlebench.StubAPI(b), h)
			// Warm up: connections, scripts loaded.
			job := singlebench.Dispatch(b, c)
			h.ServeHTTP(httptest.NewRecorder(), singlebench.Delivery(job.ID(), e2eSecret))
			waitFor(b, "the warm-up's OnEvent", func() bool { return hooked.Load() == 1 })
			waitFor(b, "the warm-up's ack", func() bool { return !withLedger || h.Stats().Ledger.Acked == 1 })
			cmds0, bytes0 := m.cmds.Load(), m.bytes.Load()
			b.ResetTimer()
			for range b.N {
				job := singlebench.Dispatch(b, c)
				done := job.WaitAsync(context.Background())
				h.ServeHTTP(httptest.NewRecorder(), singlebench.Delivery(job.ID(), e2eSecret))
				if o := <-done; o.Err != nil {
					b.Fatal(o.Err)
				}
			}
			waitFor(b, "every OnEvent", func() bool { return hooked.Load() == int64(b.N)+1 })
			waitFor(b, "every ack", func() bool { return !withLedger || h.Stats().Ledger.Acked == uint64(b.N)+1 })
			b.StopTimer()
			b.ReportMetric(float64(m.cmds.Load()-cmds0)/float64(b.N), "roundtrips/job")
			b.ReportMetric(float64(m.bytes.Load()-bytes0)/float64(b.N), "redisbytes/job")
		})
	}
}

// BenchmarkLedgerIdleSweep: a sweep of a replica when nothing is due costs
// one claim, whatever the size of the ledger: O(log N). server-µs/claim is
// Redis's own time for the script (INFO commandstats), free of the
// network's and this process's noise.
func BenchmarkLedgerIdleSweep(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run("pending="+strconv.Itoa(n), func(b *testing.B) {
			bus := newBus(b, newClient(b, testAddr))
			fillLedger(b, bus, n, time.Hour)
			now := time.Now()
			calls0, usec0 := scriptStats(b, bus.rdb)
			b.ResetTimer()
			for range b.N {
				cs, err := (protocol{bus}).Claim(context.Background(), now, now.Add(time.Minute), 20)
				if err != nil || len(cs) != 0 {
					b.Fatalf("claimed %d (%v); want none", len(cs), err)
				}
			}
			b.StopTimer()
			calls, usec := scriptStats(b, bus.rdb)
			b.ReportMetric(float64(usec-usec0)/float64(calls-calls0), "server-µs/claim")
		})
	}
}

// BenchmarkLedgerClaimDue: claiming the 20 due entries among many idle
// ones costs the same whatever the ledger's size: O(log N + due).
func BenchmarkLedgerClaimDue(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run("pending="+strconv.Itoa(n), func(b *testing.B) {
			bus := newBus(b, newClient(b, testAddr))
			fillLedger(b, bus, n, time.Hour)
			now := time.Now()
			var calls, usec int64
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				// 20 entries come due (written without a script, so that
				// the script statistics count the claims only).
				pipe := bus.rdb.Pipeline()
				for k := range 20 {
					id := fmt.Sprintf("due-%d-%d", i, k)
					pipe.HSet(context.Background(), bus.jobKey(id), "d", ms(now))
					pipe.ZAdd(context.Background(), bus.dueKey(), redis.Z{Score: float64(now.UnixMilli()), Member: id})
				}
				if _, err := pipe.Exec(context.Background()); err != nil {
					b.Fatal(err)
				}
				c0, u0 := scriptStats(b, bus.rdb)
				b.StartTimer()
				cs, err := (protocol{bus}).Claim(context.Background(), now, now.Add(time.Hour), 20)
				b.StopTimer()
				if err != nil || len(cs) != 20 {
					b.Fatalf("claimed %d (%v); want 20", len(cs), err)
				}
				c1, u1 := scriptStats(b, bus.rdb)
				calls, usec = calls+c1-c0, usec+u1-u0
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(usec)/float64(calls), "server-µs/claim")
		})
	}
}

// scriptStats returns Redis's count of EVALSHA calls and their total time.
func scriptStats(b *testing.B, rdb redis.UniversalClient) (calls, usec int64) {
	b.Helper()
	info, err := rdb.InfoMap(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, kv := range strings.Split(info["Commandstats"]["cmdstat_evalsha"], ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "calls":
			calls, _ = strconv.ParseInt(v, 10, 64)
		case "usec":
			usec, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return calls, usec
}

// fillLedger records n entries due after in.
func fillLedger(b *testing.B, bus *Bus, n int, in time.Duration) {
	b.Helper()
	if err := recordScript.Load(context.Background(), bus.rdb).Err(); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	pipe := bus.rdb.Pipeline()
	for i := range n {
		id := "idle-" + strconv.Itoa(i)
		recordScript.Run(context.Background(), pipe, []string{bus.dueKey(), bus.jobKey(id)},
			id, "http://api.test/api/v1/content/translate/job/status/"+id, "content_translate", ms(now), ms(now.Add(in)), ms(now.Add(25*time.Hour)), "") // no key id
		if i%1000 == 999 || i == n-1 {
			if _, err := pipe.Exec(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkLedgerMemory: Redis memory per pending entry (a job dispatched
// with a 36-byte id and a status URL of SharpAPI's length) and per
// tombstone (an acked job, kept for the retention), from used_memory over
// 10 000 entries on a server of its own.
func BenchmarkLedgerMemory(b *testing.B) {
	srv := ownRedis(b)
	rdb := newClient(b, srv.addr)
	bus, err := New(rdb)
	if err != nil {
		b.Fatal(err)
	}
	used := func() int64 {
		info, err := rdb.InfoMap(context.Background(), "memory").Result()
		if err != nil {
			b.Fatal(err)
		}
		v, _ := strconv.ParseInt(info["Memory"]["used_memory"], 10, 64)
		return v
	}
	const n = 10000
	var perEntry, perTomb float64
	for range b.N {
		rdb.FlushAll(context.Background())
		before := used()
		now := time.Now()
		ids := make([]string, n)
		for i := range n {
			ids[i] = fmt.Sprintf("%08d-0dfd-49b6-8edb-9280e468c210", i)
			if err := (protocol{bus}).Record(context.Background(), eventbus.PendingJob{ID: ids[i], Type: "content_translate",
				StatusURL:  "https://sharpapi.com/api/v1/content/translate/job/status/" + ids[i],
				Dispatched: now, Due: now.Add(90 * time.Second), Expires: now.Add(24 * time.Hour)}); err != nil {
				b.Fatal(err)
			}
		}
		pending := used()
		for _, id := range ids {
			if _, err := (protocol{bus}).Ack(context.Background(), id, 0); err != nil {
				b.Fatal(err)
			}
		}
		acked := used()
		perEntry = float64(pending-before) / n
		perTomb = float64(acked-before) / n
	}
	b.ReportMetric(perEntry, "B/pending-entry")
	b.ReportMetric(perTomb, "B/tombstone")
}

// BenchmarkLedgerOverdueToOnEvent: jobs whose webhooks are lost and whose
// dispatcher is gone, all overdue when a replica with a sweeper starts
// (as if at a random moment of its sweeps): the time from its start to
// each job's OnEvent, with sweeps every 100 ms (30 s by default: the
// figures scale with the interval). Run with -benchtime 200x.
func BenchmarkLedgerOverdueToOnEvent(b *testing.B) {
	const interval = 100 * time.Millisecond
	n := b.N
	f := newFleet(b, testAddr, n, sharpapitest.WithDropRate(1))
	noSweep := fastLedger()
	noSweep.NoSweeper = true
	a := f.start(member{name: "a", grace: time.Millisecond, ledger: noSweep})
	ids := f.dispatchAll(a, nil, n)
	a.srv.Close()
	a.hooks.Close()
	waitFor(b, "every job to be overdue", func() bool {
		st, err := a.bus.LedgerStats(context.Background(), time.Now())
		return err == nil && st.Overdue == int64(n)
	})
	sweep := fastLedger()
	sweep.SweepInterval = interval
	b.ResetTimer()
	start := time.Now()
	f.start(member{name: "b", ledger: sweep})
	f.awaitHooks(ids)
	b.StopTimer()
	f.mu.Lock()
	defer f.mu.Unlock()
	var lat []time.Duration
	for _, id := range ids {
		lat = append(lat, f.hooked[id][0].at.Sub(start))
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(q(0), "ms-first")
	b.ReportMetric(q(0.5), "ms-p50")
	b.ReportMetric(q(1), "ms-last")
}
