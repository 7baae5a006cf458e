package sharpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDispatch compares dispatching one job through the client with a
// bare net/http POST and JSON decode of the same request, against the same
// loopback server. The ratio of the two is the SDK's overhead.
func BenchmarkDispatch(b *testing.B) {
	answer := []byte(`{"status_url":"http://127.0.0.1/api/v1/content/translate/job/status/5de4887a-0dfd-49b6-8edb-9280e468c210","job_id":"5de4887a-0dfd-49b6-8edb-9280e468c210"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("SharpAPI-Job-Id", "5de4887a-0dfd-49b6-8edb-9280e468c210")
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "59")
		w.WriteHeader(http.StatusAccepted)
		w.Write(answer)
	}))
	defer srv.Close()
	params := map[string]string{"content": "hello world", "language": "Italian"}
	ctx := context.Background()

	b.Run("sdk", func(b *testing.B) {
		c, err := NewClient("key", WithBaseURL(srv.URL+"/api/v1"))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			body, err := jsonBody(params)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := dispatch[map[string]any](ctx, c, "/content/translate", JobTypeContentTranslate, body, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		url := srv.URL + "/api/v1/content/translate"
		b.ReportAllocs()
		for b.Loop() {
			payload, err := json.Marshal(params)
			if err != nil {
				b.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
			req.Header.Set("Authorization", "Bearer key")
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var accepted struct {
				StatusURL string `json:"status_url"`
				JobID     string `json:"job_id"`
			}
			err = json.NewDecoder(resp.Body).Decode(&accepted)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusAccepted {
				b.Fatal(err, resp.StatusCode)
			}
		}
	})
}
