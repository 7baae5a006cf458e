// Package singlebench measures a webhook's path from ServeHTTP to its
// waiter. It uses only the core API that predates the EventBus seam, so
// that its benchmark also builds against the core before that change (go
// test -modfile pointing the replace at an older checkout) and the two are
// compared with the same code; redisbus's benchmarks reuse it across
// replicas.
package singlebench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// Delivery is a signed 1 KiB webhook for id, carrying the emulator's
// translation result, as a request to serve.
func Delivery(id, secret string) *http.Request {
	raw, _ := sharpapitest.ExampleResult(string(sharpapi.JobTypeContentTranslate))
	body := []byte(`{"id":"` + id + `","status":"success","type":"content_translate","result":` + string(raw) + `}`)
	req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
	req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapitest.Sign(body, secret))
	return req
}

// ArrivalToWaiter times each delivery from entering receiver's ServeHTTP
// until the waiter on owner has it, one at a time, and reports the median
// and 99th percentile. owner and receiver may be the same handler.
func ArrivalToWaiter(b *testing.B, owner, receiver *sharpapi.WebhookHandler, secret string) {
	ds := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		id := "bench-" + strconv.Itoa(i)
		ch := owner.Subscribe(id)
		req := Delivery(id, secret)
		rec := httptest.NewRecorder()
		b.StartTimer()
		start := time.Now()
		receiver.ServeHTTP(rec, req)
		<-ch
		ds = append(ds, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("delivery answered %d", rec.Code)
		}
	}
	ReportLatencies(b, ds)
}

// ReportLatencies reports the median and 99th percentile of ds, in µs.
func ReportLatencies(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
