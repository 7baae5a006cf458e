package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/otelsharpapi/internal/oteltest"
	"github.com/sharpapi-go/sharpapi/redisbus"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
	"go.opentelemetry.io/otel/codes"
)

// startRedis runs a redis-server of the test's own on a free loopback port
// and returns its address. Without the binary the test is skipped, or
// fails under CI=true (.ci/run installs it).
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and no redis-server in PATH")
		}
		t.Skip("needs redis-server")
	}
	for range 5 { // a free port may be taken before redis binds it
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--dir", t.TempDir(), "--daemonize", "no")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready, exited := make(chan struct{}), make(chan struct{})
		go func(notify chan struct{}) {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if notify != nil && strings.Contains(sc.Text(), "Ready to accept connections") {
					close(notify)
					notify = nil
				}
			}
			cmd.Wait()
			close(exited)
		}(ready)
		select {
		case <-ready:
			t.Cleanup(func() { cmd.Process.Kill(); <-exited })
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		case <-exited:
			continue
		case <-time.After(30 * time.Second): // a bound on a hang
			cmd.Process.Kill()
			<-exited
			t.Fatal("redis-server was not ready within 30s")
		}
	}
	t.Fatal("redis-server did not start on a free port in 5 tries")
	return ""
}

// replica is one process of a service: its own telemetry, Redis client,
// bus, webhook handler and HTTP server.
type replica struct {
	tel      *telemetry
	hooks    *sharpapi.WebhookHandler
	url      string
	answered chan int
}

func newReplica(t *testing.T, addr, prefix string, observed bool) *replica {
	t.Helper()
	rp := &replica{tel: newTelemetry(t), answered: make(chan int, 8)}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	bus, err := redisbus.New(rdb, redisbus.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	opts := []sharpapi.WebhookOption{sharpapi.WithEventBus(bus)}
	if observed {
		opts = append(opts, sharpapi.WithObserver(rp.tel.obs))
	}
	if rp.hooks, err = sharpapi.NewWebhookHandler(testSecret, opts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rp.hooks.Close() })
	srv := httptest.NewServer(oteltest.Answers(rp.answered).Wrap(rp.hooks))
	t.Cleanup(srv.Close)
	rp.url = srv.URL + "/hooks/sharpapi"
	return rp
}

// TestCrossReplicaCompletion: replica A awaits a job whose webhook reaches
// replica B, over a real Redis. A's job span ends completed via the store,
// linked to B's delivery span, which says the event was stored; when B
// predates the trace field (here: B has no observer, so its event carries
// none), A completes the same way, with no link.
func TestCrossReplicaCompletion(t *testing.T) {
	addr := startRedis(t)
	for _, bTraced := range []bool{true, false} {
		t.Run(fmt.Sprintf("b_traced=%v", bTraced), func(t *testing.T) {
			prefix := fmt.Sprintf("otel-test:%v:", bTraced)
			a := newReplica(t, addr, prefix, true)
			b := newReplica(t, addr, prefix, bTraced)
			emu := newEmulator(t, sharpapitest.WithJobDuration(time.Millisecond), sharpapitest.WithWebhookRetryDelay(time.Millisecond))
			client, err := sharpapi.NewClient(testKey, sharpapi.WithObserver(a.tel.obs), sharpapi.WithBaseURL(emu.URL),
				sharpapi.WithWebhookHandler(a.hooks), sharpapi.WithWebhookGrace(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			job, err := client.Translate(ctx, italian, sharpapi.WithWebhook(b.url))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := job.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			js := oteltest.JobSpan(t, a.tel.SR, job.ID())
			if got := oteltest.Attrs(js); got["sharpapi.job.completed_via"] != "store" || got["sharpapi.job.polls"] != "0" {
				t.Errorf("A's job span attributes %v; want completed via the store, no poll", got)
			}
			wantDur := map[string]oteltest.Point{"sharpapi.job.completed_via=store,sharpapi.job.outcome=success," + translate: {Count: 1}}
			if diff := cmp.Diff(wantDur, a.tel.metrics(t)["sharpapi.job.duration"]); diff != "" {
				t.Errorf("A's sharpapi.job.duration (-want +got):\n%s", diff)
			}
			oteltest.Answers(b.answered).Await(t, 1)
			if n := len(oteltest.Spans(a.tel.SR, "sharpapi.webhook")); n != 0 {
				t.Errorf("A has %d delivery spans; the delivery went to B", n)
			}
			ds := oteltest.Spans(b.tel.SR, "sharpapi.webhook")
			if !bTraced {
				if len(ds) != 0 || len(js.Links()) != 0 {
					t.Errorf("untraced B: %d delivery spans, A's job span has links %v; want none", len(ds), js.Links())
				}
				return
			}
			if len(ds) != 1 {
				t.Fatalf("B has %d delivery spans, want 1", len(ds))
			}
			if got := oteltest.Attrs(ds[0]); got["sharpapi.webhook.outcome"] != "stored" || got["sharpapi.job.id"] != job.ID() || ds[0].Status().Code != codes.Unset {
				t.Errorf("B's delivery span: %v, %v", got, ds[0].Status())
			}
			if diff := cmp.Diff([]string{"sharpapi.bus.store"}, oteltest.Events(ds[0])); diff != "" {
				t.Errorf("B's delivery span events (-want +got):\n%s", diff)
			}
			if len(js.Links()) != 1 || !oteltest.LinksTo(js, ds[0].SpanContext()) {
				t.Errorf("A's job span links %v; want one, to B's delivery span %v", js.Links(), ds[0].SpanContext())
			}
			wantDeliveries := map[string]oteltest.Point{"http.response.status_code=200,sharpapi.webhook.outcome=stored": {Value: 1}}
			if diff := cmp.Diff(wantDeliveries, b.tel.metrics(t)["sharpapi.webhook.deliveries"]); diff != "" {
				t.Errorf("B's sharpapi.webhook.deliveries (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBusErrorsAreCounted: a Store that fails (Redis gone) answers 503, and
// is counted by operation and error type; the delivery span says why.
func TestBusErrorsAreCounted(t *testing.T) {
	tel := newTelemetry(t)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}) // nothing listens on port 1
	t.Cleanup(func() { rdb.Close() })
	bus, err := redisbus.New(rdb)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sharpapi.NewWebhookHandler(testSecret, sharpapi.WithEventBus(bus), sharpapi.WithObserver(tel.obs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	code := deliver(t, srv.URL, `{"id":"5de4887a-0dfd-49b6-8edb-9280e468c210","status":"success","type":"content_translate","result":{}}`)
	if code != 503 {
		t.Fatalf("answered %d, want 503", code)
	}
	ds := oteltest.Spans(tel.SR, "sharpapi.webhook")
	if len(ds) != 1 || oteltest.Attrs(ds[0])["sharpapi.webhook.outcome"] != "store_failed" || ds[0].Status().Code != codes.Error {
		t.Fatalf("delivery spans %v", ds)
	}
	want := map[string]oteltest.Point{"error.type=_OTHER,sharpapi.bus.operation=store": {Value: 1}}
	if diff := cmp.Diff(want, tel.metrics(t)["sharpapi.bus.errors"]); diff != "" {
		t.Errorf("sharpapi.bus.errors (-want +got):\n%s", diff)
	}
}

// deliver POSTs body, signed with the test's secret, to url and returns
// the answer's status.
func deliver(t *testing.T, url, body string) int {
	t.Helper()
	return oteltest.PostSigned(t, url, body, sharpapi.SignWebhook([]byte(body), testSecret))
}
