package sharpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// outcomes collects what an OnDone callback is called with.
type outcomes[T any] chan sharpapi.Outcome[T]

func (o outcomes[T]) fn(v T, err error) { o <- sharpapi.Outcome[T]{Value: v, Err: err} }

// once returns the callback's one outcome and fails the test if a second
// call comes before the job's webhook handler has seen every delivery
// (after closes the emulator, which waits for its deliveries in flight).
func (o outcomes[T]) once(t *testing.T, after func()) sharpapi.Outcome[T] {
	t.Helper()
	got := within(t, (<-chan sharpapi.Outcome[T])(o))
	if after != nil {
		after()
	}
	select {
	case again := <-o:
		t.Fatalf("callback called twice: then with %+v", again)
	default:
	}
	return got
}

// TestOnDone: the callback is called exactly once, with the right outcome,
// whatever the webhook does — and with no goroutine waiting meanwhile.
func TestOnDone(t *testing.T) {
	tests := []struct {
		name      string
		grace     time.Duration
		opts      []sharpapitest.Option
		wantPolls bool
	}{
		{name: "webhook", grace: time.Hour},
		{name: "webhook delivered four times", grace: time.Hour, opts: []sharpapitest.Option{sharpapitest.WithDuplicates(4)}},
		{name: "webhook before the dispatch answer", grace: time.Hour, opts: []sharpapitest.Option{sharpapitest.WithEarlyWebhooks()}},
		{name: "webhook lost: polled after the grace period", grace: 20 * time.Millisecond,
			opts: []sharpapitest.Option{sharpapitest.WithDropNext(1)}, wantPolls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.grace, tt.opts...)
			job, err := r.client.Translate(context.Background(), italian, sharpapi.WithWebhook(r.hookURL))
			if err != nil {
				t.Fatal(err)
			}
			got := make(outcomes[sharpapi.TranslateResult], 2)
			job.OnDone(context.Background(), got.fn)
			out := got.once(t, r.emu.Close)
			if out.Err != nil {
				t.Fatal(out.Err)
			}
			if diff := cmp.Diff(wantTranslation(t), out.Value); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if polls := r.polls(t, job.ID()); (polls > 0) != tt.wantPolls {
				t.Errorf("%d status polls; want polls: %v", polls, tt.wantPolls)
			}
			st := r.hooks.Stats()
			if st.Waiting != 0 {
				t.Errorf("the handler still holds %d waiters", st.Waiting)
			}
			if tt.wantPolls && st.GraceExpired != 1 {
				t.Errorf("GraceExpired = %d, want 1", st.GraceExpired)
			}
		})
	}
}

