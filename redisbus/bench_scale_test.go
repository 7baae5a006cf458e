package redisbus

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
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
	"github.com/sharpapi-go/sharpapi/redisbus/internal/singlebench"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

var (
	scaleSizes      = flag.String("scale.n", "1000", "BenchmarkScaleThreeReplicas: pending jobs per run, comma-separated (the curve: 1000,10000,100000,1000000)")
	scaleDeliverers = flag.Int("scale.deliverers", 4, "BenchmarkScaleThreeReplicas: goroutines delivering the webhooks after the probe")
	scaleProbe      = flag.Int("scale.probe", 1000, "BenchmarkScaleThreeReplicas: webhooks delivered one at a time first, to time each (at most half the jobs)")
)

// scaleReplicas is how many replicas BenchmarkScaleThreeReplicas runs.
const scaleReplicas = 3

// BenchmarkScaleThreeReplicas measures what a pending job costs across
// replicas as the number of pending jobs grows. Three replicas (each a
// WebhookHandler with a redisbus.Bus of its own Redis client, one Redis
// shared) each dispatch a third of n jobs (-scale.n, one sub-benchmark per
// size) to a stub API through a client built WithWebhookHandler, and await
// them with Job.OnDone; job i is awaited on replica i%3 and its webhook
// served by replica (i+1)%3, so every event crosses Redis. Reported:
//
//	pending-keys   keys under the run's prefix while every job is pending:
//	               the ledger's entry per job and its due set (an await's
//	               look-up in the store only reads)
//	pending-B/job  the sum of MEMORY USAGE over those keys, per job
//	redis-B/job    growth of Redis's used_memory (INFO memory) per job from
//	               then until every event is stored: the event, its dedup
//	               key and the keyspace's own overhead (at small n, the
//	               connections' buffers show too)
//	keys-B/job     the sum of MEMORY USAGE over the run's keys, per job;
//	keys/job       their number
//	event-key-B, seen-key-B  MEMORY USAGE of one job's two keys
//
// Then every webhook is delivered through the
// ServeHTTP of the replica that does not await it, in two phases:
//
//	probe  the first -scale.probe jobs (at most half), one at a time, each
//	       timed from ServeHTTP's entry until the OnDone callback runs on
//	       the replica awaiting it, with all other jobs still pending:
//	       latency-p50/p99/max-µs
//	load   the others from -scale.deliverers goroutines, each yielding
//	       after a delivery: deliveries/s until the last callback has
//	       run, and the latency under that load, loaded-p50/p99-µs
//
// It fails unless every callback runs exactly once with the result. CI
// runs it at the default size; the curve:
//
//	go test -run='^$' -bench='^BenchmarkScaleThreeReplicas$' -benchtime=1x -scale.n=1000,10000,100000,1000000
func BenchmarkScaleThreeReplicas(b *testing.B) {
	needRealRedis(b)
	for _, f := range strings.Split(*scaleSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("-scale.n: %q is not a positive size", f)
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var t scaleReplicasRound
			for range b.N {
				t.add(runScaleReplicas(b, n))
			}
			t.report(b)
		})
	}
}

// scaleReplicasRound is what one run of n jobs measured.
type scaleReplicasRound struct {
	jobs              int
	pendingKeys       int64 // keys under the run's prefix, all jobs pending
	pendingBytes      int64 // their MEMORY USAGE
	stored            int64 // growth of used_memory from pending to delivered
	keys, keyBytes    int64 // keys under the prefix once delivered, their MEMORY USAGE
	eventKey, seenKey int64 // MEMORY USAGE of one job's keys
	probe, loaded     []time.Duration
	delivered         int // in the load phase
	delivering        time.Duration
}

func (t *scaleReplicasRound) add(r scaleReplicasRound) {
	t.jobs += r.jobs
	t.pendingKeys = max(t.pendingKeys, r.pendingKeys)
	t.pendingBytes += r.pendingBytes
	t.stored += r.stored
	t.keys += r.keys
	t.keyBytes += r.keyBytes
	t.eventKey, t.seenKey = r.eventKey, r.seenKey
	t.probe = append(t.probe, r.probe...)
	t.loaded = append(t.loaded, r.loaded...)
	t.delivered += r.delivered
	t.delivering += r.delivering
}

