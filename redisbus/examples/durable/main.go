// Command durable shows durable completion: replica 1 of a service
// dispatches jobs and is killed at once, before any of them finishes; a
// share of their webhooks is lost on the way. Replicas 2 and 3, sharing
// one Redis through redisbus, still complete every job: the webhooks that
// arrive reach them through the load balancer, and their sweepers poll the
// jobs whose webhooks were lost once those are overdue. Each job reaches
// OnEvent, where the service persists results, once.
//
// It starts the SharpAPI emulator, and a redis-server on loopback unless
// SHARPAPI_REDIS_ADDR names one:
//
//	go run ./examples/durable   (from redisbus/)
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/redisbus"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

const (
	jobCount = 30
	secret   = "durable-demo-secret"
	// The client's webhook grace: a job whose webhook has not come by then
	// is overdue, and a sweeper polls it. 90 s in production; short here.
	grace = 300 * time.Millisecond
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv("SHARPAPI_REDIS_ADDR")); err != nil {
		fmt.Fprintln(os.Stderr, "durable:", err)
		os.Exit(1)
	}
}

// results is the service's database: OnEvent upserts each job's result
// keyed by its job id, which makes a repeated call harmless (OnEvent runs
// at least once per job).
type results struct {
	mu    sync.Mutex
	rows  map[string]string // job id → translated content
	by    map[string]int    // job id → the replica whose OnEvent stored it
	calls map[string]int    // job id → OnEvent calls
	added chan struct{}     // a row was added
}

func (db *results) upsert(replica int, ev sharpapi.WebhookEvent) error {
	var res sharpapi.TranslateResult
	if err := ev.Decode(&res); err != nil {
		return err // not taken: the event is offered again later
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.calls[ev.ID]++
	if _, ok := db.rows[ev.ID]; !ok {
		db.rows[ev.ID], db.by[ev.ID] = res.Content, replica
		db.added <- struct{}{}
	}
	return nil
}

// replica is one process of the service.
type replica struct {
	n      int
	rdb    *redis.Client
	bus    *redisbus.Bus
	hooks  *sharpapi.WebhookHandler
	srv    *httptest.Server
	client *sharpapi.Client
}

func newReplica(n int, redisAddr, apiURL, webhookURL string, db *results) (*replica, error) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
	bus, err := redisbus.New(rdb)
	if err != nil {
		return nil, err
	}
	hooks, err := sharpapi.NewWebhookHandler(secret, sharpapi.WithEventBus(bus),
		// Short timings for the demonstration; the defaults sweep every 30 s.
		sharpapi.WithLedgerConfig(sharpapi.LedgerConfig{SweepInterval: 100 * time.Millisecond}),
		sharpapi.OnEvent(func(_ context.Context, ev sharpapi.WebhookEvent) error {
			if !ev.Status.Terminal() {
				return nil
			}
			return db.upsert(n, ev)
		}))
	if err != nil {
		return nil, err
	}
	client, err := sharpapi.NewClient("durable-demo-key",
		sharpapi.WithBaseURL(apiURL),
		sharpapi.WithWebhookHandler(hooks), // the client records its jobs in the ledger; the handler sweeps it
		sharpapi.WithWebhook(webhookURL),
		sharpapi.WithWebhookGrace(grace))
	if err != nil {
		hooks.Close()
		return nil, err
	}
	return &replica{n: n, rdb: rdb, bus: bus, hooks: hooks, srv: httptest.NewServer(hooks), client: client}, nil
}

// kill stops the replica as abruptly as one process can: no more webhooks,
// no more Redis; nothing it dispatched is awaited.
func (r *replica) kill() {
	r.srv.Close()
	r.rdb.Close()
	r.hooks.Close()
}

// balancer sends each webhook to the live replicas in turn.
type balancer struct {
	mu   sync.Mutex
	live []*httputil.ReverseProxy
	next atomic.Uint64
}

func (b *balancer) set(rs []*replica) {
	var live []*httputil.ReverseProxy
	for _, r := range rs {
		u, _ := url.Parse(r.srv.URL)
		live = append(live, httputil.NewSingleHostReverseProxy(u))
	}
	b.mu.Lock()
	b.live = live
	b.mu.Unlock()
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	live := b.live
	b.mu.Unlock()
	if len(live) == 0 {
		http.Error(w, "no replica", http.StatusBadGateway)
		return
	}
	live[b.next.Add(1)%uint64(len(live))].ServeHTTP(w, r)
}

