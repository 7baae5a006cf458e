package sharpapitest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

func TestManualClock(t *testing.T) {
	c := sharpapitest.NewManualClock(epoch)
	var fired []string
	c.AfterFunc(3*time.Second, func() { fired = append(fired, "3s") })
	stop := c.AfterFunc(2*time.Second, func() { fired = append(fired, "stopped") })
	c.AfterFunc(time.Second, func() {
		fired = append(fired, "1s")
		// Scheduled from a callback, due within the same Advance.
		c.AfterFunc(time.Second, func() { fired = append(fired, "1s+1s at "+c.Now().Sub(epoch).String()) })
	})
	if !stop() || stop() {
		t.Error("stop should report true once, then false")
	}
	if c.Pending() != 2 {
		t.Errorf("Pending() = %d, want 2", c.Pending())
	}
	c.Advance(2500 * time.Millisecond)
	if want := []string{"1s", "1s+1s at 2s"}; !cmp.Equal(want, fired) {
		t.Errorf("fired %v, want %v", fired, want)
	}
	if got := c.Now().Sub(epoch); got != 2500*time.Millisecond {
		t.Errorf("Now() is %v past the start", got)
	}
	c.Advance(time.Second)
	if len(fired) != 3 || c.Pending() != 0 {
		t.Errorf("fired %v, %d pending", fired, c.Pending())
	}
}

func TestManualClockImmediate(t *testing.T) {
	c := sharpapitest.NewManualClock(epoch)
	done := make(chan struct{})
	c.AfterFunc(0, func() { close(done) })
	<-done // runs without Advance, like time.AfterFunc(0, f)
}

func TestManualClockBlockUntil(t *testing.T) {
	c := sharpapitest.NewManualClock(epoch)
	go c.AfterFunc(time.Minute, func() {})
	if err := c.BlockUntil(testContext(t), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.BlockUntil(ctx, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("BlockUntil on a cancelled context: %v", err)
	}
}
