package sharpapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// elsewhere is a server of another origin than the client's base URL. It
// records the Authorization header of every request it receives.
type elsewhere struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newElsewhere(t *testing.T) *elsewhere {
	t.Helper()
	e := &elsewhere{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.auth = append(e.auth, r.Header.Get("Authorization"))
		e.mu.Unlock()
		w.Write([]byte(strings.ReplaceAll(successBody, "%s", "5de4887a-0dfd-49b6-8edb-9280e468c210")))
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *elsewhere) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.auth...)
}

// sameHostOtherScheme returns srvURL with https instead of http: the same
// host and port, another origin.
func sameHostOtherScheme(srvURL string) string {
	return "https" + strings.TrimPrefix(srvURL, "http")
}

// TestStatusURLOfAnotherOriginIsNotUsed: a dispatch answer's status_url
// elsewhere is replaced by the status URL under the base URL, with a
// warning that names no query or user info.
func TestStatusURLOfAnotherOriginIsNotUsed(t *testing.T) {
	const id = "5de4887a-0dfd-49b6-8edb-9280e468c210"
	evil := newElsewhere(t)
	for _, statusURL := range []func(base string) string{
		func(string) string { return evil.URL + "/api/v1/content/translate/job/status/" + id + "?sig=SECRET" },
		func(string) string {
			u, _ := url.Parse(evil.URL)
			return "http://user:SECRET@" + u.Host + "/job/status/" + id
		},
		func(base string) string {
			return sameHostOtherScheme(base) + "/api/v1/job/status/" + id + "?sig=SECRET"
		},
	} {
		var logs bytes.Buffer
		var polled []string
		var mu sync.Mutex
		c, srv := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				w.WriteHeader(http.StatusAccepted)
				w.Write([]byte(`{"job_id":"` + id + `","status_url":"` + statusURL("http://"+r.Host) + `"}`))
				return
			}
			mu.Lock()
			polled = append(polled, r.URL.Path)
			mu.Unlock()
			w.Write([]byte(strings.ReplaceAll(successBody, "%s", id)))
		}), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		job, err := dispatchTranslation(t, c)
		if err != nil {
			t.Fatal(err)
		}
		if want := srv.URL + "/api/v1/content/translate/job/status/" + id; job.StatusURL() != want {
			t.Errorf("StatusURL = %s, want %s", job.StatusURL(), want)
		}
		if _, err := job.Wait(testContext(t)); err != nil {
			t.Fatal(err)
		}
		if want := "/api/v1/content/translate/job/status/" + id; len(polled) != 1 || polled[0] != want {
			t.Errorf("polled %q at the base URL, want [%s]", polled, want)
		}
		line := logs.String()
		if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "another origin") {
			t.Errorf("no warning logged:\n%s", line)
		}
		if strings.Contains(line, "SECRET") {
			t.Errorf("the warning carries the URL's query or user info:\n%s", line)
		}
	}
	if got := evil.requests(); len(got) != 0 {
		t.Errorf("the other origin received %d requests (Authorization %q)", len(got), got)
	}
}

func TestResumeJobChecksOriginAndID(t *testing.T) {
	const id = "5de4887a-0dfd-49b6-8edb-9280e468c210"
	evil := newElsewhere(t)
	c, srv := pipeClient(t, &fakeJobs{t: t, script: []string{successBody}})
	bad := []string{
		evil.URL + "/api/v1/job/status/" + id,
		sameHostOtherScheme(srv.URL) + "/api/v1/job/status/" + id,
		"http://user:pw@example.com/api/v1/job/status/" + id,
		srv.URL + "/api/v1/job/status/a%0Ab",
		srv.URL + "/api/v1/job/status/" + strings.Repeat("a", 8<<20),
		"a\nb",
		strings.Repeat("a", 8<<20),
		"../" + id,
	}
	for _, ref := range bad {
		_, err := ResumeJob[translation](c, ref, JobTypeContentTranslate)
		if !errors.Is(err, ErrInvalidParams) {
			t.Errorf("ResumeJob(%.60q): err = %v, want ErrInvalidParams", ref, err)
		} else if len(err.Error()) > 300 {
			t.Errorf("ResumeJob(%.60q): error of %d bytes", ref, len(err.Error()))
		}
	}
	// The same origin spelled with its default port is the same origin.
	u, _ := url.Parse(srv.URL)
	if _, err := ResumeJob[translation](c, "HTTP://"+strings.ToUpper(u.Host)+"/api/v1/job/status/"+id, JobTypeContentTranslate); err != nil {
		t.Errorf("same origin, other spelling: %v", err)
	}
	if got := evil.requests(); len(got) != 0 {
		t.Errorf("the other origin received %d requests", len(got))
	}
}

func TestDispatchRejectsABadJobID(t *testing.T) {
	for _, id := range []string{"a\nb", strings.Repeat("a", 8<<20), "../x", "a b"} {
		c, _ := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("SharpAPI-Job-Id", id)
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte(`{}`)) // the header is the only id
		}))
		_, err := dispatchTranslation(t, c)
		if !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("job id %.20q: err = %v, want ErrMalformedResponse", id, err)
		}
	}
}