func (t *scaleReplicasRound) report(b *testing.B) {
	b.ReportMetric(float64(t.pendingKeys), "pending-keys")
	b.ReportMetric(float64(t.pendingBytes)/float64(t.jobs), "pending-B/job")
	b.ReportMetric(float64(t.stored)/float64(t.jobs), "redis-B/job")
	b.ReportMetric(float64(t.keyBytes)/float64(t.jobs), "keys-B/job")
	b.ReportMetric(float64(t.keys)/float64(t.jobs), "keys/job")
	b.ReportMetric(float64(t.eventKey), "event-key-B")
	b.ReportMetric(float64(t.seenKey), "seen-key-B")
	b.ReportMetric(float64(t.delivered)/t.delivering.Seconds(), "deliveries/s")
	at := func(ds []time.Duration, q float64) float64 {
		return float64(ds[int(q*float64(len(ds)-1))].Nanoseconds()) / 1e3
	}
	if len(t.probe) > 0 {
		slices.Sort(t.probe)
		b.ReportMetric(at(t.probe, 0.50), "latency-p50-µs")
		b.ReportMetric(at(t.probe, 0.99), "latency-p99-µs")
		b.ReportMetric(at(t.probe, 1), "latency-max-µs")
	}
	if len(t.loaded) > 0 {
		slices.Sort(t.loaded)
		b.ReportMetric(at(t.loaded, 0.50), "loaded-p50-µs")
		b.ReportMetric(at(t.loaded, 0.99), "loaded-p99-µs")
	}
}

// loadCounter is an EventBus that counts the job ids it has loaded: each
// await registers and then looks in the store, so the count says when the
// look-ups of n awaits are over. (A job's first look-up ends before its
// event can reach it: look-ups of one id run one at a time.)
type loadCounter struct {
	protocol
	ids    sync.Map // job ids loaded
	loaded atomic.Int64
}

// EventBus makes the counter the handler's bus, in place of its Bus's.
func (c *loadCounter) EventBus() eventbus.Bus { return c }

func (c *loadCounter) Load(ctx context.Context, jobID string) (eventbus.Event, bool, error) {
	ev, found, err := c.protocol.Load(ctx, jobID)
	if err == nil {
		if _, seen := c.ids.LoadOrStore(jobID, struct{}{}); !seen {
			c.loaded.Add(1)
		}
	}
	return ev, found, err
}

