package sharpapitest_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

func TestDuplicateWebhooks(t *testing.T) {
	recv, hooks := receiver(t, nil)
	srv := webhookServer(t, recv.URL, sharpapitest.WithDuplicates(3))
	d := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
	first := next(t, hooks)
	if p := checkSigned(t, first); p.ID != d.JobID {
		t.Fatalf("webhook for %q", p.ID)
	}
	for range 2 {
		h := next(t, hooks)
		checkSigned(t, h)
		if !bytes.Equal(h.body, first.body) {
			t.Errorf("duplicate body %s differs from %s", h.body, first.body)
		}
	}
	srv.Close()
	none(t, hooks)
	var copies []int
	for _, dl := range srv.Deliveries() {
		copies = append(copies, dl.Copy)
	}
	if !cmp.Equal(copies, []int{1, 2, 3}) {
		t.Errorf("copies = %v", copies)
	}
}

func TestEarlyWebhook(t *testing.T) {
	recv, hooks := receiver(t, nil)
	srv := webhookServer(t, recv.URL, sharpapitest.WithEarlyWebhooks(), sharpapitest.WithJobDuration(time.Hour))
	d := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
	// The delivery completed before the dispatch answer was written, so it
	// is already here: no waiting.
	select {
	case h := <-hooks:
		if p := checkSigned(t, h); p.ID != d.JobID || p.Status != "success" {
			t.Errorf("payload = %s", h.body)
		}
	default:
		t.Fatal("the dispatch answer came before the webhook")
	}
	if st := decode[statusBody](t, get(t, d.StatusURL).body); st.Data.Attributes.Status != "success" {
		t.Errorf("an early-notified job polls as %q", st.Data.Attributes.Status)
	}
}

func TestDroppedWebhooks(t *testing.T) {
	t.Run("next N", func(t *testing.T) {
		recv, hooks := receiver(t, nil)
		srv := webhookServer(t, recv.URL, sharpapitest.WithDropNext(1))
		lost := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
		kept := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "y"})
		if p := checkSigned(t, next(t, hooks)); p.ID != kept.JobID {
			t.Errorf("delivered %q, want the second job %q", p.ID, kept.JobID)
		}
		srv.Close()
		none(t, hooks)
		dropped := 0
		for _, dl := range srv.Deliveries() {
			if dl.Dropped {
				dropped++
				if dl.JobID != lost.JobID {
					t.Errorf("dropped %q, want %q", dl.JobID, lost.JobID)
				}
			}
		}
		if dropped != 1 || srv.Faults().DropNext != 0 {
			t.Errorf("dropped %d, DropNext left %d", dropped, srv.Faults().DropNext)
		}
	})

	t.Run("rate is seeded", func(t *testing.T) {
		pattern := func() []bool {
			recv, _ := receiver(t, nil)
			srv := sharpapitest.NewServer(sharpapitest.WithWebhookURL(recv.URL), sharpapitest.WithWebhookSecret(secret),
				sharpapitest.WithDropRate(0.5), sharpapitest.WithSeed(42), sharpapitest.WithJobDuration(0))
			var ids []string
			for range 20 {
				ids = append(ids, dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"}).JobID)
			}
			srv.Close()
			droppedByID := map[string]bool{}
			for _, dl := range srv.Deliveries() {
				droppedByID[dl.JobID] = dl.Dropped
			}
			var out []bool
			for _, id := range ids {
				out = append(out, droppedByID[id])
			}
			return out
		}
		a, b := pattern(), pattern()
		if !cmp.Equal(a, b) {
			t.Errorf("same seed, different drops:\n%v\n%v", a, b)
		}
		n := 0
		for _, dropped := range a {
			if dropped {
				n++
			}
		}
		if n == 0 || n == len(a) {
			t.Errorf("%d of %d dropped at rate 0.5", n, len(a))
		}
	})
}

func TestDelayedWebhook(t *testing.T) {
	clock := sharpapitest.NewManualClock(epoch)
	recv, hooks := receiver(t, nil)
	srv := webhookServer(t, recv.URL, sharpapitest.WithClock(clock),
		sharpapitest.WithJobDuration(time.Second), sharpapitest.WithWebhookDelay(5*time.Second))
	d := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
	clock.Advance(time.Second) // the job finishes; its webhook waits
	if err := clock.BlockUntil(testContext(t), 1); err != nil {
		t.Fatal(err)
	}
	if st := decode[statusBody](t, get(t, d.StatusURL).body); st.Data.Attributes.Status != "success" {
		t.Errorf("status = %q", st.Data.Attributes.Status)
	}
	none(t, hooks)
	clock.Advance(5 * time.Second)
	if p := checkSigned(t, next(t, hooks)); p.ID != d.JobID {
		t.Errorf("webhook for %q", p.ID)
	}
}

