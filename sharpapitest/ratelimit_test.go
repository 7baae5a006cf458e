package sharpapitest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// TestRateLimitWindow: a short window renews on its own length, and its
// headers carry milliseconds, rounded up.
func TestRateLimitWindow(t *testing.T) {
	clock := sharpapitest.NewManualClock(epoch.Add(250 * time.Microsecond))
	srv := newServer(t, sharpapitest.WithClock(clock), sharpapitest.WithRateLimit(1, 1500*time.Millisecond))
	url := srv.URL + "/content/translate"
	r := postJSON(t, url, map[string]string{"content": "x"})
	// epoch + 1.50025 s, rounded up to the millisecond.
	if r.status != http.StatusAccepted || r.header.Get("X-RateLimit-Reset") != "1772366401.501" {
		t.Fatalf("first: %d, X-RateLimit-Reset %q", r.status, r.header.Get("X-RateLimit-Reset"))
	}
	clock.Advance(time.Second)
	r = postJSON(t, url, map[string]string{"content": "x"})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "0.501" {
		t.Errorf("over the limit: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	clock.Advance(500 * time.Millisecond)
	if r := postJSON(t, url, map[string]string{"content": "x"}); r.status != http.StatusAccepted {
		t.Errorf("next window: %d", r.status)
	}
}
