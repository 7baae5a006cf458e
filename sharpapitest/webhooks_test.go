package sharpapitest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

const secret = "whsec-test"

// payload is the flat webhook body.
type payload struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Type   string          `json:"type"`
	Result json.RawMessage `json:"result"`
}

func webhookServer(t *testing.T, url string, opts ...sharpapitest.Option) *sharpapitest.Server {
	t.Helper()
	return newServer(t, append([]sharpapitest.Option{
		sharpapitest.WithWebhookURL(url), sharpapitest.WithWebhookSecret(secret),
		sharpapitest.WithJobDuration(0), sharpapitest.WithWebhookRetryDelay(0),
	}, opts...)...)
}

// checkSigned verifies the contract of §5 on one delivery.
func checkSigned(t *testing.T, h hook) payload {
	t.Helper()
	for k, want := range map[string]string{
		"X-Method": "POST", "Content-Type": "application/json", "User-Agent": "SharpAPIWebhook/1.0",
		"X-Signature": sign(h.body, secret),
	} {
		if got := h.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	return decode[payload](t, h.body)
}

func TestWebhookDelivery(t *testing.T) {
	recv, hooks := receiver(t, nil)
	srv := webhookServer(t, recv.URL)
	d := dispatch(t, srv.URL+"/content/detect_urls", map[string]string{"content": "see http://example.com"})

	h := next(t, hooks)
	p := checkSigned(t, h)
	if p.ID != d.JobID || p.Status != "success" || p.Type != "content_detect_urls" {
		t.Errorf("payload = %s", h.body)
	}
	want := []byte(`[{"url": "http://example.com", "protocol": "http"}]`)
	if diff := cmp.Diff(decode[any](t, want), decode[any](t, p.Result)); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	// The body is encoded as PHP encodes it, so only the exact bytes verify.
	if !bytes.Contains(h.body, []byte(`http:\/\/example.com`)) {
		t.Errorf("body not PHP-encoded: %s", h.body)
	}
	reencoded, _ := json.Marshal(decode[any](t, h.body))
	if sign(reencoded, secret) == h.header.Get("X-Signature") {
		t.Error("re-serialised JSON verifies; the emulator would not catch receivers that re-serialise")
	}
	if got := sharpapitest.Sign(h.body, secret); got != h.header.Get("X-Signature") {
		t.Errorf("Sign = %q, want the header %q", got, h.header.Get("X-Signature"))
	}

	srv.Close()
	dl := srv.Deliveries()
	if len(dl) != 1 || dl[0].JobID != d.JobID || dl[0].StatusCode != 200 || dl[0].Attempt != 1 || dl[0].Copy != 1 ||
		!bytes.Equal(dl[0].Body, h.body) || dl[0].Signature != h.header.Get("X-Signature") || dl[0].URL != recv.URL {
		t.Errorf("Deliveries() = %+v", dl)
	}
}

func TestWebhookWithoutResult(t *testing.T) {
	recv, hooks := receiver(t, nil)
	srv := webhookServer(t, recv.URL, sharpapitest.WithWebhookResult(false))
	d := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "hello", "language": "Italian"})
	h := next(t, hooks)
	checkSigned(t, h)
	want := `{"id":"` + d.JobID + `","status":"success","type":"content_translate"}`
	if string(h.body) != want {
		t.Errorf("body = %s, want %s", h.body, want)
	}
}

func TestJobWebhookHeaderOverridesAccountURL(t *testing.T) {
	account, accountHooks := receiver(t, nil)
	perJob, perJobHooks := receiver(t, nil)
	srv := webhookServer(t, account.URL)
	d := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"}, "Job-Webhook", perJob.URL+"/hooks?job=1")
	if p := checkSigned(t, next(t, perJobHooks)); p.ID != d.JobID {
		t.Errorf("per-job webhook for %q", p.ID)
	}
	srv.Close()
	none(t, accountHooks)
	if ji, _ := srv.Job(d.JobID); ji.WebhookURL != perJob.URL+"/hooks?job=1" {
		t.Errorf("JobInfo.WebhookURL = %q", ji.WebhookURL)
	}
}

func TestNoSecretNoWebhook(t *testing.T) {
	recv, hooks := receiver(t, nil)
	srv := newServer(t, sharpapitest.WithWebhookURL(recv.URL), sharpapitest.WithJobDuration(0))
	dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"}, "Job-Webhook", recv.URL)
	srv.Close()
	none(t, hooks)
	if dl := srv.Deliveries(); len(dl) != 0 {
		t.Errorf("Deliveries() = %+v", dl)
	}
}

