package redisbus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/redisbus/internal/singlebench"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

const e2eSecret = "whsec-redisbus-e2e"

// gate blocks new connections of one replica's Redis client while shut,
// so that a test can keep that replica's subscription down for as long as
// it needs: go-redis reconnects within milliseconds otherwise.
type gate struct {
	mu   sync.Mutex
	shut bool
}

func (g *gate) set(shut bool) {
	g.mu.Lock()
	g.shut = shut
	g.mu.Unlock()
}

func (g *gate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	g.mu.Lock()
	shut := g.shut
	g.mu.Unlock()
	if shut {
		return nil, errors.New("test gate: connections refused")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// cluster is the emulator and the replicas of one service sharing a Redis.
type cluster struct {
	t        *testing.T
	emu      *sharpapitest.Server
	addr     string // Redis
	prefix   string
	replicas []*replica
	onEvent  atomic.Int64 // OnEvent calls, cluster-wide
}

// replica is one process of the service: its own Redis client, bus,
// handler, HTTP server and SharpAPI client.
type replica struct {
	gate   gate
	rdb    redis.UniversalClient
	bus    *Bus
	hooks  *sharpapi.WebhookHandler
	srv    *httptest.Server
	client *sharpapi.Client
	// clients are all the clients built with hooks, client first (a
	// fleet's replica may have several API keys).
	clients []*sharpapi.Client
}

func newCluster(t *testing.T, addr string, replicas int, emuOpts ...sharpapitest.Option) *cluster {
	t.Helper()
	c := &cluster{t: t, addr: addr, prefix: testPrefix(t)}
	c.emu = sharpapitest.NewServer(append([]sharpapitest.Option{
		sharpapitest.WithWebhookSecret(e2eSecret),
		sharpapitest.WithJobDuration(time.Millisecond),
		sharpapitest.WithRetryAfter(time.Millisecond),
		sharpapitest.WithWebhookRetryDelay(time.Millisecond),
		sharpapitest.WithRateLimit(1<<30, time.Minute),
		sharpapitest.WithResult(string(sharpapi.JobTypeContentTranslate), func(req sharpapitest.JobRequest) (any, error) {
			return map[string]string{"content": "<" + req.Text("content") + ">", "to_language": "Italian"}, nil
		}),
	}, emuOpts...)...)
	t.Cleanup(c.emu.Close)
	for range replicas {
		c.add()
	}
	return c
}

// add starts one more replica; hookOpts go to its handler.
func (c *cluster) add(hookOpts ...sharpapi.WebhookOption) *replica {
	t := c.t
	t.Helper()
	r := &replica{}
	r.rdb = redis.NewClient(&redis.Options{Addr: c.addr, ContextTimeoutEnabled: true, Dialer: r.gate.dial})
	t.Cleanup(func() { r.rdb.Close() })
	bus, err := New(r.rdb, WithKeyPrefix(c.prefix))
	if err != nil {
		t.Fatal(err)
	}
	r.bus = bus
	r.hooks, err = sharpapi.NewWebhookHandler(e2eSecret, append([]sharpapi.WebhookOption{sharpapi.WithEventBus(bus),
		sharpapi.OnEvent(func(_ context.Context, ev sharpapi.WebhookEvent) error {
			if ev.Status.Terminal() {
				c.onEvent.Add(1)
			}
			return nil
		})}, hookOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.hooks.Close() })
	r.srv = httptest.NewServer(r.hooks)
	t.Cleanup(r.srv.Close)
	r.client, err = sharpapi.NewClient("e2e-key",
		sharpapi.WithBaseURL(c.emu.URL),
		sharpapi.WithWebhookHandler(r.hooks),
		sharpapi.WithWebhookGrace(time.Hour), // a poll fails the test: counted, never needed
		sharpapi.WithPollInterval(time.Millisecond),
		sharpapi.WithMaxRetries(10),
		sharpapi.WithRetryWait(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c.replicas = append(c.replicas, r)
	return r
}

// dispatch sends a translation of text from replica from, with its webhook
// going to replica to.
func (c *cluster) dispatch(ctx context.Context, from, to *replica, text string) (*sharpapi.Job[sharpapi.TranslateResult], error) {
	return from.client.Translate(ctx, sharpapi.TranslateParams{Content: text, Language: "Italian"},
		sharpapi.WithWebhook(to.srv.URL+"/hooks/sharpapi"))
}

// check waits for job and checks it got the result for text.
func check(ctx context.Context, job *sharpapi.Job[sharpapi.TranslateResult], text string) error {
	res, err := job.Wait(ctx)
	if err != nil {
		return fmt.Errorf("job %s: %w", job.ID(), err)
	}
	if want := "<" + text + ">"; res.Content != want {
		return fmt.Errorf("job %s: result %q, want %q", job.ID(), res.Content, want)
	}
	return nil
}

func (c *cluster) polls(ids ...string) int {
	n := 0
	for _, id := range ids {
		info, ok := c.emu.Job(id)
		if !ok {
			c.t.Fatalf("the emulator has no job %s", id)
		}
		n += info.Polls
	}
	return n
}

// acknowledged reports whether the emulator's webhook for id got a 2xx.
func (c *cluster) acknowledged(id string) bool {
	for _, d := range c.emu.Deliveries() {
		if d.JobID == id && d.StatusCode >= 200 && d.StatusCode < 300 {
			return true
		}
	}
	return false
}

// onEventRanOnce checks that OnEvent ran once per job in the cluster. Each
// replica counts the events its Store won before it answers, and OnEvent
// runs exactly where that count grows (in a goroutine of its own), so once
// every delivery has been answered the counts are final and OnEvent
// catches up with them.
func (c *cluster) onEventRanOnce(t *testing.T, jobs int) {
	t.Helper()
	var stored uint64
	for _, r := range c.replicas {
		stored += r.hooks.Stats().Stored
	}
	if stored != uint64(jobs) {
		t.Errorf("the replicas stored %d events for %d jobs", stored, jobs)
	}
	waitFor(t, "OnEvent to run for every stored event", func() bool { return c.onEvent.Load() >= int64(stored) })
	if n := c.onEvent.Load(); n != int64(jobs) {
		t.Errorf("OnEvent ran %d times for %d jobs", n, jobs)
	}
}

// idle checks that a replica holds nothing: no waiter, no buffered event.
func (r *replica) idle(t *testing.T, name string) {
	t.Helper()
	if st := r.hooks.Stats(); st.Waiting != 0 || st.Buffered != 0 {
		t.Errorf("%s holds %d waiters and %d buffered events; want none", name, st.Waiting, st.Buffered)
	}
}

func TestWebhookReachesTheWaiterOnAnotherReplica(t *testing.T) {
	c := newCluster(t, testAddr, 3)
	a, b, other := c.replicas[0], c.replicas[1], c.replicas[2]
	job, err := c.dispatch(t.Context(), a, b, "ciao")
	if err != nil {
		t.Fatal(err)
	}
	if err := check(t.Context(), job, "ciao"); err != nil {
		t.Fatal(err)
	}
	if n := c.polls(job.ID()); n != 0 {
		t.Errorf("%d status polls; want 0", n)
	}
	c.emu.Close() // waits for the emulator's deliveries: every copy has been answered
	c.onEventRanOnce(t, 1)
	for i, r := range []*replica{a, b, other} {
		r.idle(t, fmt.Sprintf("replica %d", i))
	}
}

// TestRedisRestartWhileJobsAreInFlight stops Redis while jobs run: their
// webhooks are answered 5xx, and once Redis is back (empty), SharpAPI's
// retries store and deliver them. Every job completes once, from its
// webhook.
func TestRedisRestartWhileJobsAreInFlight(t *testing.T) {
	srv := ownRedis(t)
	// Attempts a second apart: Redis is back long before the last one.
	c := newCluster(t, srv.addr, 3, sharpapitest.WithWebhookRetryDelay(time.Second))
	const n = 12
	srv.stop()
	jobs := make([]*sharpapi.Job[sharpapi.TranslateResult], n)
	// All at once: each dispatch waits for its ledger record to fail (the
	// client's dial retries), and the webhooks' retries must not run out
	// meanwhile.
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job, err := c.dispatch(t.Context(), c.replicas[i%3], c.replicas[(i+1)%3], "job "+strconv.Itoa(i))
			if err != nil {
				t.Error(err)
			}
			jobs[i] = job
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	waitFor(t, "every first delivery to be refused", func() bool {
		refused := 0
		for _, d := range c.emu.Deliveries() {
			if d.Attempt == 1 && d.StatusCode >= 500 {
				refused++
			}
		}
		return refused == n
	})
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i, job := range jobs {
		if err := check(t.Context(), job, "job "+strconv.Itoa(i)); err != nil {
			t.Error(err)
		}
		ids[i] = job.ID()
	}
	if p := c.polls(ids...); p != 0 {
		t.Errorf("%d status polls; want 0", p)
	}
	c.emu.Close()
	c.onEventRanOnce(t, n)
	for i, r := range c.replicas {
		r.idle(t, fmt.Sprintf("replica %d", i))
	}
}

// TestEventsPublishedWhileTheSubscriptionIsDown kills the subscriptions
// (CLIENT KILL TYPE pubsub) and keeps the awaiting replica from
// reconnecting while its jobs' events are stored and published elsewhere:
// the re-check after it subscribes again delivers them, with no poll.
func TestEventsPublishedWhileTheSubscriptionIsDown(t *testing.T) {
	needRealRedis(t)
	clock := sharpapitest.NewManualClock(time.Now())
	c := newCluster(t, testAddr, 2, sharpapitest.WithClock(clock), sharpapitest.WithJobDuration(time.Second))
	a, b := c.replicas[0], c.replicas[1]
	const n = 20
	errs := make(chan error, n)
	ids := make([]string, n)
	for i := range ids {
		text := "job " + strconv.Itoa(i)
		job, err := c.dispatch(t.Context(), a, b, text)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = job.ID()
		go func() { errs <- check(t.Context(), job, text) }()
	}
	waitFor(t, "every job to be awaited", func() bool { return a.hooks.Stats().Waiting == n })
	a.gate.set(true)
	if err := b.rdb.ClientKillByFilter(t.Context(), "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second) // the jobs finish; their webhooks go to b
	waitFor(t, "every webhook to be acknowledged", func() bool {
		for _, id := range ids {
			if !c.acknowledged(id) {
				return false
			}
		}
		return true
	})
	a.gate.set(false)
	for range n {
		if err := recv(t, errs, "a job's result"); err != nil {
			t.Error(err)
		}
	}
	if p := c.polls(ids...); p != 0 {
		t.Errorf("%d status polls; want 0", p)
	}
}

// signedDelivery is a webhook as SharpAPI would send it.
func signedDelivery(id string) (body []byte, signature string) {
	body = []byte(`{"id":"` + id + `","status":"success","type":"content_translate","result":{"content":"<ciao>","to_language":"Italian"}}`)
	return body, sharpapitest.Sign(body, e2eSecret)
}

func post(t *testing.T, r *replica, body []byte, signature string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(sharpapi.WebhookSignatureHeader, signature)
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRedisPausedPastTheTimeoutAnswers503: while Redis does not answer, a
// delivery is refused and nothing is kept that Redis does not hold; the
// retry after it resumes (here landing on a third replica) is delivered
// once.
func TestRedisPausedPastTheTimeoutAnswers503(t *testing.T) {
	needRealRedis(t)
	c := newCluster(t, testAddr, 0)
	a := c.add()
	b := c.add(sharpapi.WithPublishTimeout(200 * time.Millisecond))
	retried := c.add() // the default timeout: a loaded machine must not fail the retry
	job := singlebench.Dispatch(t, singlebench.Client(t, singlebench.StubAPI(t), a.hooks))
	id := job.ID()
	events := job.WaitAsync(t.Context())
	admin := newClient(t, testAddr)
	if err := admin.Do(t.Context(), "CLIENT", "PAUSE", 10000, "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Do(context.Background(), "CLIENT", "UNPAUSE") })
	body, sig := signedDelivery(id)
	if code := post(t, b, body, sig); code != http.StatusServiceUnavailable {
		t.Fatalf("delivery while Redis is paused answered %d; want 503", code)
	}
	if st := b.hooks.Stats(); st.PublishErrors != 1 || st.Waiting != 0 || st.Buffered != 0 {
		t.Errorf("replica b: %d publish errors, %d waiters, %d buffered events; want 1, 0, 0", st.PublishErrors, st.Waiting, st.Buffered)
	}
	// Reads are not paused: what the 503 refused, Redis does not hold.
	if n, err := admin.Exists(t.Context(), b.bus.eventKey(id), b.bus.seenKey(id)).Result(); err != nil || n != 0 {
		t.Errorf("Redis holds %d keys of the refused event (%v); want none", n, err)
	}
	if err := admin.Do(t.Context(), "CLIENT", "UNPAUSE").Err(); err != nil {
		t.Fatal(err)
	}
	for range 2 { // SharpAPI's retry, then one more
		if code := post(t, retried, body, sig); code != http.StatusOK {
			t.Fatalf("retry answered %d; want 200", code)
		}
	}
	if out := recv(t, events, "the job's outcome on replica a"); out.Err != nil || out.Value.Content != "<ciao>" {
		t.Errorf("replica a got %+v", out)
	}
	c.onEventRanOnce(t, 1)
}

// TestFreshReplicaResumesFromTheStore: replica a dispatches and goes away,
// the webhook lands on b, and a fresh replica that resumes the job gets
// the result from Redis without polling.
func TestFreshReplicaResumesFromTheStore(t *testing.T) {
	c := newCluster(t, testAddr, 2)
	a, b := c.replicas[0], c.replicas[1]
	job, err := c.dispatch(t.Context(), a, b, "resume me")
	if err != nil {
		t.Fatal(err)
	}
	a.srv.Close()
	a.hooks.Close()
	waitFor(t, "the webhook to be acknowledged", func() bool { return c.acknowledged(job.ID()) })
	fresh := c.add()
	resumed, err := sharpapi.ResumeJob[sharpapi.TranslateResult](fresh.client, job.ID(), sharpapi.JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	if err := check(t.Context(), resumed, "resume me"); err != nil {
		t.Fatal(err)
	}
	if p := c.polls(job.ID()); p != 0 {
		t.Errorf("%d status polls; want 0", p)
	}
}

// TestSameDeliveryPostedToTwoReplicasAtOnce posts one signed delivery to
// two replicas concurrently, twice each: the waiter on a third replica
// gets it once, one notification is published, and OnEvent runs once.
func TestSameDeliveryPostedToTwoReplicasAtOnce(t *testing.T) {
	c := newCluster(t, testAddr, 3)
	a, b, w := c.replicas[0], c.replicas[1], c.replicas[2]
	listener := newClient(t, testAddr)
	pub := listenTo(t, listener, w.bus)
	job := singlebench.Dispatch(t, singlebench.Client(t, singlebench.StubAPI(t), w.hooks))
	id := job.ID()
	done := make(chan sharpapi.Outcome[sharpapi.TranslateResult], 4)
	job.OnDone(t.Context(), func(v sharpapi.TranslateResult, err error) {
		done <- sharpapi.Outcome[sharpapi.TranslateResult]{Value: v, Err: err}
	})
	body, sig := signedDelivery(id)
	start := make(chan struct{})
	codes := make(chan int, 4)
	for _, r := range []*replica{a, b, a, b} {
		go func() {
			<-start
			codes <- post(t, r, body, sig)
		}()
	}
	close(start)
	for range 4 {
		if code := recv(t, codes, "an answer"); code != http.StatusOK {
			t.Errorf("a delivery answered %d; want 200", code)
		}
	}
	if out := recv(t, done, "the job's outcome"); out.Err != nil || out.Value.Content != "<ciao>" {
		t.Errorf("the waiter got %+v", out)
	}
	if diff := cmp.Diff([]string{id}, pub.ids()); diff != "" {
		t.Errorf("notifications published (-want +got):\n%s", diff)
	}
	c.onEventRanOnce(t, 1)
	// One notification, so one Load and one hand-over: the waiter ran once.
	if n := w.hooks.Stats().Delivered; n != 1 {
		t.Errorf("the waiting replica delivered %d events; want 1", n)
	}
	if d := a.hooks.Stats().Duplicates + b.hooks.Stats().Duplicates; d != 3 {
		t.Errorf("%d duplicates counted; want 3", d)
	}
}

// TestManyJobsOverThreeReplicas runs many jobs, each dispatched on one
// replica with its webhook landing on another: every job completes once,
// from its webhook, no replica keeps anything, and no goroutine is left.
// SHARPAPI_REDISBUS_JOBS sets the number (default 10 000; 500 with -short).
func TestManyJobsOverThreeReplicas(t *testing.T) {
	jobs := 10000
	if testing.Short() {
		jobs = 500
	}
	if v, err := strconv.Atoi(os.Getenv("SHARPAPI_REDISBUS_JOBS")); err == nil && v > 0 {
		jobs = v
	}
	before := runtime.NumGoroutine()
	t.Run("jobs", func(t *testing.T) { manyJobs(t, jobs) })
	waitFor(t, "the goroutines to return", func() bool { return runtime.NumGoroutine() <= before })
}

func manyJobs(t *testing.T, jobs int) {
	c := newCluster(t, testAddr, 3, sharpapitest.WithRecordLimit(100))
	const workers = 48
	next := make(chan int)
	errs := make(chan error, jobs)
	ids := make([]string, jobs)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				text := "job " + strconv.Itoa(i)
				job, err := c.dispatch(t.Context(), c.replicas[i%3], c.replicas[(i+1)%3], text)
				if err == nil {
					ids[i] = job.ID()
					err = check(t.Context(), job, text)
				}
				errs <- err
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if failed++; failed <= 5 {
				t.Error(err)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d jobs failed", failed, jobs)
	}
	if p := c.polls(ids...); p != 0 {
		t.Errorf("%d status polls; want 0", p)
	}
	c.emu.Close() // every webhook copy has been answered
	c.onEventRanOnce(t, jobs)
	var delivered uint64
	for i, r := range c.replicas {
		r.idle(t, fmt.Sprintf("replica %d", i))
		delivered += r.hooks.Stats().Delivered
	}
	if delivered != uint64(jobs) {
		t.Errorf("%d events delivered to waiters for %d jobs", delivered, jobs)
	}
}