func runScaleReplicas(b *testing.B, n int) scaleReplicasRound {
	b.StopTimer()
	defer b.StartTimer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prefix := testPrefix(b)
	admin := redis.NewClient(&redis.Options{Addr: testAddr})
	defer admin.Close()
	defer unlinkPrefix(b, admin, prefix) // leave the shared server as it was

	api := singlebench.StubAPI(b)
	var (
		hs      [scaleReplicas]*sharpapi.WebhookHandler
		buses   [scaleReplicas]*loadCounter
		clients [scaleReplicas]*sharpapi.Client
	)
	for i := range hs {
		rdb := redis.NewClient(&redis.Options{Addr: testAddr, ContextTimeoutEnabled: true})
		defer rdb.Close()
		bus, err := New(rdb, WithKeyPrefix(prefix))
		if err != nil {
			b.Fatal(err)
		}
		buses[i] = &loadCounter{protocol: protocol{bus}}
		if hs[i], err = sharpapi.NewWebhookHandler(e2eSecret, sharpapi.WithEventBus(buses[i])); err != nil {
			b.Fatal(err)
		}
		defer hs[i].Close()
		clients[i] = scaleClient(b, api, hs[i])
	}
	loads := func() (sum int64) {
		for _, c := range buses {
			sum += c.loaded.Load()
		}
		return sum
	}

	jobs := make([]*sharpapi.Job[sharpapi.TranslateResult], n)
	sent := make([]time.Duration, n) // ServeHTTP entry, by the deliverer of i
	got := make([]time.Duration, n)  // the callback, on the replica awaiting i
	calls := make([]atomic.Int32, n)
	var bad atomic.Value
	var outcomes sync.WaitGroup
	outcomes.Add(n)
	probe := min(*scaleProbe, n/2)
	probed := make(chan int, 1) // the probe's jobs, one at a time
	base := time.Now()
	// Open the Redis connections a dispatch and a delivery use, so that
	// the baseline has them.
	warmReplicas(b, hs[:], clients[:])
	loads0 := loads()
	keys0, bytes0 := keysUnder(b, admin, prefix) // the warm-up's

	// Dispatch and await: job i on replica i%3.
	dispatchOn(b, clients[:], jobs)
	for i, job := range jobs {
		job.OnDone(ctx, func(res sharpapi.TranslateResult, err error) {
			got[i] = time.Since(base)
			defer outcomes.Done()
			if calls[i].Add(1) > 1 {
				return // counted: the run fails
			}
			if err != nil || res.Content == "" {
				bad.Store(fmt.Sprintf("job %s: %q, %v", job.ID(), res.Content, err))
			}
			if i < probe {
				probed <- i
			}
		})
	}
	// Each await looked in the store once; wait for those look-ups to end.
	deadline := time.Now().Add(5 * time.Minute)
	for loads()-loads0 < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d look-ups done after 5 minutes", loads()-loads0, n)
		}
		runtime.Gosched()
	}
	pendingKeys, pendingBytes := keysUnder(b, admin, prefix)
	r1 := usedMemory(b, admin)
	for i, h := range hs {
		if st := h.Stats(); st.Waiting != (n+scaleReplicas-1-i)/scaleReplicas {
			b.Fatalf("replica %d awaits %d jobs, want %d", i, st.Waiting, (n+scaleReplicas-1-i)/scaleReplicas)
		}
	}

	bodies := make([][]byte, n)
	sigs := make([]string, n)
	for i, job := range jobs {
		bodies[i], sigs[i] = signedTranslation(job.ID())
	}
	serve := func(i int) error {
		req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(bodies[i]))
		req.Header.Set(sharpapi.WebhookSignatureHeader, sigs[i])
		rec := httptest.NewRecorder()
		sent[i] = time.Since(base)
		hs[(i+1)%scaleReplicas].ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return fmt.Errorf("delivery of job %s answered %d", jobs[i].ID(), rec.Code)
		}
		return nil
	}

	// No collection in progress when the probe starts: building the
	// deliveries may have started one, over a heap of n pending jobs.
	runtime.GC()
	b.StartTimer()
	for i := range probe {
		if err := serve(i); err != nil {
			b.Fatal(err)
		}
		select {
		case j := <-probed:
			if j != i {
				b.Fatalf("probe: job %d's callback ran while job %d's was awaited", j, i)
			}
		case <-time.After(time.Minute):
			b.Fatalf("probe: job %s's callback did not run within a minute", jobs[i].ID())
		}
	}
	deliverers := max(*scaleDeliverers, 1)
	errs := make(chan error, deliverers)
	var wg sync.WaitGroup
	start := time.Now()
	for d := range deliverers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := probe + d; i < n; i += deliverers {
				if err := serve(i); err != nil {
					errs <- err
					return
				}
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	all := make(chan struct{})
	go func() {
		outcomes.Wait()
		close(all)
	}()
	select {
	case <-all:
	case <-time.After(time.Minute):
		for i, h := range hs {
			b.Logf("replica %d: %+v", i, h.Stats())
		}
		b.Fatal("some callbacks never ran")
	}
	r := scaleReplicasRound{jobs: n, delivering: time.Since(start), delivered: n - probe}
	b.StopTimer()
	r2 := usedMemory(b, admin)

	for i := range calls {
		if c := calls[i].Load(); c != 1 {
			b.Fatalf("job %s: %d callbacks, want 1", jobs[i].ID(), c)
		}
	}
	if v := bad.Load(); v != nil {
		b.Fatal(v)
	}
	r.pendingKeys, r.pendingBytes, r.stored = pendingKeys-keys0, pendingBytes-bytes0, r2-r1
	r.keys, r.keyBytes = keysUnder(b, admin, prefix)
	r.keys, r.keyBytes = r.keys-keys0, r.keyBytes-bytes0
	var err error
	if r.eventKey, err = admin.MemoryUsage(ctx, buses[0].eventKey(jobs[0].ID())).Result(); err != nil {
		b.Fatal(err)
	}
	if r.seenKey, err = admin.MemoryUsage(ctx, buses[0].seenKey(jobs[0].ID())).Result(); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if i < probe {
			r.probe = append(r.probe, got[i]-sent[i])
		} else {
			r.loaded = append(r.loaded, got[i]-sent[i])
		}
	}
	return r
}