func TestFailedJobWebhook(t *testing.T) {
	recv, hooks := receiver(t, nil)
	srv := webhookServer(t, recv.URL, sharpapitest.WithFailJobTypes("content_translate"))
	d := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
	p := checkSigned(t, next(t, hooks))
	if p.ID != d.JobID || p.Status != "failed" || string(p.Result) != "null" {
		t.Errorf("payload = %+v", p)
	}
	st := decode[statusBody](t, get(t, d.StatusURL).body)
	if st.Data.Attributes.Status != "failed" || string(st.Data.Attributes.Result) != "null" || st.Data.Type != "api_job_result" {
		t.Errorf("status = %+v", st.Data)
	}
}

func TestWebhookRetries(t *testing.T) {
	t.Run("until a 2xx", func(t *testing.T) {
		recv, hooks := receiver(t, func(n int) int {
			if n < 3 {
				return http.StatusServiceUnavailable
			}
			return http.StatusNoContent
		})
		srv := webhookServer(t, recv.URL)
		dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		first := next(t, hooks)
		for range 2 {
			if h := next(t, hooks); !bytes.Equal(h.body, first.body) || h.header.Get("X-Signature") != first.header.Get("X-Signature") {
				t.Error("a retry differs from the first attempt")
			}
		}
		srv.Close()
		none(t, hooks)
		if got := statuses(srv.Deliveries()); !cmp.Equal(got, []int{503, 503, 204}) {
			t.Errorf("attempts answered %v", got)
		}
	})

	t.Run("four attempts at most", func(t *testing.T) {
		recv, hooks := receiver(t, func(int) int { return http.StatusInternalServerError })
		srv := webhookServer(t, recv.URL)
		dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		for range 4 {
			next(t, hooks)
		}
		srv.Close()
		none(t, hooks)
		dl := srv.Deliveries()
		if len(dl) != 4 || dl[3].Attempt != 4 {
			t.Errorf("Deliveries() = %+v", dl)
		}
	})

	t.Run("on connection errors", func(t *testing.T) {
		recv, awaitAttempts := hangingUpReceiver(t)
		srv := webhookServer(t, recv.URL)
		dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		awaitAttempts(4)
		srv.Close() // waits for the last attempt to be recorded
		dl := srv.Deliveries()
		if len(dl) != 4 {
			t.Fatalf("%d attempts, want 4", len(dl))
		}
		for _, d := range dl {
			if d.Err == "" || d.StatusCode != 0 {
				t.Errorf("attempt %d: %+v", d.Attempt, d)
			}
		}
	})

	t.Run("spaced on the clock", func(t *testing.T) {
		clock := sharpapitest.NewManualClock(epoch)
		recv, hooks := receiver(t, func(n int) int {
			if n == 1 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		srv := webhookServer(t, recv.URL, sharpapitest.WithClock(clock), sharpapitest.WithWebhookRetryDelay(30*time.Second))
		dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		next(t, hooks)
		if err := clock.BlockUntil(testContext(t), 1); err != nil { // the retry waits on the clock
			t.Fatal(err)
		}
		none(t, hooks)
		clock.Advance(30 * time.Second)
		next(t, hooks)
		srv.Close()
		dl := srv.Deliveries()
		if len(dl) != 2 || dl[1].Time.Sub(dl[0].Time) != 30*time.Second {
			t.Errorf("Deliveries() = %+v", dl)
		}
	})
}

func statuses(dl []sharpapitest.Delivery) []int {
	var s []int
	for _, d := range dl {
		s = append(s, d.StatusCode)
	}
	return s
}

func TestWebhookAtCompletion(t *testing.T) {
	clock := sharpapitest.NewManualClock(epoch)
	recv, hooks := receiver(t, nil)
	srv := webhookServer(t, recv.URL, sharpapitest.WithClock(clock), sharpapitest.WithJobDuration(5*time.Second))
	d := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
	clock.Advance(4 * time.Second)
	none(t, hooks)
	if st := decode[statusBody](t, get(t, d.StatusURL).body); st.Data.Attributes.Status != "pending" {
		t.Errorf("status before completion = %q", st.Data.Attributes.Status)
	}
	clock.Advance(time.Second)
	if p := checkSigned(t, next(t, hooks)); p.ID != d.JobID {
		t.Errorf("webhook for %q", p.ID)
	}
}

func TestCloseStopsPendingWebhooks(t *testing.T) {
	clock := sharpapitest.NewManualClock(epoch)
	recv, hooks := receiver(t, nil)
	srv := webhookServer(t, recv.URL, sharpapitest.WithClock(clock), sharpapitest.WithJobDuration(time.Minute))
	dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
	srv.Close()
	srv.Close() // idempotent
	if n := clock.Pending(); n != 0 {
		t.Errorf("%d timers left after Close", n)
	}
	clock.Advance(time.Hour)
	none(t, hooks)
}
