package benchmarks

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
)

var (
	handlerConc    = flag.Int("handler.c", 32, "concurrent deliveries in BenchmarkHandlerLoopback")
	handlerBody    = flag.Int("handler.size", 1<<10, "body size of BenchmarkHandlerLoopback's deliveries")
	handlerRounds  = flag.Int("handler.rounds", 1, "rounds of BenchmarkHandlerLoopback in one process, the handlers' order rotated each round")
	handlerProfile = flag.String("handler.profile", "", "directory for CPU profiles of each handler's timed sections (<handler>-<k>.prof)")
)

// delivery is one signed webhook, ready to send.
type delivery struct {
	id, sig string
	body    []byte
}

func makeDeliveries(first, n, size int) []delivery {
	ds := make([]delivery, n)
	for i := range ds {
		id := jobID(first + i)
		body := webhookBody(id, size)
		ds[i] = delivery{id: id, sig: sharpapi.SignWebhook(body, secret), body: body}
	}
	return ds
}

// bareHandler is the least a webhook endpoint does: read the body, answer 200.
func bareHandler(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// parseHandler is the least a secure webhook endpoint does: read the body,
// verify and parse it with sharpapi.ParseWebhook, answer 200. It routes
// nothing; it sits between bare and the WebhookHandler to show what the
// signature check costs and what routing to waiters costs.
func parseHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if _, err := sharpapi.ParseWebhook(body, r.Header.Get(sharpapi.WebhookSignatureHeader), secret); err != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHandlerLoopback measures webhook deliveries per second over real
// loopback TCP: b.N signed deliveries of -handler.size bytes, -handler.c at
// a time, from one keep-alive http.Client into an httptest.Server. The same
// server setup and client serve each handler:
//
//	bare           reads the body and answers 200
//	parse          reads the body, sharpapi.ParseWebhook, answers 200
//	sharpapi       a WebhookHandler (production defaults) with every job
//	               (dispatched to a stub API through a client built
//	               WithWebhookHandler) awaited by a goroutine blocked in
//	               Job.Wait: verified, parsed, routed and received
//	sharpapi-chan  the same with every job awaited by Job.WaitAsync and no
//	               goroutine waiting; the channels are read after the clock
//	               stops, so this is the handler's cost without the waiters'
//	sharpapi-callback  the same with Job.OnDone per job instead of a
//	               waiting goroutine (each callback runs in a goroutine of
//	               its own, started at delivery)
//
// For sharpapi and sharpapi-callback the clock stops once every job has its
// event. The goal is sharpapi at 0.85x bare or more; the others split the
// gap into verification, routing and waiting. Besides deliveries/s it reports the
// process's CPU time per delivery (client, server and kernel alike). Run it
// at a fixed count, e.g. -benchtime=20000x.
//
// On a small machine the cost of the same loopback traffic differs from
// one process to the next by up to a third (a process is fast or slow
// throughout), so handlers are best compared within one process:
// -handler.rounds=R runs a warm-up pass, then R rounds named
// round=N/handler=H, the order of the handlers rotated each round.
func BenchmarkHandlerLoopback(b *testing.B) {
	handlers := []string{"bare", "parse", "sharpapi", "sharpapi-chan", "sharpapi-callback"}
	rounds := max(*handlerRounds, 1)
	if rounds == 1 {
		for _, name := range handlers {
			b.Run("handler="+name, func(b *testing.B) { benchHandler(b, name) })
		}
		return
	}
	// A first pass that nobody compares: the first benchmark in a process
	// pays for growing the heap and starting threads.
	b.Run("warmup", func(b *testing.B) {
		for _, name := range handlers {
			b.Run("handler="+name, func(b *testing.B) { benchHandler(b, name) })
		}
	})
	for r := range rounds {
		b.Run(fmt.Sprintf("round=%d", r+1), func(b *testing.B) {
			for i := range handlers {
				name := handlers[(i+r)%len(handlers)]
				b.Run("handler="+name, func(b *testing.B) { benchHandler(b, name) })
			}
		})
	}
}

func benchHandler(b *testing.B, name string) {
	conc := max(*handlerConc, 1)
	var (
		handler   http.Handler
		warm, ds  []delivery
		waiters   sync.WaitGroup
		lost      atomic.Int64
		chans     []<-chan sharpapi.Outcome[sharpapi.TranslateResult]
		checkLost = func(err error, res sharpapi.TranslateResult) {
			if err != nil || res.Content == "" {
				lost.Add(1)
			}
		}
	)
	switch name {
	case "bare", "parse":
		handler = http.HandlerFunc(bareHandler)
		if name == "parse" {
			handler = http.HandlerFunc(parseHandler)
		}
		warm = makeDeliveries(1_000_000_000, conc, *handlerBody)
		ds = makeDeliveries(0, b.N, *handlerBody)
	default:
		h, err := sharpapi.NewWebhookHandler(secret) // production defaults
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		jobs := make([]*sharpapi.Job[sharpapi.TranslateResult], b.N+conc)
		dispatchJobs(b, newStubAPI(b).client(b, h), jobs)
		ctx := context.Background()
		for _, job := range jobs {
			switch name {
			case "sharpapi-callback":
				waiters.Add(1)
				job.OnDone(ctx, func(res sharpapi.TranslateResult, err error) {
					defer waiters.Done()
					checkLost(err, res)
				})
			case "sharpapi-chan":
				chans = append(chans, job.WaitAsync(ctx))
			default:
				waiters.Add(1)
				go func() {
					defer waiters.Done()
					res, err := job.Wait(ctx)
					checkLost(err, res)
				}()
			}
		}
		waitForWaiting(b, h, len(jobs))
		all := deliveriesFor(jobs, *handlerBody)
		ds, warm = all[:b.N], all[b.N:]
		handler = h
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: 2 * conc, MaxIdleConnsPerHost: 2 * conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := srv.URL + "/hooks/sharpapi"

	// Warm up: open the connections, outside the clock.
	if err := send(client, url, warm, conc); err != nil {
		b.Fatal(err)
	}
	stopProfile := startProfile(b, name)
	b.ResetTimer()
	cpu0 := cpuTime()
	if err := send(client, url, ds, conc); err != nil {
		b.Fatal(err)
	}
	waiters.Wait()
	cpu := cpuTime() - cpu0
	b.StopTimer()
	stopProfile()
	for _, ch := range chans {
		o := <-ch
		checkLost(o.Err, o.Value)
	}
	if n := lost.Load(); n > 0 {
		b.Fatalf("%d waiters got no event", n)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu)/float64(b.N)/1e3, "cpu-µs/delivery")
}

// profileRuns numbers the profiles of each handler (benchmarks run one at a
// time).
var profileRuns = map[string]int{}

// startProfile starts a CPU profile of the timed section into
// -handler.profile/<name>-<k>.prof, if that flag is set, and returns its
// stop; pprof merges the k profiles of one handler when given them all.
// Unlike -cpuprofile it leaves out the setup (signing the bodies, starting
// the waiters) and holds one handler only, so handlers can be compared.
func startProfile(b *testing.B, name string) (stop func()) {
	if *handlerProfile == "" || b.N == 1 {
		return func() {}
	}
	profileRuns[name]++
	f, err := os.Create(filepath.Join(*handlerProfile, fmt.Sprintf("%s-%d.prof", name, profileRuns[name])))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// send POSTs every delivery, conc at a time, and fails on any non-200.
func send(client *http.Client, url string, ds []delivery, conc int) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(conc, len(ds)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ds) {
					return
				}
				if err := post(client, url, &ds[i]); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func post(client *http.Client, url string, d *delivery) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.body))
	if err != nil {
		return err
	}
	req.Header.Set(sharpapi.WebhookSignatureHeader, d.sig)
	return doRequest(client, req, d.id)
}

// doRequest sends one delivery, drains the answer so the connection is
// reused, and fails on any status but 200.
func doRequest(client *http.Client, req *http.Request, id string) error {
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errStatus(id, resp.StatusCode)
	}
	return nil
}

func errStatus(id string, code int) error {
	return fmt.Errorf("delivery of job %s: status %d", id, code)
}