// scaleClient returns a client of api (a singlebench.StubAPI) whose jobs
// await their webhook through h, as singlebench.Client does, with a
// transport that keeps enough connections idle for dispatchOn.
func scaleClient(b *testing.B, api *httptest.Server, h *sharpapi.WebhookHandler) *sharpapi.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	c, err := sharpapi.NewClient("stub-key", sharpapi.WithBaseURL(api.URL), sharpapi.WithHTTPClient(&http.Client{Transport: tr}),
		sharpapi.WithWebhookHandler(h), sharpapi.WithWebhook("http://127.0.0.1:1/hooks/sharpapi"),
		sharpapi.WithWebhookGrace(time.Hour), sharpapi.WithoutRateLimiter())
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// dispatchOn dispatches len(jobs) translations, job i through
// clients[i%len(clients)], from two goroutines per client.
func dispatchOn(b *testing.B, clients []*sharpapi.Client, jobs []*sharpapi.Job[sharpapi.TranslateResult]) {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for range 2 * len(clients) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				job, err := clients[i%len(clients)].Translate(context.Background(),
					sharpapi.TranslateParams{Content: "turn", Language: "French"})
				if err != nil {
					errOnce.Do(func() { first = err })
					return
				}
				jobs[i] = job
			}
		}()
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

// signedTranslation is singlebench.Delivery's body and signature for id:
// the emulator's translation result as a webhook, 1 KiB.
func signedTranslation(id string) ([]byte, string) {
	raw, _ := sharpapitest.ExampleResult(string(sharpapi.JobTypeContentTranslate))
	body := []byte(`{"id":"` + id + `","status":"success","type":"content_translate","result":` + string(raw) + `}`)
	return body, sharpapitest.Sign(body, e2eSecret)
}

// usedMemory is Redis's used_memory (INFO memory).
func usedMemory(b *testing.B, rdb *redis.Client) int64 {
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("INFO memory has no used_memory")
	return 0
}

// keysUnder returns the number of keys under prefix and the sum of their
// MEMORY USAGE.
func keysUnder(b *testing.B, rdb *redis.Client, prefix string) (keys, bytes int64) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 10000).Iterator()
	var batch []string
	flush := func() {
		cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range batch {
				p.MemoryUsage(ctx, k)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range cmds {
			bytes += c.(*redis.IntCmd).Val()
		}
		keys += int64(len(batch))
		batch = batch[:0]
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			flush()
		}
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
	flush()
	return keys, bytes
}

// warmReplicas dispatches, awaits and delivers a few jobs on every
// replica, so that the Redis connections a run uses are open.
func warmReplicas(b *testing.B, hs []*sharpapi.WebhookHandler, clients []*sharpapi.Client) {
	jobs := make([]*sharpapi.Job[sharpapi.TranslateResult], 8*len(hs))
	dispatchOn(b, clients, jobs)
	var wg sync.WaitGroup
	for i, job := range jobs {
		ch := job.WaitAsync(context.Background())
		body, sig := signedTranslation(job.ID())
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
			req.Header.Set(sharpapi.WebhookSignatureHeader, sig)
			hs[(i+1)%len(hs)].ServeHTTP(httptest.NewRecorder(), req)
		}()
		defer func() {
			if o := <-ch; o.Err != nil {
				b.Fatal(o.Err)
			}
		}()
	}
	wg.Wait()
}

// unlinkPrefix deletes every key under prefix.
func unlinkPrefix(b *testing.B, rdb *redis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 10000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 1000 {
			rdb.Unlink(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Unlink(ctx, keys...)
	}
	if err := iter.Err(); err != nil {
		b.Error(err)
	}
}
