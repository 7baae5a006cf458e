package sharpapitest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

func TestAuthentication(t *testing.T) {
	srv := newServer(t, sharpapitest.WithAPIKey(testKey))
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"right key", "Bearer " + testKey, http.StatusOK},
		{"lower-case scheme", "bearer " + testKey, http.StatusOK},
		{"wrong key", "Bearer nope", http.StatusUnauthorized},
		{"no key", "Bearer ", http.StatusUnauthorized},
		{"basic", "Basic " + testKey, http.StatusUnauthorized},
		{"none", "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodGet, srv.URL+"/quota", nil, http.Header{"Authorization": {tc.auth}})
			if r.status != tc.want {
				t.Fatalf("status %d, want %d", r.status, tc.want)
			}
			if tc.want == http.StatusUnauthorized && string(r.body) != `{"message":"Unauthenticated."}` {
				t.Errorf("body %s", r.body)
			}
		})
	}

	anyKey := newServer(t)
	if r := do(t, http.MethodGet, anyKey.URL+"/ping", nil, http.Header{"Authorization": {"Bearer whatever"}}); r.status != http.StatusOK {
		t.Errorf("without WithAPIKey any key should pass: %d", r.status)
	}
}

func TestRouting(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/nope", 404, ""},
		{"POST", "/content/nope", 404, ""},
		{"POST", "/ecommerce/product_description", 404, ""}, // enum-only in one SDK, never served
		{"GET", "/content/translate", 405, "POST"},
		{"POST", "/ping", 405, "GET, HEAD"},
		{"DELETE", "/custom/sentiment-analysis", 405, "GET, HEAD, POST"},
		{"GET", "/custom/nope", 404, ""},
		{"GET", "/job/status/nope", 404, ""},
		{"GET", "/content/translate/job/status/nope", 404, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := do(t, tc.method, srv.URL+tc.path, nil, nil)
			if r.status != tc.status || r.header.Get("Allow") != tc.allow {
				t.Fatalf("%d Allow %q, want %d %q", r.status, r.header.Get("Allow"), tc.status, tc.allow)
			}
			if m := decode[map[string]any](t, r.body)["message"]; m == "" || m == nil {
				t.Errorf("no message: %s", r.body)
			}
		})
	}
	if r := get(t, strings.TrimSuffix(srv.URL, "/api/v1")+"/other"); r.status != 404 || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("outside the API: %d %s", r.status, r.header.Get("Content-Type"))
	}
}

func TestPingAndQuota(t *testing.T) {
	clock := sharpapitest.NewManualClock(epoch)
	srv := newServer(t, sharpapitest.WithClock(clock), sharpapitest.WithRateLimit(60, time.Minute))
	ping := get(t, srv.URL+"/ping")
	if want := `{"ping":"pong","timestamp":"2026-03-01T12:00:00.000000Z"}`; string(ping.body) != want {
		t.Errorf("ping = %s, want %s", ping.body, want)
	}
	quota := get(t, srv.URL+"/quota")
	want := map[string]any{
		"timestamp": "2026-03-01T12:00:00.000000Z", "on_trial": false, "trial_ends": "2026-03-01T12:00:00.000000Z",
		"subscribed": true, "current_subscription_start": "2026-03-01T12:00:00.000000Z",
		"current_subscription_end": "2026-04-01T12:00:00.000000Z", "current_subscription_reset": "2026-04-01T12:00:00.000000Z",
		"subscription_words_quota": 100000.0, "subscription_words_used": 0.0, "subscription_words_used_percentage": 0.0,
		"requests_per_minute": 60.0,
	}
	if diff := cmp.Diff(want, decode[map[string]any](t, quota.body)); diff != "" {
		t.Errorf("quota (-want +got):\n%s", diff)
	}
	for _, r := range []reply{ping, quota} {
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if v := r.header.Get(h); v != "" {
				t.Errorf("%s: %s on /ping or /quota", h, v)
			}
		}
	}
}

func TestWordQuota(t *testing.T) {
	srv := newServer(t, sharpapitest.WithWordQuota(5), sharpapitest.WithJobDuration(0),
		sharpapitest.WithFailJobTypes("content_summarize"))
	used := func() (int, float64) {
		q := decode[struct {
			Used float64 `json:"subscription_words_used"`
			Pct  float64 `json:"subscription_words_used_percentage"`
		}](t, get(t, srv.URL+"/quota").body)
		return int(q.Used), q.Pct
	}
	url := srv.URL + "/content/translate"
	dispatch(t, url, map[string]string{"content": "one two three"})
	if n, pct := used(); n != 3 || pct != 60 {
		t.Errorf("used %d (%v%%), want 3 (60%%)", n, pct)
	}
	dispatch(t, srv.URL+"/content/summarize", map[string]string{"content": "free job"})
	if n, _ := used(); n != 3 {
		t.Errorf("a failed job was charged: used %d", n)
	}

	r := postJSON(t, url, map[string]string{"content": "four five six"})
	want := `{"code":"GEN-PAYMENT-REQUIRED","message":"You have exceeded your monthly words quota [5]. Please login to the dashboard and increase number of credits."}`
	if r.status != http.StatusPaymentRequired || string(r.body) != want {
		t.Errorf("over quota: %d %s", r.status, r.body)
	}
	dispatch(t, url, map[string]string{"content": "four five"})
	if n, pct := used(); n != 5 || pct != 100 {
		t.Errorf("used %d (%v%%), want 5 (100%%)", n, pct)
	}
	if r := postForm(t, srv.URL+"/finance/parse_invoice", nil, map[string]string{"file": "i.pdf"}); r.status != http.StatusPaymentRequired {
		t.Errorf("exhausted quota, upload answered %d", r.status)
	}
}

