package sharpapi

import (
	"context"
	"fmt"
	"time"
)

// The handler's raw await by job id is not part of the API: a Job is the one
// place to await. These methods reach it the way a Job's await does, so
// that the router's tests (in this package and in package sharpapi_test,
// which cannot be imported from here) can drive it by id.

// SubscribeForTest registers a waiter for jobID and returns a channel that
// receives its terminal event and is then closed; closed without an event
// when the event went to an earlier waiter, the id is invalid, or the
// handler closes.
func (h *WebhookHandler) SubscribeForTest(jobID string) <-chan WebhookEvent {
	ch, _ := h.subscribeForTest(jobID)
	return ch
}

func (h *WebhookHandler) subscribeForTest(jobID string) (<-chan WebhookEvent, *waiter) {
	ch := make(chan WebhookEvent, 1)
	w := &waiter{deliver: func(ev WebhookEvent, ok bool) {
		if ok {
			ch <- ev
		}
		close(ch)
	}}
	ev, reg := h.register(jobID, w)
	switch reg {
	case gotEarly:
		ch <- ev
		close(ch)
	case gone:
		close(ch)
	}
	return ch, w
}

// errGoneForTest is AwaitForTest's error when no event will come.
var errGoneForTest = fmt.Errorf("no event will come")

// AwaitForTest blocks until jobID's terminal event arrives, ctx ends (the
// waiter then leaves), or no event will come.
func (h *WebhookHandler) AwaitForTest(ctx context.Context, jobID string) (WebhookEvent, error) {
	ch, w := h.subscribeForTest(jobID)
	select {
	case ev, ok := <-ch:
		if !ok {
			return WebhookEvent{}, fmt.Errorf("awaiting job %s: %w", jobID, errGoneForTest)
		}
		return ev, nil
	case <-ctx.Done():
		h.unregister(jobID, w)
		select {
		case ev, ok := <-ch: // delivered as ctx ended
			if ok {
				return ev, nil
			}
		default:
		}
		return WebhookEvent{}, fmt.Errorf("awaiting job %s: %w", jobID, ctx.Err())
	}
}

// OnCompleteForTest calls fn with jobID's terminal event, in a goroutine of
// its own with a panic recovered and counted.
func (h *WebhookHandler) OnCompleteForTest(jobID string, fn func(WebhookEvent)) {
	w := &waiter{deliver: func(ev WebhookEvent, ok bool) {
		if ok {
			go h.call("OnComplete", fn, ev)
		}
	}}
	if ev, reg := h.register(jobID, w); reg == gotEarly {
		go h.call("OnComplete", fn, ev)
	}
}

// onEventOf is OnEvent for a hook that never fails.
func onEventOf(fn func(WebhookEvent)) WebhookOption {
	return OnEvent(func(_ context.Context, ev WebhookEvent) error {
		fn(ev)
		return nil
	})
}

// WithOnDoneTooSoonForTest sets how soon after OnDone an ending context is
// warned about (a second by default), so that a test needs no real time.
func WithOnDoneTooSoonForTest(d time.Duration) Option {
	return optionFunc(func(c *clientConfig) error {
		c.onDoneTooSoon = d
		return nil
	})
}

// LookingUpForTest reports whether a look-up of jobID in the bus's store
// is in flight (or about to start) on h.
func (h *WebhookHandler) LookingUpForTest(jobID string) bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.busState.lookups[jobID]
	return ok
}
