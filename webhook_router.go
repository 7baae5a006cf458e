package sharpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// ErrAlreadyDelivered is returned by Await for a job whose terminal event
// this handler already handed to another waiter (it remembers finished ids
// for the dedup age): the event will not come again, so read the result
// from the job's status URL instead.
var ErrAlreadyDelivered = errors.New("sharpapi: webhook event already delivered")

// waiter is one party awaiting a job: a channel (Subscribe, Await, Job.Wait)
// or a callback (OnComplete).
type waiter struct {
	ch chan WebhookEvent
	fn func(WebhookEvent)
}

// earlyItem is a terminal event nobody awaited yet, in a list oldest first.
// All items share one maximum age, so arrival order is expiry order.
type earlyItem struct {
	ev         WebhookEvent
	at         time.Time
	size       int64
	prev, next *earlyItem
}

// doneItem remembers a finished job id.
type doneItem struct {
	id string
	at time.Duration // since the handler's epoch
}

type routeOutcome uint8

const (
	outcomeDelivered routeOutcome = iota
	outcomeBuffered
	outcomeDuplicate
	outcomeNonTerminal
	outcomeUnmatched
	outcomeClosed
	outcomeInvalid
)

func (o routeOutcome) String() string {
	switch o {
	case outcomeDelivered:
		return "delivered"
	case outcomeBuffered:
		return "buffered"
	case outcomeDuplicate:
		return "duplicate"
	case outcomeNonTerminal:
		return "non-terminal"
	case outcomeUnmatched:
		return "unmatched"
	case outcomeClosed:
		return "closed"
	}
	return "invalid"
}

// Deliver hands a verified event to this handler's waiters, exactly as
// ServeHTTP does without an EventBus: dedup, early buffering and hooks
// apply. It is the entry point of an EventBus's subscriber on each replica.
// It does not verify ev; never feed it unauthenticated data. After Close,
// terminal events go straight to OnUnmatched.
func (h *WebhookHandler) Deliver(ev WebhookEvent) {
	if o := h.route(ev); o == outcomeInvalid && h.log != nil {
		h.log.Warn("sharpapi: webhook event without a job id dropped")
	}
}

func (h *WebhookHandler) route(ev WebhookEvent) routeOutcome {
	if ev.ID == "" {
		return outcomeInvalid
	}
	if !ev.Status.Terminal() {
		// A replayed progress event is dropped like a retried terminal
		// one; its key is the id and the status, so each state is
		// reported once.
		key := ev.ID + ":" + string(ev.Status)
		h.mu.Lock()
		now := h.cfg.clock.Now()
		h.pruneDone(now)
		if _, dup := h.done[key]; dup {
			h.stats.duplicates.Add(1)
			h.mu.Unlock()
			return outcomeDuplicate
		}
		h.markDone(key, now)
		h.stats.nonTerm.Add(1)
		h.mu.Unlock()
		h.hook("OnNonTerminal", h.cfg.onNonTerminal, ev)
		h.hook("OnEvent", h.cfg.onEvent, ev)
		return outcomeNonTerminal
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.unmatched(ev)
		return outcomeClosed
	}
	now := h.cfg.clock.Now()
	// The common case first: a job somebody awaits. Subscribe and
	// OnComplete look in done and early before they add a waiter, so an id
	// in waiting is in neither, and one lookup settles it. (markDone bounds
	// the dedup memory by count; the other paths and the timer prune it
	// by age.)
	if ws := h.waiting[ev.ID]; len(ws) > 0 {
		delete(h.waiting, ev.ID)
		h.markDone(ev.ID, now)
		// Counted before any waiter can see the event, so that Stats
		// never lags what a waiter observed.
		h.stats.delivered.Add(1)
		for _, w := range ws {
			if w.ch != nil {
				w.ch <- ev // never blocks: one buffered slot, one event
				close(w.ch)
			}
		}
		h.mu.Unlock()
		for _, w := range ws {
			if w.fn != nil {
				h.hook("OnComplete", w.fn, ev)
			}
		}
		h.hook("OnEvent", h.cfg.onEvent, ev)
		return outcomeDelivered
	}
	h.pruneDone(now)
	if _, dup := h.done[ev.ID]; dup || h.early[ev.ID] != nil {
		h.stats.duplicates.Add(1)
		h.mu.Unlock()
		return outcomeDuplicate
	}
	h.markDone(ev.ID, now)
	evicted := h.buffer(ev, now)
	kept := len(evicted) == 0 || evicted[len(evicted)-1].ID != ev.ID
	if kept {
		h.stats.bufferedEarly.Add(1)
	}
	h.stats.unmatched.Add(uint64(len(evicted)))
	h.mu.Unlock()
	for _, e := range evicted {
		h.hook("OnUnmatched", h.cfg.onUnmatched, e)
	}
	h.hook("OnEvent", h.cfg.onEvent, ev)
	if !kept {
		return outcomeUnmatched // a buffer of size 0 or an event over its byte budget
	}
	return outcomeBuffered
}

