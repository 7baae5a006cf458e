package sharpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

const hookSecret = "whsec-e2e"

// rig is a client, the emulator it calls, and the webhook handler the
// emulator delivers to over real loopback HTTP.
type rig struct {
	logs    *lockedBuffer // the client's log
	client  *sharpapi.Client
	emu     *sharpapitest.Server
	hooks   *sharpapi.WebhookHandler
	hookURL string
}

// newRig wires the three together. grace is the client's webhook grace: long
// where a test proves the webhook alone completes the job, short where the
// webhook is lost and polling must take over.
func newRig(t *testing.T, grace time.Duration, emuOpts ...sharpapitest.Option) *rig {
	t.Helper()
	hooks, err := sharpapi.NewWebhookHandler(hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	recv := httptest.NewServer(hooks)
	t.Cleanup(recv.Close)
	t.Cleanup(func() { hooks.Close() })
	emu := sharpapitest.NewServer(append([]sharpapitest.Option{
		sharpapitest.WithWebhookSecret(hookSecret),
		sharpapitest.WithJobDuration(time.Millisecond),
		sharpapitest.WithRetryAfter(time.Millisecond),
		sharpapitest.WithWebhookRetryDelay(time.Millisecond),
		sharpapitest.WithSeed(7),
	}, emuOpts...)...)
	t.Cleanup(emu.Close)
	logs := &lockedBuffer{}
	c, err := sharpapi.NewClient("test-key",
		sharpapi.WithLogger(slog.New(slog.NewTextHandler(logs, nil))),
		sharpapi.WithBaseURL(emu.URL),
		sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhookGrace(grace),
		sharpapi.WithPollInterval(time.Millisecond),
		sharpapi.WithRetryWait(time.Millisecond, 5*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{logs: logs, client: c, emu: emu, hooks: hooks, hookURL: recv.URL + "/hooks/sharpapi"}
}

// lockedBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (r *rig) polls(t *testing.T, id string) int {
	t.Helper()
	info, ok := r.emu.Job(id)
	if !ok {
		t.Fatalf("emulator has no job %s", id)
	}
	return info.Polls
}

// translate dispatches a translation with a webhook, awaits it and checks
// the result is the emulator's; the job is returned for more checks.
func (r *rig) translate(t *testing.T) *sharpapi.Job[sharpapi.TranslateResult] {
	t.Helper()
	ctx := context.Background()
	job, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	got, err := job.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantTranslation(t), got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	return job
}

var italian = sharpapi.TranslateParams{Content: "hello", Language: "Italian"}

// wantTranslation is the emulator's default answer to italian.
func wantTranslation(t *testing.T) sharpapi.TranslateResult {
	t.Helper()
	return sharpapi.TranslateResult{Content: "[Italian] hello", FromLanguage: "English", ToLanguage: "Italian"}
}

// TestWebhookCompletesWaitWithoutPolling covers the faults that still
// deliver a webhook: each job's Wait returns its result once, and no status
// poll is made while the webhook is expected.
func TestWebhookCompletesWaitWithoutPolling(t *testing.T) {
	tests := []struct {
		name    string
		opts    []sharpapitest.Option
		dupsMin uint64
	}{
		{name: "delivered once"},
		{name: "delivered four times", opts: []sharpapitest.Option{sharpapitest.WithDuplicates(4)}, dupsMin: 3},
		{name: "delivered before the dispatch answer", opts: []sharpapitest.Option{sharpapitest.WithEarlyWebhooks()}},
		{name: "delivered late", opts: []sharpapitest.Option{sharpapitest.WithWebhookDelay(30 * time.Millisecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, time.Hour, tt.opts...)
			job := r.translate(t)
			if n := r.polls(t, job.ID()); n != 0 {
				t.Errorf("status polls = %d, want 0", n)
			}
			st := r.hooks.Stats()
			if st.Delivered != 1 {
				t.Errorf("handler delivered %d events, want 1", st.Delivered)
			}
			// Close waits for the emulator's deliveries in flight, so the
			// handler has seen every copy by then.
			r.emu.Close()
			if st := r.hooks.Stats(); st.Duplicates < tt.dupsMin || st.Delivered != 1 {
				t.Errorf("after all copies: %d duplicates, %d delivered; want >= %d and 1", st.Duplicates, st.Delivered, tt.dupsMin)
			}
		})
	}
}

// waitFor waits, boundedly, for a condition that another goroutine makes
// true and that no channel announces; it fails the test rather than hang.
// It asserts nothing about time.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLostWebhookIsCompletedByPolling(t *testing.T) {
	r := newRig(t, 10*time.Millisecond, sharpapitest.WithDropNext(1))
	job := r.translate(t)
	if n := r.polls(t, job.ID()); n == 0 {
		t.Error("no status poll: the fallback did not run")
	}
	if st := r.hooks.Stats(); st.Verified != 0 || st.GraceExpired != 1 {
		t.Errorf("handler stats %+v; want the webhook dropped and one expired grace period", st)
	}
	if n := strings.Count(r.logs.String(), "no webhook within the grace period"); n != 1 {
		t.Errorf("%d grace-period warnings, want 1:\n%s", n, r.logs.String())
	}
}

func TestWebhookWithoutResultFetchesItOnce(t *testing.T) {
	r := newRig(t, time.Hour, sharpapitest.WithWebhookResult(false))
	job := r.translate(t)
	if n := r.polls(t, job.ID()); n != 1 {
		t.Errorf("status polls = %d, want exactly 1", n)
	}
}

func TestFailedJobThroughWebhook(t *testing.T) {
	r := newRig(t, time.Hour, sharpapitest.WithFailJobTypes(string(sharpapi.JobTypeContentTranslate)))
	ctx := context.Background()
	job, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = job.Wait(ctx)
	var failed *sharpapi.JobFailedError
	if !errors.As(err, &failed) || failed.JobID != job.ID() {
		t.Fatalf("err = %v, want *JobFailedError for %s", err, job.ID())
	}
	if n := r.polls(t, job.ID()); n != 0 {
		t.Errorf("status polls = %d, want 0", n)
	}
}

func TestWaitFallsBackWhenTheHandlerCloses(t *testing.T) {
	r := newRig(t, time.Hour, sharpapitest.WithDropNext(1))
	ctx := context.Background()
	job, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	// Whether Close comes before or after Wait subscribes, Wait must poll
	// at once instead of sitting out its hour of grace.
	done := job.WaitAsync(ctx)
	r.hooks.Close()
	out := <-done
	if out.Err != nil || out.Value.Content == "" {
		t.Fatalf("Wait after Close = %+v", out)
	}
}

func TestResumedJobAwaitsItsWebhook(t *testing.T) {
	r := newRig(t, time.Hour, sharpapitest.WithJobDuration(time.Hour))
	ctx := context.Background()
	job, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	// A restarted service knows only the id. Its first look at the status
	// URL finds the job pending; the webhook then completes it.
	resumed, err := sharpapi.ResumeJob[sharpapi.TranslateResult](r.client, job.ID(), sharpapi.JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	done := resumed.WaitAsync(ctx)
	waitFor(t, func() bool { return r.polls(t, job.ID()) == 1 && r.hooks.Stats().Waiting == 1 })
	body := []byte(`{"id":"` + job.ID() + `","status":"success","type":"content_translate",` +
		`"result":{"content":"ciao","to_language":"Italian","from_language":"English"}}`)
	req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader(body))
	req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapi.SignWebhook(body, hookSecret))
	rec := httptest.NewRecorder()
	r.hooks.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("webhook answered %d", rec.Code)
	}
	out := <-done
	if out.Err != nil || out.Value.Content != "ciao" {
		t.Fatalf("resumed Wait = %+v", out)
	}
	if n := r.polls(t, job.ID()); n != 1 {
		t.Errorf("status polls = %d, want 1", n)
	}
}