func TestRateLimit(t *testing.T) {
	clock := sharpapitest.NewManualClock(epoch)
	srv := newServer(t, sharpapitest.WithClock(clock), sharpapitest.WithRateLimit(2, time.Minute))
	url := srv.URL + "/content/translate"
	for i, remaining := range []string{"1", "0"} {
		r := postJSON(t, url, map[string]string{"content": "x"})
		if r.status != http.StatusAccepted || r.header.Get("X-RateLimit-Remaining") != remaining || r.header.Get("X-RateLimit-Limit") != "2" {
			t.Fatalf("request %d: %d remaining %q", i+1, r.status, r.header.Get("X-RateLimit-Remaining"))
		}
	}
	clock.Advance(15 * time.Second)
	r := postJSON(t, url, map[string]string{"content": "x"})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "45" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("over the limit: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if want := "1772366460"; r.header.Get("X-RateLimit-Reset") != want { // epoch + 1 minute
		t.Errorf("X-RateLimit-Reset = %q, want %q", r.header.Get("X-RateLimit-Reset"), want)
	}
	if r := get(t, srv.URL+"/ping"); r.status != http.StatusOK {
		t.Errorf("/ping is not limited, got %d", r.status)
	}
	clock.Advance(45 * time.Second)
	if r := postJSON(t, url, map[string]string{"content": "x"}); r.status != http.StatusAccepted {
		t.Errorf("next minute: %d", r.status)
	}
}

func TestJobStates(t *testing.T) {
	clock := sharpapitest.NewManualClock(epoch)
	srv := newServer(t, sharpapitest.WithClock(clock), sharpapitest.WithJobDuration(10*time.Second))
	d := dispatch(t, srv.URL+"/content/paraphrase", map[string]string{"content": "x"})
	specific, generic := d.StatusURL, srv.URL+"/job/status/"+d.JobID

	check := func(url, status, retryAfter string) {
		t.Helper()
		r := get(t, url)
		st := decode[statusBody](t, r.body)
		wantType := "api_job"
		if status == "success" {
			wantType = "api_job_result"
		}
		if st.Data.Attributes.Status != status || st.Data.Type != wantType || r.header.Get("Retry-After") != retryAfter {
			t.Errorf("%s: %s Retry-After %q; want %s %q", url, r.body, r.header.Get("Retry-After"), status, retryAfter)
		}
		if status != "success" && strings.Contains(string(r.body), `"result"`) {
			t.Errorf("unfinished job with a result: %s", r.body)
		}
	}
	check(specific, "new", "10")
	clock.Advance(time.Second)
	check(specific, "pending", "9")
	clock.Advance(8500 * time.Millisecond)
	check(generic, "pending", "1")
	clock.Advance(500 * time.Millisecond)
	check(specific, "success", "")
	check(generic, "success", "")

	want := sharpapitest.JobInfo{
		ID: d.JobID, Type: "content_paraphrase", Status: "success", Path: "/content/paraphrase",
		Created: epoch, Finished: epoch.Add(10 * time.Second), Polls: 5, Words: 1,
		Result: json.RawMessage(`{"paraphrase":"[paraphrase] x"}`),
	}
	if got, ok := srv.Job(d.JobID); !ok || !cmp.Equal(want, got) {
		t.Errorf("Job() = %+v, want %+v", got, want)
	}
	if jobs := srv.Jobs(); len(jobs) != 1 || jobs[0].ID != d.JobID {
		t.Errorf("Jobs() = %+v", jobs)
	}
	if _, ok := srv.Job("nope"); ok {
		t.Error("Job(unknown) found something")
	}
}

func TestRetryAfterOption(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{0, "0"}, {50 * time.Millisecond, "0.05"}, {2 * time.Second, "2"}} {
		srv := newServer(t, sharpapitest.WithRetryAfter(tc.d), sharpapitest.WithJobDuration(time.Hour))
		r := postJSON(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		poll := get(t, decode[dispatched](t, r.body).StatusURL)
		if r.header.Get("Retry-After") != tc.want || poll.header.Get("Retry-After") != tc.want {
			t.Errorf("WithRetryAfter(%v): dispatch %q, poll %q; want %q", tc.d, r.header.Get("Retry-After"), poll.header.Get("Retry-After"), tc.want)
		}
	}
}