// Subscribe returns a channel that receives jobID's terminal event, then is
// closed. If the event already arrived it is in the channel now. If it was
// already handed to another waiter (see ErrAlreadyDelivered), or the
// handler is closed, the channel is closed without an event. Call
// Unsubscribe to stop waiting.
func (h *WebhookHandler) Subscribe(jobID string) <-chan WebhookEvent {
	ch, _ := h.subscribeChan(jobID)
	return ch
}

// subscribe is the seam Job.Wait awaits through. ch is Subscribe's channel;
// cancel unsubscribes (idempotent, safe after delivery) and discards an
// event the caller did not receive, since the caller then reads the job's
// status URL. delivered reports that the event was handed out earlier, so
// the caller should poll rather than wait.
func (h *WebhookHandler) subscribe(jobID string) (ch <-chan WebhookEvent, cancel func(), delivered bool) {
	c, delivered := h.subscribeChan(jobID)
	return c, func() { h.unsubscribe(jobID, c, false) }, delivered
}

func (h *WebhookHandler) subscribeChan(jobID string) (chan WebhookEvent, bool) {
	ch := make(chan WebhookEvent, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || jobID == "" {
		close(ch)
		return ch, false
	}
	if it := h.early[jobID]; it != nil {
		h.unlinkEarly(it)
		h.stats.delivered.Add(1)
		ch <- it.ev
		close(ch)
		return ch, false
	}
	h.pruneDone(h.cfg.clock.Now())
	if _, ok := h.done[jobID]; ok {
		close(ch)
		return ch, true
	}
	h.waiting[jobID] = append(h.waiting[jobID], waiter{ch: ch})
	return ch, false
}

// Unsubscribe stops a Subscribe for jobID and closes ch. An event that had
// reached ch but was not received goes back to the early buffer, so a later
// Subscribe or Await still gets it. Unsubscribing twice, or after receiving
// the event, does nothing.
func (h *WebhookHandler) Unsubscribe(jobID string, ch <-chan WebhookEvent) {
	h.unsubscribe(jobID, ch, true)
}

func (h *WebhookHandler) unsubscribe(jobID string, ch <-chan WebhookEvent, keep bool) {
	if ch == nil {
		return
	}
	h.mu.Lock()
	ws := h.waiting[jobID]
	for i, w := range ws {
		if w.ch != nil && (<-chan WebhookEvent)(w.ch) == ch {
			close(w.ch)
			if len(ws) == 1 {
				delete(h.waiting, jobID)
			} else {
				copy(ws[i:], ws[i+1:])
				ws[len(ws)-1] = waiter{}
				h.waiting[jobID] = ws[:len(ws)-1]
			}
			h.mu.Unlock()
			return
		}
	}
	// Not waiting any more: the event was delivered to ch, and perhaps not
	// received. Delivery closed ch, so this receive never blocks.
	var evicted []WebhookEvent
	select {
	case ev, ok := <-ch:
		if ok && keep && !h.closed && h.early[ev.ID] == nil {
			evicted = h.buffer(ev, h.cfg.clock.Now())
		}
	default:
	}
	h.mu.Unlock()
	for _, e := range evicted {
		h.unmatched(e)
	}
}

// OnComplete calls fn with jobID's terminal event, once, in a goroutine of
// its own with panics recovered; at once if the event already arrived.
// fn is never called if the event was already handed to another waiter or
// if the handler closes first. No goroutine waits meanwhile.
func (h *WebhookHandler) OnComplete(jobID string, fn func(WebhookEvent)) {
	if fn == nil || jobID == "" {
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	if it := h.early[jobID]; it != nil {
		h.unlinkEarly(it)
		h.mu.Unlock()
		h.stats.delivered.Add(1)
		h.hook("OnComplete", fn, it.ev)
		return
	}
	h.pruneDone(h.cfg.clock.Now())
	if _, ok := h.done[jobID]; ok {
		h.mu.Unlock()
		if h.log != nil {
			h.log.Warn("sharpapi: OnComplete for a job whose webhook was already delivered; it will not be called",
				slog.String("job_id", jobID))
		}
		return
	}
	h.waiting[jobID] = append(h.waiting[jobID], waiter{fn: fn})
	h.mu.Unlock()
}

// Await blocks until jobID's terminal event arrives (or has arrived) and
// returns it. It fails with ctx's error, with ErrAlreadyDelivered, or with
// ErrHandlerClosed, each wrapped in an error naming the job. A failed job
// is an event too: check ev.Status.
func (h *WebhookHandler) Await(ctx context.Context, jobID string) (WebhookEvent, error) {
	if err := checkJobID(jobID); err != nil {
		return WebhookEvent{}, fmt.Errorf("sharpapi: awaiting a webhook: %w", err)
	}
	ch, delivered := h.subscribeChan(jobID)
	if delivered {
		return WebhookEvent{}, fmt.Errorf("%w (job %s)", ErrAlreadyDelivered, jobID)
	}
	received := func(ev WebhookEvent, ok bool) (WebhookEvent, error) {
		if !ok {
			return WebhookEvent{}, fmt.Errorf("%w while awaiting job %s", ErrHandlerClosed, jobID)
		}
		return ev, nil
	}
	select {
	case ev, ok := <-ch:
		return received(ev, ok)
	case <-ctx.Done():
		// An event that is already here wins over the cancellation.
		select {
		case ev, ok := <-ch:
			return received(ev, ok)
		default:
		}
		h.unsubscribe(jobID, ch, true) // an event arriving meanwhile is re-buffered
		return WebhookEvent{}, fmt.Errorf("sharpapi: awaiting the webhook of job %s: %w", jobID, context.Cause(ctx))
	}
}

// Close stops the early buffer's timer and releases everything pending:
// channels of waiting jobs are closed without an event (Await returns
// ErrHandlerClosed, Job.Wait falls back to polling), OnComplete callbacks
// are dropped, and buffered events go to OnUnmatched. Deliveries after
// Close are answered 503, so SharpAPI retries them later or elsewhere.
// Close is idempotent and always returns nil.
func (h *WebhookHandler) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	if h.timer != nil {
		h.timer.Stop()
		h.timerArmed = false
	}
	for _, ws := range h.waiting {
		for _, w := range ws {
			if w.ch != nil {
				close(w.ch)
			}
		}
	}
	h.waiting = make(map[string][]waiter)
	var left []WebhookEvent
	for it := h.earlyHead; it != nil; it = it.next {
		left = append(left, it.ev)
	}
	h.early = make(map[string]*earlyItem)
	h.earlyHead, h.earlyTail, h.earlySize = nil, nil, 0
	h.mu.Unlock()
	for _, ev := range left {
		h.unmatched(ev)
	}
	return nil
}

func (h *WebhookHandler) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

func (h *WebhookHandler) isDone(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pruneDone(h.cfg.clock.Now())
	_, ok := h.done[id]
	return ok || h.early[id] != nil
}

// buffer keeps ev for a later waiter and returns the events it pushed out,
// oldest first (ev itself last, if it does not fit at all). h.mu is held.
func (h *WebhookHandler) buffer(ev WebhookEvent, now time.Time) []WebhookEvent {
	it := &earlyItem{ev: ev, at: now, size: eventSize(ev)}
	h.early[ev.ID] = it
	it.prev = h.earlyTail
	if h.earlyTail != nil {
		h.earlyTail.next = it
	} else {
		h.earlyHead = it
	}
	h.earlyTail = it
	h.earlySize += it.size
	var evicted []WebhookEvent
	for h.earlyHead != nil && (len(h.early) > h.cfg.earlyMax || h.earlySize > h.cfg.earlyBytes) {
		old := h.earlyHead
		h.unlinkEarly(old)
		evicted = append(evicted, old.ev)
	}
	h.armTimer(now)
	return evicted
}

func (h *WebhookHandler) unlinkEarly(it *earlyItem) {
	delete(h.early, it.ev.ID)
	if it.prev != nil {
		it.prev.next = it.next
	} else {
		h.earlyHead = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	} else {
		h.earlyTail = it.prev
	}
	it.prev, it.next = nil, nil
	h.earlySize -= it.size
}

// eventSize is the memory a buffered event holds: its strings and result
// (copies made by the parse, so nothing else is pinned) plus the item, its
// map entry and list links, estimated at 160 bytes.
func eventSize(ev WebhookEvent) int64 {
	return int64(len(ev.ID)+len(ev.Status)+len(ev.Type)+len(ev.Result)) + 160
}

// armTimer makes sure the one expiry timer will fire by the time the oldest
// buffered event expires. A timer set for an event that was claimed since
// fires early, finds nothing expired, and re-arms. h.mu is held.
func (h *WebhookHandler) armTimer(now time.Time) {
	if h.timerArmed || h.earlyHead == nil || h.closed {
		return
	}
	d := h.earlyHead.at.Add(h.cfg.earlyAge).Sub(now)
	if d < 0 {
		d = 0
	}
	if h.timer == nil {
		h.timer = h.cfg.clock.AfterFunc(d, h.expire)
	} else {
		h.timer.Reset(d)
	}
	h.timerArmed = true
}

// expire runs on the timer: it hands expired early events to OnUnmatched
// and forgets expired finished ids.
func (h *WebhookHandler) expire() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.timerArmed = false
	now := h.cfg.clock.Now()
	var expired []WebhookEvent
	for it := h.earlyHead; it != nil && !now.Before(it.at.Add(h.cfg.earlyAge)); it = h.earlyHead {
		h.unlinkEarly(it)
		expired = append(expired, it.ev)
	}
	h.pruneDone(now)
	h.armTimer(now)
	h.mu.Unlock()
	for _, ev := range expired {
		h.unmatched(ev)
	}
}

