package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sharpapi-go/sharpapi"
)

// acceptedBody is SharpAPI's 202 answer to a dispatch.
const acceptedBody = `{"status_url":"http:\/\/127.0.0.1\/api\/v1\/content\/translate\/job\/status\/5de4887a-0dfd-49b6-8edb-9280e468c210","job_id":"5de4887a-0dfd-49b6-8edb-9280e468c210"}`

// acceptServer answers every request 202 with SharpAPI's headers and body,
// after reading the request body. It does nothing else, so the benchmark
// sees the client's cost and the loopback round trip.
func acceptServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("SharpAPI-Job-Id", "5de4887a-0dfd-49b6-8edb-9280e468c210")
		h.Set("X-RateLimit-Limit", "60")
		h.Set("X-RateLimit-Remaining", "59")
		h.Set("Retry-After", "10")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, acceptedBody)
	}))
}

// BenchmarkDispatch measures dispatching one job, one at a time, against a
// loopback server that answers 202: client=sdk is the public
// Client.Translate (validate, encode, send through the retrying pipeline,
// read headers, decode the answer into a Job); client=bare is a net/http
// POST of the same JSON with the same headers and a json.Decoder into the
// two answer fields. Both use a keep-alive transport cloned from
// http.DefaultTransport. The goal is sdk at 1.3x bare or less.
func BenchmarkDispatch(b *testing.B) {
	srv := acceptServer()
	defer srv.Close()
	params := sharpapi.TranslateParams{Content: "hello world", Language: "Italian"}
	ctx := context.Background()

	b.Run("client=sdk", func(b *testing.B) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		defer tr.CloseIdleConnections()
		c, err := sharpapi.NewClient("bench-key", sharpapi.WithBaseURL(srv.URL+"/api/v1"),
			sharpapi.WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			job, err := c.Translate(ctx, params)
			if err != nil {
				b.Fatal(err)
			}
			sink = job
		}
	})
	b.Run("client=bare", func(b *testing.B) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		url := srv.URL + "/api/v1/content/translate"
		b.ReportAllocs()
		for b.Loop() {
			payload, err := json.Marshal(params)
			if err != nil {
				b.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer bench-key")
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", "bench")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var accepted struct {
				StatusURL string `json:"status_url"`
				JobID     string `json:"job_id"`
			}
			err = json.NewDecoder(resp.Body).Decode(&accepted)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusAccepted || accepted.JobID == "" {
				b.Fatal(err, resp.StatusCode)
			}
			sink = &accepted
		}
	})
}
