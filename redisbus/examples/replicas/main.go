// Command replicas runs three replicas of one service behind a
// round-robin proxy that sends every webhook to a replica other than the
// one that dispatched the job, all sharing one Redis through redisbus, and
// shows that each job still completes from its webhook: no status poll.
//
// It starts the SharpAPI emulator, and a redis-server on loopback unless
// SHARPAPI_REDIS_ADDR names one:
//
//	go run ./examples/replicas   (from redisbus/)
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
	replicaCount = 3
	jobCount     = 30
	secret       = "replicas-demo-secret"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv("SHARPAPI_REDIS_ADDR")); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

// replica is what one process of the service holds: its own Redis client,
// bus, webhook handler, HTTP server and SharpAPI client.
type replica struct {
	rdb    *redis.Client
	hooks  *sharpapi.WebhookHandler
	srv    *httptest.Server
	client *sharpapi.Client
}

func newReplica(redisAddr, apiURL, webhookURL string) (*replica, error) {
	// ContextTimeoutEnabled lets a Store abandon a command that Redis does
	// not answer within the bus's timeout.
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
	bus, err := redisbus.New(rdb)
	if err != nil {
		return nil, err
	}
	hooks, err := sharpapi.NewWebhookHandler(secret, sharpapi.WithEventBus(bus))
	if err != nil {
		return nil, err
	}
	client, err := sharpapi.NewClient("replicas-demo-key",
		sharpapi.WithBaseURL(apiURL),
		sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhook(webhookURL))
	if err != nil {
		hooks.Close()
		return nil, err
	}
	return &replica{rdb: rdb, hooks: hooks, srv: httptest.NewServer(hooks), client: client}, nil
}

func (r *replica) close() {
	r.srv.Close()
	r.hooks.Close() // closes the bus too
	r.rdb.Close()
}

// proxy is the load balancer in front of the replicas. A webhook's URL
// names the replica that dispatched the job (/hook/N); the proxy sends it
// to the others in turn, never to N.
type proxy struct {
	targets []*httputil.ReverseProxy
	next    atomic.Uint64
	mu      sync.Mutex
	landed  map[string]int // job id → replica the webhook went to
}

func newProxy(replicas []*replica) *proxy {
	p := &proxy{landed: make(map[string]int)}
	for _, r := range replicas {
		u, _ := url.Parse(r.srv.URL)
		p.targets = append(p.targets, httputil.NewSingleHostReverseProxy(u))
	}
	return p
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	from, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hook/"))
	if err != nil || from < 0 || from >= len(p.targets) {
		http.NotFound(w, r)
		return
	}
	to := (from + 1 + int(p.next.Add(1)%uint64(len(p.targets)-1))) % len(p.targets)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	var ev struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &ev) == nil {
		p.mu.Lock()
		p.landed[ev.ID] = to
		p.mu.Unlock()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.URL.Path = "/"
	p.targets[to].ServeHTTP(w, r)
}

func (p *proxy) landedOn(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.landed[id]
}

type outcome struct {
	id      string
	from    int
	latency time.Duration
	err     error
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
		sharpapitest.WithJobDuration(20*time.Millisecond),
		sharpapitest.WithResult(string(sharpapi.JobTypeContentTranslate), func(req sharpapitest.JobRequest) (any, error) {
			return map[string]string{"content": "[it] " + req.Text("content"), "to_language": "Italian"}, nil
		}))
	defer emu.Close()

	// The proxy's URL is known before the replicas exist: it is their
	// webhook URL.
	var p *proxy
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.ServeHTTP(w, r) }))
	defer front.Close()
	replicas := make([]*replica, 0, replicaCount)
	defer func() {
		for _, r := range replicas {
			r.close()
		}
	}()
	for i := range replicaCount {
		r, err := newReplica(redisAddr, emu.URL, front.URL+"/hook/"+strconv.Itoa(i))
		if err != nil {
			return err
		}
		replicas = append(replicas, r)
	}
	p = newProxy(replicas)

	results := make(chan outcome, jobCount)
	for i := range jobCount {
		from := i % replicaCount
		go func() {
			text := fmt.Sprintf("message %d", i)
			start := time.Now()
			o := outcome{from: from}
			job, err := replicas[from].client.Translate(ctx, sharpapi.TranslateParams{Content: text, Language: "Italian"})
			if err == nil {
				o.id = job.ID()
				var res sharpapi.TranslateResult
				res, err = job.Wait(ctx)
				if err == nil && res.Content != "[it] "+text {
					err = fmt.Errorf("job %s: got the result %q, want the one for %q", job.ID(), res.Content, text)
				}
			}
			o.latency, o.err = time.Since(start), err
			results <- o
		}()
	}
	var latencies []time.Duration
	var errs []error
	polls := 0
	for range jobCount {
		o := <-results
		if o.err != nil {
			errs = append(errs, o.err)
			continue
		}
		latencies = append(latencies, o.latency)
		info, _ := emu.Job(o.id)
		polls += info.Polls
		fmt.Fprintf(out, "job %s: dispatched on replica %d, webhook on replica %d, done in %v\n",
			o.id, o.from+1, p.landedOn(o.id)+1, o.latency.Round(100*time.Microsecond))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	slices.Sort(latencies)
	pct := func(q float64) time.Duration {
		return latencies[int(q*float64(len(latencies)-1))].Round(100 * time.Microsecond)
	}
	fmt.Fprintf(out, "%d jobs over %d replicas: p50 %v, p99 %v, status polls %d\n", len(latencies), replicaCount, pct(0.5), pct(0.99), polls)
	return nil
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
	dir, err := os.MkdirTemp("", "replicas-redis-")
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