func TestFailedJobs(t *testing.T) {
	t.Run("by type", func(t *testing.T) {
		srv := newServer(t, sharpapitest.WithJobDuration(0), sharpapitest.WithFailJobTypes("content_summarize"))
		failed := dispatch(t, srv.URL+"/content/summarize", map[string]string{"content": "x"})
		ok := dispatch(t, srv.URL+"/content/paraphrase", map[string]string{"content": "x"})
		for id, want := range map[string]string{failed.JobID: "failed", ok.JobID: "success"} {
			if ji, _ := srv.Job(id); ji.Status != want {
				t.Errorf("job %s: %q, want %q", id, ji.Status, want)
			}
		}
		if ji, _ := srv.Job(failed.JobID); ji.Result != nil {
			t.Errorf("failed job: Result %s, want none", ji.Result)
		}
		if ji, _ := srv.Job(ok.JobID); string(ji.Result) != `{"paraphrase":"[paraphrase] x"}` {
			t.Errorf("successful job: Result %s", ji.Result)
		}
	})

	t.Run("rate is seeded", func(t *testing.T) {
		fates := func() []string {
			srv := newServer(t, sharpapitest.WithJobDuration(0), sharpapitest.WithFailRate(0.5), sharpapitest.WithSeed(7))
			var out []string
			for range 20 {
				d := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "x"})
				out = append(out, decode[statusBody](t, get(t, d.StatusURL).body).Data.Attributes.Status)
			}
			return out
		}
		a := fates()
		if diff := cmp.Diff(a, fates()); diff != "" {
			t.Errorf("same seed, different fates (-first +second):\n%s", diff)
		}
		if !contains(a, "failed") || !contains(a, "success") {
			t.Errorf("fates at rate 0.5: %v", a)
		}
	})
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestResponseFaults(t *testing.T) {
	codes := func(opts ...sharpapitest.Option) []int {
		srv := newServer(t, opts...)
		var out []int
		for range 40 {
			out = append(out, get(t, srv.URL+"/ping").status)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		option sharpapitest.Option
		code   int
	}{
		{"5xx", sharpapitest.WithErrorRate(0.3), http.StatusInternalServerError},
		{"429", sharpapitest.WithRateLimitRate(0.3), http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := codes(tc.option, sharpapitest.WithSeed(3))
			if diff := cmp.Diff(a, codes(tc.option, sharpapitest.WithSeed(3))); diff != "" {
				t.Errorf("same seed, different answers:\n%s", diff)
			}
			if !contains(a, tc.code) || !contains(a, http.StatusOK) {
				t.Errorf("answers at share 0.3: %v", a)
			}
		})
	}

	t.Run("429 headers and 500 body", func(t *testing.T) {
		srv := newServer(t, sharpapitest.WithRateLimitRate(1))
		r := get(t, srv.URL+"/quota")
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" || r.header.Get("X-RateLimit-Remaining") != "0" {
			t.Errorf("%d %v", r.status, r.header)
		}
		srv.SetFaults(sharpapitest.Faults{ErrorRate: 1})
		r = get(t, srv.URL+"/quota")
		if r.status != http.StatusInternalServerError || string(r.body) != `{"message":"Server Error"}` {
			t.Errorf("%d %s", r.status, r.body)
		}
		srv.SetFaults(sharpapitest.Faults{})
		if r := get(t, srv.URL+"/quota"); r.status != http.StatusOK {
			t.Errorf("after SetFaults(Faults{}): %d", r.status)
		}
	})
}

func TestLatency(t *testing.T) {
	clock := sharpapitest.NewManualClock(epoch)
	srv := newServer(t, sharpapitest.WithClock(clock), sharpapitest.WithLatency(2*time.Second))
	answered := goGet(srv.URL + "/ping")
	if err := clock.BlockUntil(testContext(t), 1); err != nil { // the request waits on the clock
		t.Fatal(err)
	}
	select {
	case code := <-answered:
		t.Fatalf("answered before the latency elapsed: %d", code)
	default:
	}
	clock.Advance(2 * time.Second)
	if code := <-answered; code != http.StatusOK {
		t.Errorf("status %d", code)
	}
}

func TestCloseReleasesLatency(t *testing.T) {
	clock := sharpapitest.NewManualClock(epoch)
	srv := sharpapitest.NewServer(sharpapitest.WithClock(clock), sharpapitest.WithLatency(time.Hour))
	answered := goGet(srv.URL + "/ping")
	if err := clock.BlockUntil(testContext(t), 1); err != nil {
		t.Fatal(err)
	}
	srv.Close() // must not wait for the manual clock
	if code := <-answered; code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", code)
	}
}

// goGet sends an authenticated GET in the background and delivers its
// status (0 for a transport error).
func goGet(url string) <-chan int {
	answered := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	return answered
}
