package redisbus

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/redisbus/internal/singlebench"
)

// benchHandler returns a replica's handler, with a bus on its own Redis
// client sharing prefix.
func benchHandler(b *testing.B, prefix string) *sharpapi.WebhookHandler {
	b.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: testAddr, ContextTimeoutEnabled: true})
	b.Cleanup(func() { rdb.Close() })
	bus, err := New(rdb, WithKeyPrefix(prefix))
	if err != nil {
		b.Fatal(err)
	}
	h, err := sharpapi.NewWebhookHandler(e2eSecret, sharpapi.WithEventBus(bus))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

// BenchmarkArrivalToWaiter times a webhook's arrival (ServeHTTP) until
// its waiter, on another replica, has it through Redis. The single-replica
// path with no bus is internal/singlebench's benchmark, kept apart so that
// it builds against older cores too; go test -bench=. ./... runs both.
func BenchmarkArrivalToWaiter(b *testing.B) {
	prefix := testPrefix(b)
	owner := singlebench.Client(b, singlebench.StubAPI(b), benchHandler(b, prefix))
	singlebench.ArrivalToWaiter(b, owner, benchHandler(b, prefix), e2eSecret)
}

// BenchmarkDeliveriesThreeReplicas measures deliveries per second through
// three replicas sharing one Redis: every job awaited on one replica, its
// webhook served by the next one, 32 deliveries in flight; the clock stops
// when the last waiter has its event. serve-http calls each handler's
// ServeHTTP directly; loopback posts over keep-alive HTTP on 127.0.0.1.
func BenchmarkDeliveriesThreeReplicas(b *testing.B) {
	for _, over := range []string{"serve-http", "loopback"} {
		b.Run(over, func(b *testing.B) {
			prefix := testPrefix(b)
			hs := []*sharpapi.WebhookHandler{benchHandler(b, prefix), benchHandler(b, prefix), benchHandler(b, prefix)}
			api := singlebench.StubAPI(b)
			clients := make([]*sharpapi.Client, len(hs))
			for i, h := range hs {
				clients[i] = singlebench.Client(b, api, h)
			}
			serve := make([]func(*http.Request) int, len(hs))
			for i, h := range hs {
				serve[i] = func(req *http.Request) int {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					return rec.Code
				}
				if over == "loopback" {
					srv := httptest.NewServer(h)
					b.Cleanup(srv.Close)
					hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
					b.Cleanup(hc.CloseIdleConnections)
					serve[i] = func(req *http.Request) int {
						out, _ := http.NewRequest(http.MethodPost, srv.URL, req.Body)
						out.Header = req.Header
						resp, err := hc.Do(out)
						if err != nil {
							return 0
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						return resp.StatusCode
					}
				}
			}
			reqs := make([]*http.Request, b.N)
			var received sync.WaitGroup
			received.Add(b.N)
			for i := range reqs {
				job := singlebench.Dispatch(b, clients[i%3])
				job.OnDone(context.Background(), func(_ sharpapi.TranslateResult, err error) {
					if err != nil {
						b.Error(err)
					}
					received.Done()
				})
				reqs[i] = singlebench.Delivery(job.ID(), e2eSecret)
			}
			var next atomic.Int64
			b.SetParallelism(16) // 32 goroutines on 2 cores
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1) - 1
					if code := serve[(i+1)%3](reqs[i]); code != http.StatusOK {
						b.Errorf("delivery answered %d", code)
						return
					}
				}
			})
			all := make(chan struct{})
			go func() {
				received.Wait()
				close(all)
			}()
			select {
			case <-all:
			case <-time.After(time.Minute):
				for i, h := range hs {
					b.Logf("replica %d: %+v", i, h.Stats())
				}
				b.Fatal("some waiters never got their event")
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}