func run(ctx context.Context, out io.Writer, redisAddr string) error {
	if redisAddr == "" {
		addr, stop, err := startRedis(ctx)
		if err != nil {
			return err
		}
		defer stop()
		redisAddr = addr
	}
	emu := sharpapitest.NewServer(
		sharpapitest.WithWebhookSecret(secret),
		sharpapitest.WithJobDuration(100*time.Millisecond),
		sharpapitest.WithDropRate(0.4), // lost on the way: never sent
		sharpapitest.WithSeed(7),
		sharpapitest.WithResult(string(sharpapi.JobTypeContentTranslate), func(req sharpapitest.JobRequest) (any, error) {
			return map[string]string{"content": "[it] " + req.Text("content"), "to_language": "Italian"}, nil
		}))
	defer emu.Close()
	lb := &balancer{}
	front := httptest.NewServer(lb)
	defer front.Close()

	db := &results{rows: map[string]string{}, by: map[string]int{}, calls: map[string]int{}, added: make(chan struct{}, jobCount)}
	var rs []*replica
	for n := 1; n <= 3; n++ {
		r, err := newReplica(n, redisAddr, emu.URL, front.URL+"/hooks/sharpapi", db)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	defer func() {
		for _, r := range rs[1:] {
			r.srv.Close()
			r.hooks.Close()
			r.rdb.Close()
		}
	}()
	lb.set(rs[1:]) // replica 1 will be gone when the webhooks come

	texts := map[string]string{}
	for i := range jobCount {
		text := "message " + strconv.Itoa(i)
		job, err := rs[0].client.Translate(ctx, sharpapi.TranslateParams{Content: text, Language: "Italian"})
		if err != nil {
			return err
		}
		texts[job.ID()] = text
	}
	rs[0].kill()
	fmt.Fprintf(out, "replica 1 dispatched %d jobs and was killed before any finished\n", jobCount)

	deadline := time.After(30 * time.Second)
	for range jobCount {
		select {
		case <-db.added:
		case <-deadline:
			return fmt.Errorf("only %d of %d jobs reached OnEvent within 30s", len(db.rows), jobCount)
		}
	}
	// Each job leaves the ledger once its OnEvent has returned nil: what
	// an operator watches (Bus.LedgerStats) drains to zero.
	for tick := time.NewTicker(20 * time.Millisecond); ; <-tick.C {
		st, err := rs[1].bus.LedgerStats(ctx, time.Now())
		if err != nil {
			return err
		}
		if st.Pending == 0 {
			tick.Stop()
			break
		}
		select {
		case <-deadline:
			return fmt.Errorf("the ledger still holds %d jobs after 30s", st.Pending)
		default:
		}
	}

	db.mu.Lock()
	defer db.mu.Unlock()
	dropped := map[string]bool{}
	for _, d := range emu.Deliveries() {
		if d.Dropped {
			dropped[d.JobID] = true
		}
	}
	ids := make([]string, 0, len(texts))
	for id := range texts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	swept, once := 0, 0
	var errs []error
	for _, id := range ids {
		how := "its webhook"
		if dropped[id] {
			how, swept = "a sweep (its webhook was lost)", swept+1
		}
		if db.calls[id] == 1 {
			once++
		}
		if want := "[it] " + texts[id]; db.rows[id] != want {
			errs = append(errs, fmt.Errorf("job %s: stored %q, want %q", id, db.rows[id], want))
		}
		fmt.Fprintf(out, "job %s: OnEvent on replica %d, from %s\n", id, db.by[id], how)
	}
	fmt.Fprintf(out, "%d jobs: %d completed from their webhooks, %d by the sweepers of replicas 2 and 3; %d reached OnEvent exactly once; 0 lost\n",
		jobCount, jobCount-swept, swept, once)
	return errors.Join(errs...)
}

// startRedis runs a throwaway redis-server on a free loopback port, without
// persistence, and returns its address and a function that stops it.
func startRedis(ctx context.Context) (string, func(), error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, errors.New("no redis-server in PATH: install it (apt-get install redis-server) or set SHARPAPI_REDIS_ADDR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "durable-redis-")
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- true
			}
		}
		ready <- false // exited; also drains the log until then
	}()
	select {
	case ok := <-ready:
		if ok {
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), stop, nil
		}
		stop()
		return "", nil, fmt.Errorf("redis-server exited before it was ready (port %d taken?)", port)
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, errors.New("redis-server was not ready within 30s")
	}
}