// A context that ends first calls fn once with an error that wraps it and
// names the job; the handler keeps no waiter.
func TestOnDoneContextEnds(t *testing.T) {
	r := newRig(t, time.Hour, sharpapitest.WithDropRate(1))
	job, err := r.client.Translate(context.Background(), italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	got := make(outcomes[sharpapi.TranslateResult], 2)
	job.OnDone(ctx, got.fn)
	cause := errors.New("shutting down")
	cancel(cause)
	out := got.once(t, nil)
	if !errors.Is(out.Err, cause) || !strings.Contains(out.Err.Error(), job.ID()) {
		t.Errorf("err = %v; want one that wraps the cause and names the job", out.Err)
	}
	if st := r.hooks.Stats(); st.Waiting != 0 {
		t.Errorf("the handler still holds %d waiters", st.Waiting)
	}
	if polls := r.polls(t, job.ID()); polls != 0 {
		t.Errorf("%d status polls; want 0", polls)
	}
}

// A panicking callback is recovered, logged and counted; the process and
// the handler carry on.
func TestOnDonePanicIsRecovered(t *testing.T) {
	logs := &lockedBuffer{}
	r := newRig(t, time.Hour)
	client, err := sharpapi.NewClient("test-key", sharpapi.WithBaseURL(r.emu.URL), sharpapi.WithWebhookHandler(r.hooks),
		sharpapi.WithWebhook(r.hookURL), sharpapi.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	job, err := client.Translate(context.Background(), italian)
	if err != nil {
		t.Fatal(err)
	}
	job.OnDone(context.Background(), func(sharpapi.TranslateResult, error) { panic("boom") })
	// Counted, then logged: wait for the log line.
	waitFor(t, func() bool { return strings.Contains(logs.String(), "OnDone callback panicked") })
	if n := r.hooks.Stats().CallbackPanics; n != 1 || !strings.Contains(logs.String(), "boom") {
		t.Errorf("CallbackPanics = %d, log:\n%s", n, logs)
	}
	if n := client.CallbackPanics(); n != 1 {
		t.Errorf("client.CallbackPanics() = %d, want 1", n)
	}
	// The job's outcome is kept: another callback gets it at once.
	got := make(outcomes[sharpapi.TranslateResult], 2)
	job.OnDone(context.Background(), got.fn)
	if out := got.once(t, nil); out.Err != nil {
		t.Fatal(out.Err)
	}
}

// Once a job's outcome is known, awaiting it again in any of the three ways
// returns the same outcome and sends no request.
func TestAwaitAfterCompletionSendsNothing(t *testing.T) {
	for _, status := range []string{"success", "failed"} {
		t.Run(status, func(t *testing.T) {
			var opts []sharpapitest.Option
			if status == "failed" {
				opts = append(opts, sharpapitest.WithFailJobTypes(string(sharpapi.JobTypeContentTranslate)))
			}
			r := newRig(t, time.Hour, opts...)
			job, err := r.client.Translate(context.Background(), italian, sharpapi.WithWebhook(r.hookURL))
			if err != nil {
				t.Fatal(err)
			}
			first, firstErr := job.Wait(context.Background())
			requests := len(r.emu.Requests())
			cancelled, cancel := context.WithCancel(context.Background())
			cancel() // a kept outcome needs no waiting: it wins over an ended context

			again, err := job.Wait(cancelled)
			async := <-job.WaitAsync(cancelled)
			got := make(outcomes[sharpapi.TranslateResult], 2)
			job.OnDone(cancelled, got.fn)
			cb := got.once(t, nil)

			for name, o := range map[string]sharpapi.Outcome[sharpapi.TranslateResult]{
				"Wait": {Value: again, Err: err}, "WaitAsync": async, "OnDone": cb,
			} {
				if diff := cmp.Diff(first, o.Value); diff != "" {
					t.Errorf("%s: value differs (-first +again):\n%s", name, diff)
				}
				if (firstErr == nil) != (o.Err == nil) || (o.Err != nil && o.Err.Error() != firstErr.Error()) {
					t.Errorf("%s: err = %v, first was %v", name, o.Err, firstErr)
				}
			}
			if status == "failed" {
				var jf *sharpapi.JobFailedError
				if !errors.Is(firstErr, sharpapi.ErrJobFailed) || !errors.As(firstErr, &jf) || jf.JobID != job.ID() {
					t.Errorf("err = %v; want ErrJobFailed and a *JobFailedError for the job", firstErr)
				}
				if job.Raw() != nil {
					t.Errorf("Raw() of a failed job = %s, want nil", job.Raw())
				}
			} else if len(job.Raw()) == 0 {
				t.Error("Raw() is empty after the job succeeded")
			}
			if n := len(r.emu.Requests()); n != requests {
				t.Errorf("awaiting a finished job sent %d requests", n-requests)
			}
		})
	}
}

// OnDone with a nil func has nothing to call: it says so at Warn.
func TestOnDoneNilFunc(t *testing.T) {
	logs := &lockedBuffer{}
	emu := sharpapitest.NewServer()
	defer emu.Close()
	c, err := sharpapi.NewClient("k", sharpapi.WithBaseURL(emu.URL), sharpapi.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.Translate(context.Background(), italian)
	if err != nil {
		t.Fatal(err)
	}
	job.OnDone(context.Background(), nil)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "nil func") {
		t.Errorf("log = %q; want a Warn about the nil func", logs)
	}
}

// records is a slog.Handler that hands each record at Warn or above to a
// channel, so that a test waits for a log line without polling.
type records chan slog.Record

func (records) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r records) Handle(_ context.Context, rec slog.Record) error {
	r <- rec.Clone()
	return nil
}
func (r records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r records) WithGroup(string) slog.Handler      { return r }

// attrs returns a record's attributes by key.
func attrs(rec slog.Record) map[string]string {
	m := map[string]string{}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

// A client with no logger does not hide a panicking OnDone callback: like
// net/http with a handler's panic, it goes to slog.Default() at Error with
// the job, the value and the stack, and the client counts it. (Not
// parallel: it replaces the default logger.)
func TestOnDonePanicWithoutLogger(t *testing.T) {
	logged := make(records, 16)
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(logged))
	c, _ := emulated(t, nil) // no WithLogger, no handler
	job, err := c.Translate(context.Background(), italian)
	if err != nil {
		t.Fatal(err)
	}
	job.OnDone(context.Background(), func(sharpapi.TranslateResult, error) { panic("boom") })
	rec := within(t, (<-chan slog.Record)(logged))
	for rec.Message != "sharpapi: OnDone callback panicked" { // another line of the test's machinery
		rec = within(t, (<-chan slog.Record)(logged))
	}
	a := attrs(rec)
	if rec.Level != slog.LevelError || rec.Message != "sharpapi: OnDone callback panicked" ||
		a["job_id"] != job.ID() || a["panic"] != "boom" || !strings.Contains(a["stack"], "goroutine") {
		t.Errorf("logged %v %q %v", rec.Level, rec.Message, a)
	}
	if n := c.CallbackPanics(); n != 1 {
		t.Errorf("CallbackPanics() = %d, want 1", n)
	}
}

// OnDone with a context that ends before any job could finish (a request's
// context, in an HTTP handler) warns through the client's logger and says
// what to do; a context that outlives the job, or ends later than that,
// warns of nothing. fn gets the outcome either way.
func TestOnDoneWarnsOfAShortContext(t *testing.T) {
	cancelled := func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx, cancel
	}
	live := func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }
	tests := []struct {
		name     string
		tooSoon  time.Duration // how soon an ending context is warned about
		jobTakes time.Duration
		ctx      func() (context.Context, context.CancelFunc)
		cancel   bool // cancel the context right after OnDone
		wantErr  bool
		wantWarn bool
	}{
		{name: "done already", tooSoon: time.Second, jobTakes: time.Hour, ctx: cancelled, wantErr: true, wantWarn: true},
		{name: "ends too soon", tooSoon: time.Hour, jobTakes: time.Hour, ctx: live, cancel: true, wantErr: true, wantWarn: true},
		{name: "ends later", tooSoon: 0, jobTakes: time.Hour, ctx: live, cancel: true, wantErr: true},
		{name: "outlives the job", tooSoon: time.Hour, jobTakes: time.Millisecond, ctx: live},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logged := make(records, 16)
			c, _ := emulated(t, []sharpapitest.Option{sharpapitest.WithJobDuration(tt.jobTakes)},
				sharpapi.WithLogger(slog.New(logged)), sharpapi.WithOnDoneTooSoonForTest(tt.tooSoon))
			job, err := c.Translate(context.Background(), italian)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := tt.ctx()
			defer cancel()
			got := make(outcomes[sharpapi.TranslateResult], 2)
			job.OnDone(ctx, got.fn)
			if tt.cancel {
				cancel()
			}
			out := got.once(t, nil)
			if errors.Is(out.Err, context.Canceled) != tt.wantErr || (!tt.wantErr && out.Err != nil) {
				t.Fatalf("outcome error %v; want the context's: %v", out.Err, tt.wantErr)
			}
			// The Warn is logged before fn is called: it is in the channel.
			var warns []slog.Record
			for len(logged) > 0 {
				if rec := <-logged; strings.Contains(rec.Message, "OnDone's context ended") {
					warns = append(warns, rec)
				}
			}
			if len(warns) > 1 || (len(warns) == 1) != tt.wantWarn {
				t.Fatalf("%d warnings; want one: %v", len(warns), tt.wantWarn)
			}
			if tt.wantWarn {
				w := warns[0]
				if a := attrs(w); w.Level != slog.LevelWarn || a["job_id"] != job.ID() ||
					!strings.Contains(w.Message, "context.WithoutCancel(r.Context()) and a timeout") {
					t.Errorf("logged %v %q %v", w.Level, w.Message, a)
				}
			}
		})
	}
}