// markDone remembers id as finished, forgetting the oldest id if the memory
// is full. h.mu is held.
func (h *WebhookHandler) markDone(id string, now time.Time) {
	if len(h.done) >= h.cfg.dedupMax {
		h.popDone()
	}
	h.done[id] = struct{}{}
	h.doneQ = append(h.doneQ, doneItem{id: id, at: now.Sub(h.epoch)})
}

// pruneDone forgets finished ids older than the dedup age. h.mu is held.
func (h *WebhookHandler) pruneDone(now time.Time) {
	cutoff := now.Sub(h.epoch) - h.cfg.dedupAge
	for h.doneHead < len(h.doneQ) && h.doneQ[h.doneHead].at <= cutoff {
		h.popDone()
	}
}

func (h *WebhookHandler) popDone() {
	if h.doneHead >= len(h.doneQ) {
		return
	}
	delete(h.done, h.doneQ[h.doneHead].id)
	h.doneQ[h.doneHead] = doneItem{}
	h.doneHead++
	// Compact once the dead prefix dominates, so the queue's memory tracks
	// the live ids (amortised O(1) per id).
	if h.doneHead >= 1024 && h.doneHead*2 >= len(h.doneQ) {
		n := copy(h.doneQ, h.doneQ[h.doneHead:])
		clear(h.doneQ[n:])
		h.doneQ = h.doneQ[:n]
		h.doneHead = 0
	} else if h.doneHead == len(h.doneQ) {
		h.doneQ = h.doneQ[:0]
		h.doneHead = 0
	}
}

func (h *WebhookHandler) unmatched(ev WebhookEvent) {
	h.stats.unmatched.Add(1)
	h.hook("OnUnmatched", h.cfg.onUnmatched, ev)
}

// hook runs fn(ev) in a goroutine of its own, so that no user code ever
// delays a webhook's answer or holds the handler's lock.
func (h *WebhookHandler) hook(name string, fn func(WebhookEvent), ev WebhookEvent) {
	if fn != nil {
		go h.call(name, fn, ev)
	}
}

func (h *WebhookHandler) call(name string, fn func(WebhookEvent), ev WebhookEvent) {
	defer func() {
		if p := recover(); p != nil {
			h.stats.callbackPanics.Add(1)
			if h.log != nil {
				h.log.Error("sharpapi: webhook callback panicked",
					slog.String("callback", name),
					slog.String("job_id", ev.ID),
					slog.String("panic", fmt.Sprint(p)),
					slog.String("stack", string(debug.Stack())))
			}
		}
	}()
	fn(ev)
}
