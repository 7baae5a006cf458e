package sharpapitest_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// TestWebhookErrorsCarryNoURLCredentials makes every attempt fail against a
// webhook URL with user info and a query: neither Delivery.Err nor the log
// line repeats them.
func TestWebhookErrorsCarryNoURLCredentials(t *testing.T) {
	recv, awaitAttempts := hangingUpReceiver(t) // the client's error quotes the URL it posted to
	hookURL := strings.Replace(recv.URL, "http://", "http://hookuser:hookpass@", 1) + "/hooks?token=t0k3n"

	var log bytes.Buffer // written only by the emulator's goroutines, read after Close
	srv := webhookServer(t, hookURL, sharpapitest.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
	awaitAttempts(4)
	srv.Close() // waits for the last attempt to be recorded and logged

	dl := srv.Deliveries()
	if len(dl) != 4 {
		t.Fatalf("%d attempts, want 4", len(dl))
	}
	for _, d := range dl {
		if d.Err == "" || !strings.Contains(d.Err, recv.URL+"/hooks") {
			t.Errorf("attempt %d: Err %q does not name the redacted URL", d.Attempt, d.Err)
		}
		for _, secret := range []string{"hookuser", "hookpass", "t0k3n", "token="} {
			if strings.Contains(d.Err, secret) {
				t.Errorf("attempt %d: Err %q carries %q", d.Attempt, d.Err, secret)
			}
		}
	}
	if got := strings.Count(log.String(), "msg=webhook"); got != 4 {
		t.Errorf("%d webhook log lines, want 4:\n%s", got, log.String())
	}
	for _, secret := range []string{"hookuser", "hookpass", "t0k3n", "token="} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("the log carries %q:\n%s", secret, log.String())
		}
	}
}

// TestRecordBoundedByBytes checks that the record keeps a prefix of each
// body, and drops its oldest records once their bytes pass the budget.
func TestRecordBoundedByBytes(t *testing.T) {
	t.Run("default body limit", func(t *testing.T) {
		srv := newServer(t)
		big := `{"content":"` + strings.Repeat("x", sharpapitest.DefaultRecordBodyLimit) + `"}`
		postJSON(t, srv.URL+"/content/translate", big)
		reqs := srv.Requests()
		if len(reqs) != 1 || len(reqs[0].Body) != sharpapitest.DefaultRecordBodyLimit || reqs[0].BodyLen != len(big) {
			t.Fatalf("recorded %d requests, body %d of %d bytes", len(reqs), len(reqs[0].Body), reqs[0].BodyLen)
		}
		if !bytes.HasPrefix([]byte(big), reqs[0].Body) {
			t.Error("the recorded body is not the request's first bytes")
		}
	})

	t.Run("budget", func(t *testing.T) {
		recv, hooks := receiver(t, nil)
		srv := webhookServer(t, recv.URL, sharpapitest.WithRecordBodyLimit(16), sharpapitest.WithRecordBytes(4096))
		for i := range 20 {
			dispatch(t, srv.URL+"/content/translate", map[string]string{"content": strings.Repeat("word ", 100+i)})
			next(t, hooks)
		}
		srv.Close()
		reqs := srv.Requests()
		if len(reqs) == 0 || len(reqs) >= 20 {
			t.Fatalf("%d of 20 requests kept within 4096 bytes", len(reqs))
		}
		var got []int
		for _, r := range reqs {
			if len(r.Body) != 16 {
				t.Errorf("a recorded body holds %d bytes, want 16", len(r.Body))
			}
			got = append(got, r.BodyLen)
		}
		// The newest are kept: the last len(reqs) of the 20 bodies.
		var want []int
		for i := 20 - len(reqs); i < 20; i++ {
			want = append(want, len(`{"content":""}`)+5*(100+i))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("recorded body lengths (-want +got):\n%s", diff)
		}
		dl := srv.Deliveries()
		if len(dl) == 0 || len(dl) > 20 {
			t.Fatalf("%d deliveries kept", len(dl))
		}
		for _, d := range dl {
			if len(d.Body) != 16 || d.BodyLen <= 16 {
				t.Errorf("a recorded delivery body holds %d of %d bytes, want 16", len(d.Body), d.BodyLen)
			}
		}
	})
}

// TestJobsPruned checks that finished jobs are forgotten after the
// retention and past the limit, oldest first, and running jobs never.
func TestJobsPruned(t *testing.T) {
	t.Run("retention", func(t *testing.T) {
		clock := sharpapitest.NewManualClock(epoch)
		srv := newServer(t, sharpapitest.WithClock(clock), sharpapitest.WithJobDuration(time.Second),
			sharpapitest.WithJobRetention(time.Minute))
		old := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		clock.Advance(30 * time.Second)
		kept := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		clock.Advance(31 * time.Second) // old: final for 60 s, kept for 30 s
		running := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		if _, ok := srv.Job(old.JobID); !ok {
			t.Error("a job final for exactly the retention was forgotten")
		}
		clock.Advance(time.Millisecond)
		dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		if _, ok := srv.Job(old.JobID); ok {
			t.Error("a job final for longer than the retention is still kept")
		}
		if r := get(t, old.StatusURL); r.status != http.StatusNotFound {
			t.Errorf("status of a forgotten job: %d, want 404", r.status)
		}
		for _, d := range []dispatched{kept, running} {
			if _, ok := srv.Job(d.JobID); !ok {
				t.Errorf("job %s was forgotten too soon", d.JobID)
			}
		}
	})

	// Issue 23, finding 9: the retention is a time, not the next dispatch.
	t.Run("retention with no dispatch after", func(t *testing.T) {
		clock := sharpapitest.NewManualClock(epoch)
		srv := newServer(t, sharpapitest.WithClock(clock), sharpapitest.WithJobDuration(time.Second),
			sharpapitest.WithJobRetention(time.Minute))
		old := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		clock.Advance(time.Second + time.Minute) // final for exactly the retention
		if r := get(t, old.StatusURL); r.status != http.StatusOK {
			t.Errorf("status of a job final for exactly the retention: %d, want 200", r.status)
		}
		clock.Advance(time.Millisecond)
		if _, ok := srv.Job(old.JobID); ok {
			t.Error("Job finds a job final for longer than the retention")
		}
		if r := get(t, old.StatusURL); r.status != http.StatusNotFound {
			t.Errorf("status of a job final for longer than the retention: %d, want 404", r.status)
		}
		if jobs := srv.Jobs(); len(jobs) != 0 {
			t.Errorf("Jobs lists %d jobs, want none", len(jobs))
		}
	})

	t.Run("limit", func(t *testing.T) {
		clock := sharpapitest.NewManualClock(epoch)
		srv := newServer(t, sharpapitest.WithClock(clock), sharpapitest.WithJobDuration(time.Second),
			sharpapitest.WithJobLimit(3))
		var ids []string
		for range 5 {
			ids = append(ids, dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"}).JobID)
		}
		// All five are running: none is forgotten.
		if got := len(srv.Jobs()); got != 5 {
			t.Fatalf("%d jobs while all run, want 5", got)
		}
		clock.Advance(time.Second)
		ids = append(ids, dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"}).JobID)
		var got []string
		for _, j := range srv.Jobs() {
			got = append(got, j.ID)
		}
		// Three finished jobs went to make room: the limit counts the new one.
		if diff := cmp.Diff(ids[3:], got); diff != "" {
			t.Errorf("jobs kept (-want +got):\n%s", diff)
		}
	})
}
