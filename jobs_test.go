package sharpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeJobs is a minimal SharpAPI job server: each dispatch creates a job
// whose status answers are played from script, the last one repeating.
type fakeJobs struct {
	t          *testing.T
	script     []string // status bodies; "%s" is replaced by the job id
	retryAfter string
	generic    bool // hand out /job/status/{id}
	polls      atomic.Int32
	mu         sync.Mutex
	webhooks   []string // Job-Webhook headers seen
	cancelOn   int32    // cancel() after this many polls
	cancel     context.CancelFunc
}

func (f *fakeJobs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const id = "5de4887a-0dfd-49b6-8edb-9280e468c210"
	switch {
	case r.Method == http.MethodPost:
		f.mu.Lock()
		f.webhooks = append(f.webhooks, r.Header.Get("Job-Webhook"))
		f.mu.Unlock()
		statusURL := "http://" + r.Host + r.URL.Path + "/job/status/" + id
		if f.generic {
			statusURL = "http://" + r.Host + "/api/v1/job/status/" + id
		}
		w.Header().Set("SharpAPI-Job-Id", id)
		w.Header().Set("SharpAPI-Cost", "0.0025")
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "59")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"status_url":%q,"job_id":%q}`, statusURL, id)
	case strings.HasSuffix(r.URL.Path, "/job/status/"+id):
		n := f.polls.Add(1)
		body := f.script[min(int(n)-1, len(f.script)-1)]
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Write([]byte(strings.ReplaceAll(body, "%s", id)))
		if n == f.cancelOn && f.cancel != nil {
			f.cancel()
		}
	default:
		http.NotFound(w, r)
	}
}

const (
	pendingBody = `{"data":{"type":"api_job","id":"%s","attributes":{"status":"pending","type":"content_translate"}}}`
	successBody = `{"data":{"type":"api_job_result","id":"%s","attributes":{"status":"success","type":"content_translate",` +
		`"result":{"content":"ciao","to_language":"Italian","from_language":"English"}}}}`
	failedBody = `{"data":{"type":"api_job_result","id":"%s","attributes":{"status":"failed","type":"content_translate","result":null}}}`
)

type translation struct {
	Content      string `json:"content"`
	ToLanguage   string `json:"to_language"`
	FromLanguage string `json:"from_language"`
}

func dispatchTranslation(t *testing.T, c *Client, opts ...RequestOption) (*Job[translation], error) {
	t.Helper()
	body, err := jsonBody(map[string]string{"content": "hello", "language": "Italian"})
	if err != nil {
		t.Fatal(err)
	}
	return dispatch[translation](context.Background(), c, "/content/translate", JobTypeContentTranslate, body, opts)
}

func TestWaitPollsUntilSuccess(t *testing.T) {
	f := &fakeJobs{t: t, script: []string{pendingBody, pendingBody, successBody}, retryAfter: "0"}
	c, _ := pipeClient(t, f)
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	meta := job.Meta()
	if meta.JobID != job.ID() || meta.Cost != "0.0025" || meta.RateLimit.Remaining != 59 || meta.StatusCode != 202 {
		t.Errorf("Meta = %+v", meta)
	}
	if job.Type() != JobTypeContentTranslate || !strings.HasSuffix(job.StatusURL(), "/content/translate/job/status/"+job.ID()) {
		t.Errorf("job = %s %s", job.Type(), job.StatusURL())
	}
	if job.Raw() != nil {
		t.Error("Raw before Wait")
	}
	got, err := job.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := translation{Content: "ciao", ToLanguage: "Italian", FromLanguage: "English"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if f.polls.Load() != 3 {
		t.Errorf("polls = %d, want 3", f.polls.Load())
	}
	if raw := string(job.Raw()); raw != `{"content":"ciao","to_language":"Italian","from_language":"English"}` {
		t.Errorf("Raw = %s", raw)
	}
}

func TestWaitFailedJob(t *testing.T) {
	f := &fakeJobs{t: t, script: []string{failedBody}}
	c, _ := pipeClient(t, f)
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = job.Wait(context.Background())
	var failed *JobFailedError
	if !errors.As(err, &failed) {
		t.Fatalf("err = %v, want *JobFailedError", err)
	}
	if failed.JobID != job.ID() || failed.Type != JobTypeContentTranslate {
		t.Errorf("JobFailedError = %+v", failed)
	}
	if !strings.Contains(err.Error(), job.ID()) {
		t.Errorf("error %q does not name the job", err)
	}
}

func TestWaitGenericStatusURL(t *testing.T) {
	encoded, _ := json.Marshal(`{"content":"ciao","to_language":"Italian","from_language":"English"}`)
	generic := `{"data":{"type":"api_job_result","id":"%s","attributes":{"status":"success","type":"content_translate","result":` +
		string(encoded) + `}}}`
	f := &fakeJobs{t: t, script: []string{generic}, generic: true}
	c, _ := pipeClient(t, f)
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if !isGenericStatusURL(job.StatusURL(), job.ID()) {
		t.Fatalf("%s not recognised as generic", job.StatusURL())
	}
	got, err := job.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Content != "ciao" {
		t.Errorf("result = %+v", got)
	}
}

// TestWaitCancelledMidSleep: a pending job whose server asks for an hour
// between polls must release a caller whose context ends, naming the job.
func TestWaitCancelledMidSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeJobs{t: t, script: []string{pendingBody}, retryAfter: "3600", cancelOn: 1, cancel: cancel}
	c, _ := pipeClient(t, f, WithMaxPollInterval(2*time.Hour))
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = job.Wait(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), job.ID()) {
		t.Errorf("error %q does not name the job", err)
	}
	if f.polls.Load() != 1 {
		t.Errorf("polls = %d, want 1", f.polls.Load())
	}
}

func TestWaitDeadline(t *testing.T) {
	f := &fakeJobs{t: t, script: []string{pendingBody}}
	c, _ := pipeClient(t, f)
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = job.Wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestWaitStatusError(t *testing.T) {
	c, _ := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(202)
			w.Write([]byte(`{"job_id":"gone"}`))
			return
		}
		http.NotFound(w, r)
	}))
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(job.StatusURL(), "/api/v1/content/translate/job/status/gone") {
		t.Errorf("rebuilt status URL = %s", job.StatusURL())
	}
	_, err = job.Wait(context.Background())
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "gone") {
		t.Errorf("err = %v, want ErrNotFound naming the job", err)
	}
}

func TestDispatchMalformedAnswer(t *testing.T) {
	for _, body := range []string{`{}`, `not json`, `{"status_url":"http://x/y"}`} {
		c, _ := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(202)
			w.Write([]byte(body))
		}))
		if _, err := dispatchTranslation(t, c); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("answer %s: err = %v, want ErrMalformedResponse", body, err)
		}
	}
}

func TestDispatchWebhookHeader(t *testing.T) {
	f := &fakeJobs{t: t, script: []string{successBody}}
	c, _ := pipeClient(t, f, WithWebhook("https://app.example.com/default"))
	for _, opts := range [][]RequestOption{
		nil,
		{WithWebhook("https://app.example.com/hooks/sharpapi")},
		{WithoutWebhook()},
	} {
		if _, err := dispatchTranslation(t, c, opts...); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"https://app.example.com/default", "https://app.example.com/hooks/sharpapi", ""}
	if diff := cmp.Diff(want, f.webhooks); diff != "" {
		t.Errorf("Job-Webhook headers (-want +got):\n%s", diff)
	}
	_, err := dispatchTranslation(t, c, WithWebhook("ftp://nope"))
	if !errors.Is(err, ErrInvalidOption) {
		t.Errorf("bad webhook URL: err = %v", err)
	}
	if len(f.webhooks) != 3 {
		t.Error("a dispatch with a bad option was sent")
	}
}

func TestDecodeStatus(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		generic bool
		want    *JobSnapshot
		wantErr bool
	}{
		{name: "pending, no result", body: `{"data":{"id":"a","attributes":{"status":"pending","type":"content_translate"}}}`,
			want: &JobSnapshot{ID: "a", Type: "content_translate", Status: JobStatusPending}},
		{name: "failed, null result", body: `{"data":{"id":"a","attributes":{"status":"failed","type":"x","result":null}}}`,
			want: &JobSnapshot{ID: "a", Type: "x", Status: JobStatusFailed}},
		{name: "string result stays a string on the specific URL",
			body: `{"data":{"id":"a","attributes":{"status":"success","type":"content_proofread","result":"42"}}}`,
			want: &JobSnapshot{ID: "a", Type: "content_proofread", Status: JobStatusSuccess, Result: json.RawMessage(`"42"`)}},
		{name: "generic URL unwraps the JSON string", generic: true,
			body: `{"data":{"id":"a","attributes":{"status":"success","type":"content_keywords","result":"[\"a\",\"b\"]"}}}`,
			want: &JobSnapshot{ID: "a", Type: "content_keywords", Status: JobStatusSuccess, Result: json.RawMessage(`["a","b"]`)}},
		{name: "generic URL keeps a string that is not JSON", generic: true,
			body: `{"data":{"id":"a","attributes":{"status":"success","type":"content_proofread","result":"plain text"}}}`,
			want: &JobSnapshot{ID: "a", Type: "content_proofread", Status: JobStatusSuccess, Result: json.RawMessage(`"plain text"`)}},
		{name: "unknown status kept", body: `{"data":{"id":"a","attributes":{"status":"in_progress"}}}`,
			want: &JobSnapshot{ID: "a", Status: "in_progress"}},
		{name: "no status", body: `{"data":{}}`, wantErr: true},
		{name: "not JSON", body: `<html>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeStatus([]byte(tt.body), tt.generic)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformedResponse) {
					t.Fatalf("err = %v, want ErrMalformedResponse", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsGenericStatusURL(t *testing.T) {
	tests := map[string]bool{
		"https://sharpapi.com/api/v1/job/status/abc":                       true,
		"https://sharpapi.com/api/v1/content/translate/job/status/abc":     false,
		"https://sharpapi.com/api/v1/hr/resume_match_score/job/status/abc": false,
		"https://sharpapi.com/api/v1/custom/my-flow/job/status/abc":        false,
		"http://127.0.0.1:1234/job/status/abc":                             true,
		"https://sharpapi.com/api/v1/job/status/other":                     false,
		"::not a url": false,
	}
	for u, want := range tests {
		if got := isGenericStatusURL(u, "abc"); got != want {
			t.Errorf("isGenericStatusURL(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestPollDelay(t *testing.T) {
	c, err := NewClient("k", WithPollInterval(10*time.Second), WithMaxPollInterval(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	check := func(retryAfter, lo, hi time.Duration) {
		t.Helper()
		for range 50 {
			if d := c.pollDelay(retryAfter); d < lo || d > hi {
				t.Fatalf("pollDelay(%v) = %v, want in [%v, %v]", retryAfter, d, lo, hi)
			}
		}
	}
	check(0, 10*time.Second, 11*time.Second)                   // interval, jittered up
	check(3*time.Second, 3*time.Second, 3300*time.Millisecond) // Retry-After first, never earlier
	check(time.Hour, time.Minute, time.Minute)                 // capped
}

func TestResumeJob(t *testing.T) {
	f := &fakeJobs{t: t, script: []string{successBody}}
	c, srv := pipeClient(t, f)
	const id = "5de4887a-0dfd-49b6-8edb-9280e468c210"

	byID, err := ResumeJob[translation](c, id, JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	if byID.StatusURL() != srv.URL+"/api/v1/job/status/"+id || byID.ID() != id {
		t.Errorf("by id: %s %s", byID.ID(), byID.StatusURL())
	}
	byURL, err := ResumeJob[translation](c, srv.URL+"/api/v1/content/translate/job/status/"+id, JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []*Job[translation]{byID, byURL} {
		got, err := j.Wait(context.Background())
		if err != nil || got.Content != "ciao" {
			t.Errorf("%s: Wait = %+v, %v", j.StatusURL(), got, err)
		}
	}
	for _, bad := range []string{"", "a/b", "x y", "https://sharpapi.com/"} {
		if _, err := ResumeJob[translation](c, bad, JobTypeContentTranslate); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("ResumeJob(%q): err = %v, want ErrInvalidParams", bad, err)
		}
	}
}

func TestDecodeResultUnwrapsAStringAsLastResort(t *testing.T) {
	got, err := decodeResult[translation](json.RawMessage(`"{\"content\":\"ciao\"}"`))
	if err != nil || got.Content != "ciao" {
		t.Errorf("decodeResult = %+v, %v", got, err)
	}
	if _, err := decodeResult[translation](nil); err == nil {
		t.Error("decodeResult(nil) succeeded")
	}
	if _, err := decodeResult[translation](json.RawMessage(`[1]`)); err == nil {
		t.Error("decodeResult of the wrong shape succeeded")
	}
}

func TestWaitAsync(t *testing.T) {
	f := &fakeJobs{t: t, script: []string{pendingBody, successBody}}
	c, _ := pipeClient(t, f)
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	out, ok := <-job.WaitAsync(context.Background())
	if !ok || out.Err != nil || out.Value.Content != "ciao" {
		t.Fatalf("WaitAsync = %+v, %v", out, ok)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A finished job's outcome is kept: it wins over a context that ended.
	if out := <-job.WaitAsync(ctx); out.Err != nil || out.Value.Content != "ciao" {
		t.Errorf("WaitAsync of a finished job with a cancelled ctx = %+v", out)
	}
	unfinished, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if out := <-unfinished.WaitAsync(ctx); !errors.Is(out.Err, context.Canceled) {
		t.Errorf("cancelled WaitAsync err = %v", out.Err)
	}
}
