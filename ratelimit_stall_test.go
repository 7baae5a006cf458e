package sharpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// TestHungRequestHoldsBackNoOther: the first request of a client, which
// probes the plan's window, hangs (a server that never answers it); the
// next request is held for that answer only until stallAfter passes on the
// limiter's clock, then goes and completes while the first still hangs.
// Before, it waited for the hung request's own end: a hung status URL held
// every dispatch and poll of the client.
func TestHungRequestHoldsBackNoOther(t *testing.T) {
	release, hung := make(chan struct{}), make(chan struct{})
	clk := sharpapitest.NewManualClock(time.Now())
	emu, err := sharpapitest.NewEmulator(sharpapitest.WithClock(clk), sharpapitest.WithJobDuration(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			close(hung)
			select { // the hung request, until the test ends
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	c, err := NewClient("k", WithBaseURL(srv.URL+"/api/v1"), WithHTTPClient(&http.Client{}), WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	c.limiter.clock = manualClock{clk}
	translate := func(ctx context.Context) error {
		_, err := c.Translate(ctx, TranslateParams{Content: "hi", Language: "Italian"}, WithoutWebhook())
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go translate(ctx) // hangs
	<-hung

	done := make(chan error, 1)
	go func() {
		done <- translate(ctx)
	}()
	awaitLimiter(t, c, "the second request held", func(s LimiterStats) bool { return s.Waiting == 1 })
	select {
	case err := <-done:
		t.Fatalf("the second request went before stallAfter passed: %v", err)
	default:
	}

	clk.Advance(stallAfter)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the second request: %v", err)
		}
	case <-time.After(10 * time.Second): // a bound on a hang, not a wait for something
		t.Fatal("the second request is still held behind the hung one")
	}
	if st := c.Limiter(); st.InFlight != 1 || st.Sent != 2 {
		t.Errorf("limiter %+v; want the hung request alone in flight, 2 sent", st)
	}
}
