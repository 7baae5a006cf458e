package otelsharpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sharpapi-go/sharpapi"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// roundTripFunc is an http.RoundTripper made of a function: a server
// played in process, with no socket.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// hostileServer plays a SharpAPI that reports, for each job, the type
// typeOf gives its id: a new string for every job, the API key for some.
func hostileServer(base string, typeOf func(id string) string) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		answer := func(code int, body string) (*http.Response, error) {
			return &http.Response{StatusCode: code, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(body)), Request: r, ContentLength: int64(len(body))}, nil
		}
		if r.Method == http.MethodPost {
			id := r.Header.Get("X-Test-Job")
			return answer(http.StatusAccepted, fmt.Sprintf(`{"job_id":%q,"status_url":%q}`, id,
				base+"/content/translate/job/status/"+id))
		}
		id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		return answer(http.StatusOK, fmt.Sprintf(
			`{"data":{"id":%q,"attributes":{"status":"success","type":%q,"result":{"content":"ciao"}}}}`, id, typeOf(id)))
	})
}

// TestServerCannotInflateMetricSeries: a server that reports 10 000
// distinct job types (in status answers to typed and to untyped resumed
// jobs, and in signed webhooks), some of them the API key, adds no metric
// series per value: the job type on metrics is the dispatched one, a known
// one or _OTHER, and no span or metric carries the key.
func TestServerCannotInflateMetricSeries(t *testing.T) {
	const (
		base     = "http://sharpapi.test/api/v1"
		polled   = 1000 // Translate jobs, their type known to the client
		resumed  = 1000 // resumed jobs with no type: the server's word only
		webhooks = 8000 // signed deliveries
	)
	typeOf := func(id string) string {
		var n int
		fmt.Sscanf(id, "job-%d", &n)
		switch {
		case n%500 == 0:
			return testKey
		case n%7 == 0:
			return string(sharpapi.JobTypeContentSummarize) // a known type stays
		}
		return "hostile_type_" + id
	}
	tel := newTelemetry(t)
	hooks, err := sharpapi.NewWebhookHandler(testSecret, sharpapi.WithObserver(tel.obs))
	if err != nil {
		t.Fatal(err)
	}
	defer hooks.Close()
	client, err := sharpapi.NewClient(testKey, sharpapi.WithObserver(tel.obs), sharpapi.WithBaseURL(base),
		sharpapi.WithHTTPClient(&http.Client{Transport: hostileServer(base, typeOf)}), sharpapi.WithoutRateLimiter())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	jobs := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				id := fmt.Sprintf("job-%d", n)
				var err error
				if n < polled {
					// A type other than the job's fails its await (issue
					// 21): with an error that must not quote the key.
					var job *sharpapi.Job[sharpapi.TranslateResult]
					if job, err = client.Translate(ctx, italian, sharpapi.WithHeader("X-Test-Job", id)); err == nil {
						_, err = job.Wait(ctx)
					}
					if errors.Is(err, sharpapi.ErrJobTypeMismatch) {
						if strings.Contains(err.Error(), testKey) {
							err = fmt.Errorf("the error quotes the key: %w", err)
						} else {
							err = nil
						}
					}
				} else {
					// With no type given, only a raw result may be read.
					var job *sharpapi.Job[json.RawMessage]
					if job, err = sharpapi.ResumeJob[json.RawMessage](client, id, ""); err == nil {
						_, err = job.Wait(ctx)
					}
				}
				if err != nil {
					select {
					case errs <- fmt.Errorf("job %s: %w", id, err):
					default:
					}
				}
			}
		}()
	}
	for n := range polled + resumed {
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for n := polled + resumed; n < polled+resumed+webhooks; n++ {
		id := fmt.Sprintf("job-%d", n)
		body := []byte(fmt.Sprintf(`{"id":%q,"status":"success","type":%q,"result":{"content":"ciao"}}`, id, typeOf(id)))
		req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
		req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapi.SignWebhook(body, testSecret))
		rec := httptest.NewRecorder()
		hooks.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("delivery %d answered %d", n, rec.Code)
		}
	}

	// "" is a resumed job's type until it ends: the client named none.
	allowed := func(v string) bool { return v == "" || v == "_OTHER" || sharpapi.JobType(v).Known() }
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				series[m.Name] = len(d.DataPoints)
			case metricdata.Histogram[float64]:
				series[m.Name] = len(d.DataPoints)
			case metricdata.Histogram[int64]:
				series[m.Name] = len(d.DataPoints)
			}
		}
	}
	// Each metric's series are a product of small fixed sets (see the
	// README's cardinality table); here: two types (translate, summarize)
	// and _OTHER, one outcome, two ways.
	for name, n := range series {
		if n > 10 {
			t.Errorf("metric %s has %d series after 10 000 distinct types; want a handful", name, n)
		}
	}
	for _, kv := range tel.metricAttrs(t) {
		if kv.Key == attrJobType && !allowed(kv.Value.AsString()) {
			t.Errorf("metric attribute %s=%q: not a known type nor _OTHER", kv.Key, kv.Value.AsString())
		}
		if strings.Contains(kv.Value.Emit(), testKey) {
			t.Errorf("metric attribute %s holds the API key", kv.Key)
		}
	}
	for _, s := range tel.sr.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == attrJobType && !allowed(kv.Value.AsString()) {
				t.Fatalf("span %s: %s=%q, not a known type nor _OTHER", s.Name(), kv.Key, kv.Value.AsString())
			}
		}
		for _, text := range spanTexts(s) {
			if strings.Contains(text, testKey) {
				t.Fatalf("span %s holds the API key: %s", s.Name(), text)
			}
		}
	}
}
