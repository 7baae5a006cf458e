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

const secret = "whsec-singlebench"

// BenchmarkArrivalToWaiterSameReplicaNoBus times a signed 1 KiB delivery
// from entering ServeHTTP until the waiter on the same handler has it, one
// at a time, with no EventBus: the path of a service run as one replica.
func BenchmarkArrivalToWaiterSameReplicaNoBus(b *testing.B) {
	h, err := sharpapi.NewWebhookHandler(secret)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	raw, _ := sharpapitest.ExampleResult(string(sharpapi.JobTypeContentTranslate))
	ds := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		id := "bench-" + strconv.Itoa(i)
		ch := h.Subscribe(id)
		body := []byte(`{"id":"` + id + `","status":"success","type":"content_translate","result":` + string(raw) + `}`)
		req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
		req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapitest.Sign(body, secret))
		rec := httptest.NewRecorder()
		b.StartTimer()
		start := time.Now()
		h.ServeHTTP(rec, req)
		<-ch
		ds = append(ds, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("delivery answered %d", rec.Code)
		}
	}
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
