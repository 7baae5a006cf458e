package sharpapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Run: go test -run='^$' -bench=Webhook -benchmem .

const benchSecret = "whsec_3f9a1c7e5b2d4068"

// event1KiB is a 1 KiB translate event, result included, as SharpAPI's PHP
// backend would encode it (escaped slashes and non-ASCII).
func event1KiB(id string) []byte {
	head := fmt.Sprintf(`{"id":"%s","status":"success","type":"content_translate","result":{"content":"`, id)
	tail := `","from_language":"English","to_language":"Italian"}}`
	text := strings.Repeat(`Il rapido cane marrone salta sopra la volpe pigra. Citt\u00e0 https:\/\/example.com\/. `, 20)
	return []byte(head + text[:1024-len(head)-len(tail)] + tail)
}

func BenchmarkVerifySignature1KiB(b *testing.B) {
	body := event1KiB("bf683177-3a48-47d1-9c4e-0b4de39517fa")
	sig := SignWebhook(body, benchSecret)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifySignature(body, sig, benchSecret); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseWebhook1KiB is verify + parse, the whole of ParseWebhook.
func BenchmarkParseWebhook1KiB(b *testing.B) {
	body := event1KiB("bf683177-3a48-47d1-9c4e-0b4de39517fa")
	sig := SignWebhook(body, benchSecret)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseWebhook(body, sig, benchSecret); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWebhookHandlerRejectsUnsigned4MiB is the cost of a 4 MiB
// request without a signature, side by side: handler is WebhookHandler,
// which looks at the header first and reads nothing; read-first is the
// order it had before (read the capped body, then check the signature).
func BenchmarkWebhookHandlerRejectsUnsigned4MiB(b *testing.B) {
	body := bytes.Repeat([]byte("x"), DefaultWebhookMaxBody)
	h, err := NewWebhookHandler(benchSecret)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	readFirst := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := io.ReadAll(http.MaxBytesReader(w, r.Body, DefaultWebhookMaxBody))
		if err == nil {
			err = VerifySignature(got, r.Header.Get(WebhookSignatureHeader), benchSecret)
		}
		if err != nil {
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		}
	})
	for _, tt := range []struct {
		name string
		h    http.Handler
	}{{"handler", h}, {"read-first", readFirst}} {
		b.Run(tt.name, func(b *testing.B) {
			rd := bytes.NewReader(body)
			req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", nil)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				req.Body, req.ContentLength = io.NopCloser(rd), int64(len(body))
				rec := httptest.NewRecorder()
				tt.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusUnauthorized {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// BenchmarkWebhookHandlerServeHTTP is the cost per event of the whole
// handler on a 1 KiB body: subscribe the job, serve the signed delivery
// (read, verify with a pooled HMAC, parse, route), receive the event. The
// ids cycle through more jobs than the dedup memory holds, so every
// delivery is new to the handler.
func BenchmarkWebhookHandlerServeHTTP(b *testing.B) {
	const ring = 4096
	h, err := NewWebhookHandler(benchSecret, WithDedup(ring/4, time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	type delivery struct {
		id        string
		body      []byte
		signature string
	}
	ds := make([]delivery, ring)
	for i := range ds {
		id := fmt.Sprintf("bf683177-3a48-47d1-9c4e-%012d", i)
		body := event1KiB(id)
		ds[i] = delivery{id, body, SignWebhook(body, benchSecret)}
	}
	req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", nil)
	rd := new(bytes.Reader)
	b.SetBytes(int64(len(ds[0].body)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d := &ds[i%ring]
		i++
		ch := h.SubscribeForTest(d.id)
		rd.Reset(d.body)
		req.Body = io.NopCloser(rd)
		req.ContentLength = int64(len(d.body))
		req.Header.Set(WebhookSignatureHeader, d.signature)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		if ev := <-ch; ev.ID != d.id {
			b.Fatalf("got event %q, want %q", ev.ID, d.id)
		}
	}
}

// BenchmarkWebhookPendingJobMemory measures the heap a pending job costs:
// 100 000 jobs subscribed and not yet delivered. The figure is B/job.
func BenchmarkWebhookPendingJobMemory(b *testing.B) {
	const jobs = 100_000
	ids := make([]string, jobs)
	for i := range ids {
		ids[i] = fmt.Sprintf("bf683177-3a48-47d1-9c4e-%012d", i)
	}
	var perJob float64
	for b.Loop() {
		perJob = pendingJobBytes(b, ids)
	}
	b.ReportMetric(perJob, "B/job")
}

// pendingJobBytes subscribes every id on a fresh handler and returns the
// heap growth per job. The ids themselves are allocated beforehand, as a
// caller's job ids are.
func pendingJobBytes(tb testing.TB, ids []string) float64 {
	h, err := NewWebhookHandler(benchSecret)
	if err != nil {
		tb.Fatal(err)
	}
	chans := make([]<-chan WebhookEvent, len(ids))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, id := range ids {
		chans[i] = h.SubscribeForTest(id)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := h.Stats().Waiting; got != len(ids) {
		tb.Fatalf("%d jobs waiting, want %d", got, len(ids))
	}
	runtime.KeepAlive(chans)
	h.Close()
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(len(ids))
}
