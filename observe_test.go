package sharpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi/observe"
)

// jobRecorder is an Observer that records what it is told, and implements
// none of the optional interfaces.
type jobRecorder struct {
	mu     sync.Mutex
	starts []observe.JobStart
	notes  []observe.JobNote
	ends   []observe.JobEnd
}

// Observer makes a jobRecorder its own observe.Provider.
func (r *jobRecorder) Observer() observe.Observer { return r }

func (r *jobRecorder) StartJob(ctx context.Context, s observe.JobStart) (context.Context, observe.JobObservation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts = append(r.starts, s)
	return ctx, recordedJob{r}
}

type recordedJob struct{ r *jobRecorder }

func (j recordedJob) Context(ctx context.Context) context.Context { return ctx }
func (j recordedJob) Note(n observe.JobNote) {
	j.r.mu.Lock()
	defer j.r.mu.Unlock()
	n.Err = nil // compared by kind
	j.r.notes = append(j.r.notes, n)
}
func (j recordedJob) End(e observe.JobEnd) {
	j.r.mu.Lock()
	defer j.r.mu.Unlock()
	e.Err = nil
	j.r.ends = append(j.r.ends, e)
}

func (r *jobRecorder) got() ([]observe.JobStart, []observe.JobNote, []observe.JobEnd) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]observe.JobStart(nil), r.starts...), append([]observe.JobNote(nil), r.notes...), append([]observe.JobEnd(nil), r.ends...)
}

// observedRig is a client and handler with a jobRecorder, and an API
// answered in memory: 202 with job-1, job-2, ...; or status, when set.
type observedRig struct {
	rec    *jobRecorder
	c      *Client
	h      *WebhookHandler
	status int
}

const observedSecret = "whsec-observed"

func newObservedRig(t *testing.T) *observedRig {
	t.Helper()
	r := &observedRig{rec: &jobRecorder{}, status: http.StatusAccepted}
	h, err := NewWebhookHandler(observedSecret, WithObserver(r.rec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	n := 0
	stub := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
		n++
		id := "job-" + strconv.Itoa(n)
		body := `{"status_url":"http://sharpapi.test/api/v1/content/translate/job/status/` + id + `","job_id":"` + id + `"}`
		if r.status != http.StatusAccepted {
			body = `{"message":"Unauthenticated."}`
		}
		return &http.Response{StatusCode: r.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	})
	r.h = h
	if r.c, err = NewClient("key", WithBaseURL("http://sharpapi.test/api/v1"), WithHTTPClient(&http.Client{Transport: stub}),
		WithWebhookHandler(h), WithWebhookGrace(time.Hour), WithObserver(r.rec)); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *observedRig) dispatch(t *testing.T) *Job[map[string]any] {
	t.Helper()
	body, _ := jsonBody(map[string]string{"content": "hi"})
	job, err := dispatch[map[string]any](context.Background(), r.c, "/content/translate", JobTypeContentTranslate, body,
		[]RequestOption{WithWebhook("http://app.test/hooks")})
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// deliver hands the handler a signed success event for id.
func (r *observedRig) deliver(t *testing.T, id string) {
	t.Helper()
	ev := `{"id":"` + id + `","status":"success","type":"content_translate","result":{"content":"ciao"}}`
	req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(ev))
	req.Header.Set(WebhookSignatureHeader, SignWebhook([]byte(ev), observedSecret))
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("delivery answered %d", rec.Code)
	}
}

