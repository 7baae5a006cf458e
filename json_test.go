package sharpapi

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestJSONForms: the types a service may log or return marshal with
// snake_case names, durations in seconds, times in RFC 3339 (a zero time
// left out), and no raw header or body.
func TestJSONForms(t *testing.T) {
	reset := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	header := http.Header{"Set-Cookie": {"session=secret"}}
	apiErr := &APIError{StatusCode: 429, Message: "Too Many Attempts.", JobID: "j1", Method: "GET",
		URL: "https://sharpapi.com/api/v1/quota", Header: header, Body: []byte(`{"message":"Too Many Attempts."}`)}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"RateLimit", RateLimit{Limit: 60, Remaining: 0, Reset: reset},
			`{"limit":60,"remaining":0,"reset":"2026-11-29T12:00:00Z"}`},
		{"RateLimit without reset", RateLimit{Limit: 60, Remaining: 59}, `{"limit":60,"remaining":59}`},
		{"ResponseMeta", ResponseMeta{StatusCode: 202, JobID: "j1", Cost: "0.0025", RetryAfter: 2 * time.Second,
			RateLimit: RateLimit{Limit: 60, Remaining: 59}},
			`{"status_code":202,"job_id":"j1","cost":"0.0025","retry_after_seconds":2,"rate_limit":{"limit":60,"remaining":59}}`},
		{"ResponseMeta, half a second", ResponseMeta{StatusCode: 200, RetryAfter: 500 * time.Millisecond},
			`{"status_code":200,"retry_after_seconds":0.5}`},
		{"JobSnapshot", JobSnapshot{ID: "j1", Type: JobTypeContentTranslate, Status: JobStatusSuccess,
			Result: json.RawMessage(`{"content":"ciao"}`), Meta: ResponseMeta{StatusCode: 200}},
			`{"id":"j1","type":"content_translate","status":"success","result":{"content":"ciao"},"meta":{"status_code":200}}`},
		{"JobSnapshot, pending", &JobSnapshot{ID: "j1", Status: JobStatusPending}, `{"id":"j1","status":"pending"}`},
		{"APIError", apiErr,
			`{"status_code":429,"message":"Too Many Attempts.","job_id":"j1","method":"GET","url":"https://sharpapi.com/api/v1/quota"}`},
		{"RateLimitError", &RateLimitError{APIError: *apiErr, RetryAfter: 7 * time.Second, RateLimit: RateLimit{Limit: 60}},
			`{"status_code":429,"message":"Too Many Attempts.","job_id":"j1","method":"GET","url":"https://sharpapi.com/api/v1/quota",` +
				`"retry_after_seconds":7,"rate_limit":{"limit":60,"remaining":0}}`},
		{"JobFailedError", &JobFailedError{JobID: "j1", Type: JobTypeContentTranslate, Detail: json.RawMessage(`{"reason":"x"}`)},
			`{"job_id":"j1","type":"content_translate","detail":{"reason":"x"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			var got, want map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("JSON %s (-want +got):\n%s", b, diff)
			}
		})
	}
}