// TestKeyGoesOnlyToTheBaseOrigin: whatever URL reaches the pipeline, the
// API key is attached only for the base URL's origin.
func TestKeyGoesOnlyToTheBaseOrigin(t *testing.T) {
	evil := newElsewhere(t)
	var got string
	c, srv := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
	}))
	ctx := context.Background()
	if _, _, err := c.do(ctx, c.reads, request{method: http.MethodGet, url: evil.URL + "/x"}); err != nil {
		t.Fatal(err)
	}
	if a := evil.requests(); len(a) != 1 || a[0] != "" {
		t.Errorf("other origin got Authorization %q, want none", a)
	}
	if _, _, err := c.do(ctx, c.reads, request{method: http.MethodGet, url: srv.URL + "/x"}); err != nil {
		t.Fatal(err)
	}
	if got != "Bearer "+pipeKey {
		t.Errorf("base origin got Authorization %q", got)
	}
}

// TestRedirects: no redirect leaves the base origin, no POST is redirected,
// a refused redirect is not retried, and the caller's http.Client keeps its
// own CheckRedirect, which still rules the redirects the SDK allows.
func TestRedirects(t *testing.T) {
	evil := newElsewhere(t)
	var callerChecks atomic.Int32
	callerCheck := func(*http.Request, []*http.Request) error { callerChecks.Add(1); return nil }
	ct := &countingTransport{rt: http.DefaultTransport}
	hc := &http.Client{Transport: ct, CheckRedirect: callerCheck}
	var target atomic.Value // where the next redirect points
	var pinged atomic.Value // Authorization of the redirected GET
	c, srv := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/ping":
			pinged.Store(r.Header.Get("Authorization"))
			w.Write([]byte(`{}`))
		default:
			code, _ := strconv.Atoi(r.URL.Query().Get("code"))
			if r.Method == http.MethodPost {
				code = http.StatusTemporaryRedirect
			}
			http.Redirect(w, r, target.Load().(string), code)
		}
	}), WithHTTPClient(hc))
	if reflect.ValueOf(hc.CheckRedirect).Pointer() != reflect.ValueOf(callerCheck).Pointer() {
		t.Fatal("NewClient replaced the caller's CheckRedirect")
	}
	ctx := context.Background()
	var out any

	// A GET may follow a redirect within the origin; the key goes along.
	target.Store(srv.URL + "/api/v1/ping")
	if err := c.getJSON(ctx, "/quota", url.Values{"code": {"302"}}, &out); err != nil {
		t.Fatal(err)
	}
	if got := pinged.Load(); got != "Bearer "+pipeKey {
		t.Errorf("redirected GET carried Authorization %q", got)
	}
	if callerChecks.Load() != 1 {
		t.Errorf("caller's CheckRedirect ran %d times, want 1", callerChecks.Load())
	}

	// Nowhere else: another port, another scheme.
	for _, to := range []string{evil.URL + "/api/v1/ping", sameHostOtherScheme(srv.URL) + "/api/v1/ping"} {
		for _, code := range []string{"301", "302", "307", "308"} {
			target.Store(to)
			ct.n.Store(0)
			err := c.getJSON(ctx, "/quota", url.Values{"code": {code}}, &out)
			if err == nil || !strings.Contains(err.Error(), "another origin") {
				t.Errorf("GET redirected %s to %s: err = %v", code, to, err)
			}
			if n := ct.n.Load(); n != 1 {
				t.Errorf("GET redirected %s to %s: %d attempts, want 1 (a refused redirect is final)", code, to, n)
			}
		}
	}

	// A dispatch follows no redirect at all, even within the origin.
	for _, to := range []string{srv.URL + "/api/v1/content/translate2", evil.URL} {
		target.Store(to)
		ct.n.Store(0)
		_, err := dispatchTranslation(t, c)
		want := "sharpapi: POST " + srv.URL + "/api/v1/content/translate: answered 307 redirect to another URL; dispatches follow no redirect"
		if err == nil || err.Error() != want {
			t.Errorf("dispatch redirected to %s:\n err = %v\nwant %s", to, err, want)
		}
		if n := ct.n.Load(); n != 1 {
			t.Errorf("dispatch redirected to %s: %d attempts, want 1", to, n)
		}
	}
	if got := evil.requests(); len(got) != 0 {
		t.Errorf("the other origin received %d requests", len(got))
	}
	plain := &http.Client{}
	if _, err := NewClient("k", WithHTTPClient(plain)); err != nil || plain.CheckRedirect != nil {
		t.Errorf("NewClient = %v; the caller's nil CheckRedirect became %p", err, plain.CheckRedirect)
	}
}

// TestLogsCarryNoURLCredentials: neither the SDK's log lines nor those of
// its retrying transport carry a URL's query or user info.
func TestLogsCarryNoURLCredentials(t *testing.T) {
	const id = "5de4887a-0dfd-49b6-8edb-9280e468c210"
	var logs bytes.Buffer
	var calls atomic.Int32
	c, srv := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1)%2 == 1 { // every request is retried once
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/scrape_url") {
			w.Write([]byte(`{"url":"x","text":"y"}`))
			return
		}
		w.Write([]byte(strings.ReplaceAll(successBody, "%s", id)))
	}), WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := testContext(t)
	if _, err := c.ScrapeURL(ctx, "https://example.com/page?access_token=SECRET"); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	job, err := ResumeJob[translation](c, "http://user:SECRET@"+u.Host+"/api/v1/job/status/"+id+"?sig=SECRET", JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if n := strings.Count(out, "retrying"); n != 2 {
		t.Errorf("%d retry lines, want 2; the test proves nothing:\n%s", n, out)
	}
	if strings.Contains(out, "SECRET") || strings.Contains(out, "user") {
		t.Errorf("a log line carries a URL's query or user info:\n%s", out)
	}
}