// TestObservedJobEndsOnce: a job awaited twice at once is one observation,
// ended once by its webhook; an await that ends early is a note.
func TestObservedJobEndsOnce(t *testing.T) {
	r := newObservedRig(t)
	job := r.dispatch(t)
	early, cancel := context.WithCancel(context.Background())
	first := job.WaitAsync(context.Background())
	second := job.WaitAsync(context.Background())
	third := job.WaitAsync(early)
	cancel()
	if o := <-third; !errors.Is(o.Err, context.Canceled) {
		t.Fatalf("cancelled await: %v", o.Err)
	}
	r.deliver(t, job.ID())
	for _, ch := range []<-chan Outcome[map[string]any]{first, second} {
		if o := <-ch; o.Err != nil {
			t.Fatal(o.Err)
		}
	}
	if _, err := job.Wait(context.Background()); err != nil { // the kept outcome: observed no more
		t.Fatal(err)
	}
	starts, notes, ends := r.rec.got()
	if diff := cmp.Diff([]observe.JobStart{{Type: string(JobTypeContentTranslate), Webhook: true}}, starts); diff != "" {
		t.Errorf("starts (-want +got):\n%s", diff)
	}
	wantNotes := []observe.JobNote{
		{Kind: observe.JobDispatched, ID: "job-1"},
		{Kind: observe.JobAwaitEnded, ID: "job-1"},
		{Kind: observe.JobWebhookReceived, ID: "job-1", Status: string(JobStatusSuccess)},
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	wantEnds := []observe.JobEnd{{ID: "job-1", Type: string(JobTypeContentTranslate), Outcome: observe.JobSucceeded, Via: observe.JobViaWebhook}}
	if diff := cmp.Diff(wantEnds, ends); diff != "" {
		t.Errorf("ends (-want +got):\n%s", diff)
	}
}

// TestObservedJobCancelledThenAwaitedAgain: when every await ends early the
// observation ends, cancelled; the next await starts a new one, resumed.
func TestObservedJobCancelledThenAwaitedAgain(t *testing.T) {
	r := newObservedRig(t)
	job := r.dispatch(t)
	ctx, cancel := context.WithCancel(context.Background())
	ch := job.WaitAsync(ctx)
	cancel()
	<-ch
	again := job.WaitAsync(context.Background())
	r.deliver(t, job.ID())
	if o := <-again; o.Err != nil {
		t.Fatal(o.Err)
	}
	starts, _, ends := r.rec.got()
	wantStarts := []observe.JobStart{
		{Type: string(JobTypeContentTranslate), Webhook: true},
		{ID: "job-1", Type: string(JobTypeContentTranslate), Webhook: true, Resumed: true},
	}
	if diff := cmp.Diff(wantStarts, starts); diff != "" {
		t.Errorf("starts (-want +got):\n%s", diff)
	}
	wantEnds := []observe.JobEnd{
		{ID: "job-1", Type: string(JobTypeContentTranslate), Outcome: observe.JobCancelled},
		{ID: "job-1", Type: string(JobTypeContentTranslate), Outcome: observe.JobSucceeded, Via: observe.JobViaWebhook},
	}
	if diff := cmp.Diff(wantEnds, ends); diff != "" {
		t.Errorf("ends (-want +got):\n%s", diff)
	}
}

// TestObservedDispatchError: a dispatch that fails ends its observation
// with an error, and no job is noted.
func TestObservedDispatchError(t *testing.T) {
	r := newObservedRig(t)
	r.status = http.StatusUnauthorized
	body, _ := jsonBody(map[string]string{"content": "hi"})
	if _, err := dispatch[map[string]any](context.Background(), r.c, "/content/translate", JobTypeContentTranslate, body, nil); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("dispatch = %v", err)
	}
	starts, notes, ends := r.rec.got()
	if diff := cmp.Diff([]observe.JobStart{{Type: string(JobTypeContentTranslate)}}, starts); diff != "" {
		t.Errorf("starts (-want +got):\n%s", diff)
	}
	if len(notes) != 0 {
		t.Errorf("notes %v, want none", notes)
	}
	if diff := cmp.Diff([]observe.JobEnd{{Type: string(JobTypeContentTranslate), Outcome: observe.JobErrored}}, ends); diff != "" {
		t.Errorf("ends (-want +got):\n%s", diff)
	}
}

// TestWithObserverNil: a nil observer is an invalid option, for a client
// and a handler alike.
func TestWithObserverNil(t *testing.T) {
	if _, err := NewClient("key", WithObserver(nil)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("NewClient(WithObserver(nil)) = %v", err)
	}
	if _, err := NewWebhookHandler("s", WithObserver(nil)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("NewWebhookHandler(WithObserver(nil)) = %v", err)
	}
}

// TestObservedNamesCoverTheSources: every outcome the handler answers with
// and every reason the limiter holds for has a name an observer is given.
// The words are read from the source, so that one added there without a
// name fails here.
func TestObservedNamesCoverTheSources(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	answers := regexp.MustCompile(`h\.answer\(w, r, [^,]+, "([^"]+)"`)
	words := map[string]bool{}
	for _, f := range []string{"webhook_handler.go", "webhook_bus.go"} {
		for _, m := range answers.FindAllStringSubmatch(read(f), -1) {
			words[m[1]] = true
		}
	}
	bus := regexp.MustCompile(`outcome(?: =|:=) "([^"]+)"`)
	for _, m := range bus.FindAllStringSubmatch(read("webhook_bus.go"), -1) {
		words[m[1]] = true
	}
	for o := outcomeDelivered; o <= outcomeClosed; o++ {
		words[o.String()] = true
	}
	if len(words) < 15 {
		t.Fatalf("found only %d outcome words: %v", len(words), words)
	}
	for w := range words {
		if _, ok := deliveryOutcomes[w]; !ok {
			t.Errorf("the handler's outcome %q has no observe.DeliveryOutcome", w)
		}
	}
	reasons := regexp.MustCompile(`, "([^"]+)", false`)
	found := reasons.FindAllStringSubmatch(read("ratelimit.go"), -1)
	// The reasons that only an answer ends are named constants.
	found = append(found, []string{"", whyFirstAnswer}, []string{"", whyAnswers})
	if len(found) < 6 {
		t.Fatalf("found only %d limiter reasons", len(found))
	}
	for _, m := range found {
		if _, ok := limiterReasons[m[1]]; !ok {
			t.Errorf("the limiter's reason %q has no observe.LimiterReason", m[1])
		}
	}
}