func TestWithResult(t *testing.T) {
	var seen sharpapitest.JobRequest
	srv := newServer(t, sharpapitest.WithJobDuration(0),
		sharpapitest.WithResult("hr_resume_job_match_score", func(r sharpapitest.JobRequest) (any, error) {
			seen = r
			f, _ := r.File("file")
			return map[string]any{"file": f.Name, "bytes": len(f.Data), "job": r.Text("content")}, nil
		}),
		sharpapitest.WithResult("content_translate", func(r sharpapitest.JobRequest) (any, error) {
			if r.Text("language") == "Klingon" {
				return nil, errors.New("unsupported language")
			}
			return json.RawMessage(`{"content":"ciao","to_language":"Italian","from_language":"English"}`), nil
		}),
	)
	r := postForm(t, srv.URL+"/hr/resume_job_match_score", map[string]string{"content": "Go job"}, map[string]string{"file": "cv.pdf"})
	d := decode[dispatched](t, r.body)
	got := decode[statusBody](t, get(t, d.StatusURL).body)
	if diff := cmp.Diff(map[string]any{"file": "cv.pdf", "bytes": 13.0, "job": "Go job"}, decode[any](t, got.Data.Attributes.Result)); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if seen.JobID != d.JobID || seen.JobType != "hr_resume_job_match_score" || seen.Path != "/hr/resume_job_match_score" ||
		seen.Header.Get("Authorization") != "[redacted]" {
		t.Errorf("JobRequest = %+v", seen)
	}

	ok := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "hello", "language": "Italian"})
	if got := decode[statusBody](t, get(t, ok.StatusURL).body); string(got.Data.Attributes.Result) != `{"content":"ciao","to_language":"Italian","from_language":"English"}` {
		t.Errorf("raw result = %s", got.Data.Attributes.Result)
	}
	bad := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "hello", "language": "Klingon"})
	if got := decode[statusBody](t, get(t, bad.StatusURL).body); got.Data.Attributes.Status != "failed" {
		t.Errorf("an error from the ResultFunc should fail the job: %+v", got.Data)
	}
}

func TestRecord(t *testing.T) {
	srv := newServer(t, sharpapitest.WithJobDuration(0))
	d := dispatch(t, srv.URL+"/content/translate?x=1", map[string]string{"content": "x"})
	get(t, d.StatusURL)
	do(t, http.MethodGet, srv.URL+"/ping", nil, http.Header{"Authorization": nil})

	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	got := []struct {
		Method, Path, Query, Auth, Body, JobID string
		Status                                 int
	}{}
	for _, r := range reqs {
		got = append(got, struct {
			Method, Path, Query, Auth, Body, JobID string
			Status                                 int
		}{r.Method, r.Path, r.Query.Encode(), r.Header.Get("Authorization"), string(r.Body), r.JobID, r.StatusCode})
	}
	want := []struct {
		Method, Path, Query, Auth, Body, JobID string
		Status                                 int
	}{
		{"POST", "/api/v1/content/translate", "x=1", "[redacted]", `{"content":"x"}`, d.JobID, 202},
		{"GET", "/api/v1/content/translate/job/status/" + d.JobID, "", "[redacted]", "", d.JobID, 200},
		{"GET", "/api/v1/ping", "", "", "", "", 401},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Requests() (-want +got):\n%s", diff)
	}
	for _, r := range reqs {
		if slices.ContainsFunc(r.Header.Values("Authorization"), func(v string) bool { return strings.Contains(v, testKey) }) {
			t.Error("the API key was recorded")
		}
	}
}

func TestRecordLimit(t *testing.T) {
	srv := newServer(t, sharpapitest.WithRecordLimit(2))
	for range 5 {
		get(t, srv.URL+"/ping")
	}
	get(t, srv.URL+"/quota")
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[1].Path != "/api/v1/quota" {
		t.Errorf("Requests() = %+v", reqs)
	}
}

// TestEmulatorAsHandler mounts the Emulator on a server of the test's own:
// status URLs then follow the Host header.
func TestEmulatorAsHandler(t *testing.T) {
	e, err := sharpapitest.NewEmulator(sharpapitest.WithJobDuration(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	hs := httptest.NewServer(e)
	t.Cleanup(hs.Close)
	d := dispatch(t, hs.URL+"/api/v1/seo/generate_tags", map[string]string{"content": "x"})
	if want := hs.URL + "/api/v1/seo/generate_tags/job/status/" + d.JobID; d.StatusURL != want {
		t.Errorf("status_url = %q, want %q", d.StatusURL, want)
	}

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "https://api.example.com/api/v1/custom/nope", nil)
	req.Header.Set("Authorization", "Bearer k")
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("ServeHTTP directly: %d", rec.Code)
	}
}