// TestManyJobsUnderWebhookFaults runs jobs concurrently while webhooks come
// early, late, twice, out of order or not at all: every job gets its own
// result (the emulator echoes the input) exactly once.
func TestManyJobsUnderWebhookFaults(t *testing.T) {
	echo := sharpapitest.WithResult(string(sharpapi.JobTypeContentTranslate), func(req sharpapitest.JobRequest) (any, error) {
		return map[string]string{"content": strings.ToUpper(req.Text("content")), "to_language": "Italian"}, nil
	})
	faults := map[string][]sharpapitest.Option{
		"duplicated": {sharpapitest.WithDuplicates(3)},
		"early":      {sharpapitest.WithEarlyWebhooks()},
		"dropped":    {sharpapitest.WithDropRate(0.3)},
		"late":       {sharpapitest.WithWebhookDelay(5 * time.Millisecond), sharpapitest.WithDuplicates(2)},
	}
	for name, opts := range faults {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, 20*time.Millisecond, append(opts, echo)...)
			const n = 40
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					text := fmt.Sprintf("job %d", i)
					job, err := r.client.Translate(ctx, sharpapi.TranslateParams{Content: text}, sharpapi.WithWebhook(r.hookURL))
					if err != nil {
						errs <- err
						return
					}
					got, err := job.Wait(ctx)
					if err != nil {
						errs <- err
					} else if got.Content != strings.ToUpper(text) {
						errs <- fmt.Errorf("job %s got %q, want %q", job.ID(), got.Content, strings.ToUpper(text))
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if st := r.hooks.Stats(); st.Delivered > n {
				t.Errorf("handler delivered %d events for %d jobs", st.Delivered, n)
			}
			if jobs := len(r.emu.Jobs()); jobs != n {
				t.Errorf("emulator created %d jobs for %d dispatches", jobs, n)
			}
		})
	}
}
