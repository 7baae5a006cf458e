package sharpapi

import (
	"sync"
	"time"
)

// fakeClock is the handler's clock in tests: time moves only in Advance,
// which runs the timers that fall due, synchronously, in the caller's
// goroutine. Tests thus observe expiry without sleeping.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	made   int // timers created, to prove there is only one
}

type fakeTimer struct {
	c      *fakeClock
	at     time.Time
	f      func()
	active bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) clockTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f, active: true}
	c.timers = append(c.timers, t)
	c.made++
	return t
}

func (c *fakeClock) timersMade() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.made
}

// Advance moves time forward by d and fires every timer due by then, in
// order, including timers re-armed by the ones that fire.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	for {
		var due *fakeTimer
		for _, t := range c.timers {
			if t.active && !t.at.After(c.now) && (due == nil || t.at.Before(due.at)) {
				due = t
			}
		}
		if due == nil {
			break
		}
		due.active = false
		c.mu.Unlock()
		due.f()
		c.mu.Lock()
	}
	c.mu.Unlock()
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.at, t.active = t.c.now.Add(d), true
	return was
}
