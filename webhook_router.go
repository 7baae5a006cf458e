package sharpapi

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"
)

// ErrAlreadyDelivered is returned by Await for a job whose terminal event
// this handler already handed to another waiter (it remembers finished ids
// for the dedup age): the event will not come again, so read the result
// from the job's status URL instead.
var ErrAlreadyDelivered = errors.New("sharpapi: webhook event already delivered")

// The router's rule: every change of the handler's state happens under h.mu,
// in one critical section that also counts it, and fills the one-slot
// channels of the waiters it completes (a send that never blocks, so that a
// waiter and Unsubscribe always agree on who holds the event). What the
// change sets off (callbacks, hooks, log lines) is collected in effects and
// run after the lock is released.

// waiter is one party awaiting a job: a channel (Subscribe, Await, [Job.Wait])
// or a callback (OnComplete).
type waiter struct {
	ch chan WebhookEvent
	fn func(WebhookEvent)
}

// earlyItem is a terminal event nobody awaited yet, an element of
// h.earlyList, oldest first. All items share one maximum age, so arrival
// order is expiry order.
type earlyItem struct {
	ev   WebhookEvent
	at   time.Time
	size int64
}

type routeOutcome uint8

const (
	outcomeDelivered routeOutcome = iota
	outcomeBuffered
	outcomeLate
	outcomeDuplicate
	outcomeNonTerminal
	outcomeUnmatched
	outcomeClosed
)

func (o routeOutcome) String() string {
	switch o {
	case outcomeDelivered:
		return "delivered"
	case outcomeBuffered:
		return "buffered early"
	case outcomeLate:
		return "late"
	case outcomeDuplicate:
		return "duplicate"
	case outcomeNonTerminal:
		return "non-terminal"
	case outcomeUnmatched:
		return "unmatched"
	}
	return "closed"
}

// effects are what a state change sets off, run once h.mu is released.
type effects struct {
	calls []hookCall
}

type hookCall struct {
	name string
	fn   func(WebhookEvent)
	ev   WebhookEvent
}

func (e *effects) hook(name string, fn func(WebhookEvent), ev WebhookEvent) {
	if fn != nil {
		e.calls = append(e.calls, hookCall{name, fn, ev})
	}
}

// unmatched counts ev as unclaimed and queues [OnUnmatched]. h.mu is held.
func (h *WebhookHandler) unmatched(e *effects, ev WebhookEvent) {
	h.stats.unmatched.Add(1)
	e.hook("OnUnmatched", h.cfg.onUnmatched, ev)
}

// run starts each callback in a goroutine of its own, so that no user code
// ever delays a webhook's answer or holds the handler's lock.
func (h *WebhookHandler) run(e *effects) {
	for _, c := range e.calls {
		go h.call(c.name, c.fn, c.ev)
	}
}

// route hands a verified event to this handler's waiters, without a bus:
// dedup, early buffering and hooks apply.
func (h *WebhookHandler) route(ev WebhookEvent) routeOutcome {
	var e effects
	o := h.routeLocked(&e, ev)
	h.run(&e)
	return o
}

func (h *WebhookHandler) routeLocked(e *effects, ev WebhookEvent) routeOutcome {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.cfg.clock.Now()
	if !ev.Status.Terminal() {
		// A replayed progress event is dropped like a retried terminal
		// one; its key is the id and the status, so each state is
		// reported once.
		if !h.done.add(progressKey(ev), now) {
			h.stats.duplicates.Add(1)
			return outcomeDuplicate
		}
		h.stats.nonTerm.Add(1)
		e.hook("OnNonTerminal", h.cfg.onNonTerminal, ev)
		e.hook("OnEvent", h.cfg.onEvent, ev)
		return outcomeNonTerminal
	}
	if h.closed {
		h.unmatched(e, ev)
		return outcomeClosed
	}
	if h.early[ev.ID] != nil || !h.done.add(ev.ID, now) {
		h.stats.duplicates.Add(1)
		return outcomeDuplicate
	}
	e.hook("OnEvent", h.cfg.onEvent, ev)
	if h.complete(e, ev) {
		return outcomeDelivered
	}
	late := h.abandoned.remove(ev.ID)
	if !h.buffer(e, ev, now) {
		return outcomeUnmatched // a buffer of size 0 or an event over its byte budget
	}
	if late {
		h.stats.late.Add(1)
		return outcomeLate
	}
	h.stats.bufferedEarly.Add(1)
	return outcomeBuffered
}

// progressKey is a non-terminal event's dedup key. Job ids have no ':'.
func progressKey(ev WebhookEvent) string { return ev.ID + ":" + string(ev.Status) }

// complete hands ev to the waiters of its job, if it has any, and reports
// whether it did. The delivery is counted before any waiter can see it, so
// that Stats never lags what a waiter observed. h.mu is held.
func (h *WebhookHandler) complete(e *effects, ev WebhookEvent) bool {
	ws := h.waiting[ev.ID]
	if len(ws) == 0 {
		return false
	}
	delete(h.waiting, ev.ID)
	h.stats.delivered.Add(1)
	for _, w := range ws {
		if w.ch != nil {
			w.ch <- ev // never blocks: one buffered slot, one event
			close(w.ch)
		} else {
			e.hook("OnComplete", w.fn, ev)
		}
	}
	return true
}

// Subscribe returns a channel that receives jobID's terminal event, then is
// closed. If the event already arrived it is in the channel now. If it was
// already handed to another waiter (see [ErrAlreadyDelivered]), the handler is
// closed, or jobID is not a valid job id, the channel is closed without an
// event. Call Unsubscribe to stop waiting.
func (h *WebhookHandler) Subscribe(jobID string) <-chan WebhookEvent {
	ch, _ := h.subscribeChan(jobID)
	return ch
}

// subscribe is the seam [Job.Wait] awaits through. ch is Subscribe's channel;
// cancel unsubscribes (idempotent, safe after delivery) and discards an
// event the caller did not receive, since the caller then reads the job's
// status URL. delivered reports that the event was handed out earlier, so
// the caller should poll rather than wait.
func (h *WebhookHandler) subscribe(jobID string) (ch <-chan WebhookEvent, cancel func(), delivered bool) {
	c, delivered := h.subscribeChan(jobID)
	return c, func() { h.unsubscribe(jobID, c, false) }, delivered
}

// subscribeChan registers a channel waiter for jobID, or settles it at once.
// With a bus, the waiter registers first and then the store is looked up,
// so an event stored before anyone awaited it is found.
func (h *WebhookHandler) subscribeChan(jobID string) (chan WebhookEvent, bool) {
	ch := make(chan WebhookEvent, 1)
	registered, delivered := h.register(jobID, waiter{ch: ch})
	if registered {
		h.lookupLater(jobID)
	}
	return ch, delivered
}

// register adds w as a waiter of jobID, or settles it at once, and reports
// which: registered when w now waits; delivered when the event was handed
// out before, so w gets nothing. Otherwise the handler is closed, jobID is
// invalid, or w got the buffered early event. A channel that does not wait
// is closed (after its event, if it got one).
func (h *WebhookHandler) register(jobID string, w waiter) (registered, delivered bool) {
	var e effects
	defer h.run(&e)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case checkJobID(jobID) != nil || h.closed:
	case h.early[jobID] != nil:
		it := h.unlinkEarly(h.early[jobID])
		h.stats.delivered.Add(1)
		if w.ch != nil {
			w.ch <- it.ev
		} else {
			e.hook("OnComplete", w.fn, it.ev)
		}
	case h.done.has(jobID, h.cfg.clock.Now()):
		delivered = true
	default:
		h.abandoned.remove(jobID)
		h.waiting[jobID] = append(h.waiting[jobID], w)
		return true, false
	}
	if w.ch != nil {
		close(w.ch)
	}
	return false, delivered
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
	var e effects
	defer h.run(&e)
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.cfg.clock.Now()
	ws := h.waiting[jobID]
	for i, w := range ws {
		if w.ch != nil && (<-chan WebhookEvent)(w.ch) == ch {
			close(w.ch)
			h.waiting[jobID] = slices.Delete(ws, i, i+1)
			if len(h.waiting[jobID]) == 0 {
				delete(h.waiting, jobID)
				// Whoever waited gave up: an event arriving now is late.
				h.abandoned.add(jobID, now)
			}
			return
		}
	}
	// Not waiting any more: the event was delivered to ch, and perhaps not
	// received. Delivery closed ch, so this receive never blocks.
	select {
	case ev, ok := <-ch:
		if ok && keep && !h.closed && h.early[ev.ID] == nil && h.cfg.bus == nil {
			h.buffer(&e, ev, now)
		}
	default:
	}
}

// OnComplete calls fn with jobID's terminal event, once, in a goroutine of
// its own with panics recovered; at once if the event already arrived.
// fn is never called if the event was already handed to another waiter, if
// jobID is not a valid job id, or if the handler closes first. No goroutine
// waits meanwhile.
func (h *WebhookHandler) OnComplete(jobID string, fn func(WebhookEvent)) {
	if fn == nil {
		return
	}
	registered, delivered := h.register(jobID, waiter{fn: fn})
	if delivered && h.log != nil {
		h.log.Warn("sharpapi: OnComplete for a job whose webhook was already delivered; it will not be called",
			slog.String("job_id", jobID))
	}
	if registered {
		h.lookupLater(jobID)
	}
}

// Await blocks until jobID's terminal event arrives (or has arrived) and
// returns it. It fails with an error wrapping ctx's error,
// [ErrAlreadyDelivered] or [ErrHandlerClosed], naming the job. A failed job is
// an event too: check ev.Status.
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
// [ErrHandlerClosed], [Job.Wait] falls back to polling), OnComplete callbacks
// are dropped, and buffered events go to [OnUnmatched]. With an [EventBus], it
// ends the bus's subscription and returns the bus's Close error. Deliveries
// after Close are answered 503, so SharpAPI retries them later or
// elsewhere. Close is idempotent.
func (h *WebhookHandler) Close() error {
	var e effects
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
	clear(h.waiting)
	for el := h.earlyList.Front(); el != nil; el = el.Next() {
		h.unmatched(&e, el.Value.(*earlyItem).ev)
	}
	clear(h.early)
	h.earlyList.Init()
	h.earlySize = 0
	h.mu.Unlock()
	h.run(&e)
	if h.cfg.bus != nil {
		return h.closeBus()
	}
	return nil
}

func (h *WebhookHandler) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// buffer keeps ev for a later waiter, pushing the oldest events out to
// [OnUnmatched] while the buffer is over its bounds, and reports whether ev
// itself was kept. h.mu is held.
func (h *WebhookHandler) buffer(e *effects, ev WebhookEvent, now time.Time) bool {
	h.early[ev.ID] = h.earlyList.PushBack(&earlyItem{ev: ev, at: now, size: eventSize(ev)})
	h.earlySize += eventSize(ev)
	kept := true
	for h.earlyList.Len() > 0 && (h.earlyList.Len() > h.cfg.earlyMax || h.earlySize > h.cfg.earlyBytes) {
		old := h.unlinkEarly(h.earlyList.Front())
		kept = kept && old.ev.ID != ev.ID
		h.unmatched(e, old.ev)
	}
	h.armTimer(now)
	return kept
}

func (h *WebhookHandler) unlinkEarly(el *list.Element) *earlyItem {
	it := h.earlyList.Remove(el).(*earlyItem)
	delete(h.early, it.ev.ID)
	h.earlySize -= it.size
	return it
}

// eventSize is the memory a buffered event holds: its strings and result
// (copies made by the parse, so nothing else is pinned) plus the item, its
// map entry and list element, estimated at 160 bytes.
func eventSize(ev WebhookEvent) int64 {
	return int64(len(ev.ID)+len(ev.Status)+len(ev.Type)+len(ev.Result)) + 160
}

// armTimer makes sure the one expiry timer will fire by the time the oldest
// buffered event expires. A timer set for an event that was claimed since
// fires early, finds nothing expired, and re-arms. h.mu is held.
func (h *WebhookHandler) armTimer(now time.Time) {
	front := h.earlyList.Front()
	if h.timerArmed || front == nil || h.closed {
		return
	}
	d := max(front.Value.(*earlyItem).at.Add(h.cfg.earlyAge).Sub(now), 0)
	if h.timer == nil {
		h.timer = h.cfg.clock.AfterFunc(d, h.expire)
	} else {
		h.timer.Reset(d)
	}
	h.timerArmed = true
}

// expire runs on the timer: it hands expired early events to [OnUnmatched]
// and forgets expired dedup keys and abandoned ids.
func (h *WebhookHandler) expire() {
	var e effects
	defer h.run(&e)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.timerArmed = false
	now := h.cfg.clock.Now()
	for el := h.earlyList.Front(); el != nil && !now.Before(el.Value.(*earlyItem).at.Add(h.cfg.earlyAge)); el = h.earlyList.Front() {
		h.unmatched(&e, h.unlinkEarly(el).ev)
	}
	h.done.prune(now)
	h.abandoned.prune(now)
	h.armTimer(now)
}

// keyMemory remembers keys for a bounded time and count, oldest first: the
// dedup memory and the recently abandoned job ids. It is not safe for
// concurrent use; the handler's lock guards it.
type keyMemory struct {
	max  int
	age  time.Duration
	keys map[string]uint64 // key → the seq of its slot in q
	q    []keySlot         // oldest first; q[head:] are live slots
	head int
	seq  uint64
}

// keySlot is a key's place in the queue. A removed key leaves its slot
// behind; seq tells it from the slot of the same key added again.
type keySlot struct {
	key string
	at  time.Time
	seq uint64
}

func newKeyMemory(n int, age time.Duration) keyMemory {
	return keyMemory{max: n, age: age, keys: make(map[string]uint64)}
}

// add remembers key and reports whether it was new; the oldest key is
// forgotten if the memory is full.
func (m *keyMemory) add(key string, now time.Time) bool {
	m.prune(now)
	if _, ok := m.keys[key]; ok {
		return false
	}
	// Bounding the slots as well as the keys keeps a key removed and
	// re-added in a loop from growing the queue.
	for (len(m.keys) >= m.max || len(m.q)-m.head >= 2*m.max) && m.head < len(m.q) {
		m.pop()
	}
	m.seq++
	m.keys[key] = m.seq
	m.q = append(m.q, keySlot{key, now, m.seq})
	return true
}

// has reports whether key is remembered.
func (m *keyMemory) has(key string, now time.Time) bool {
	m.prune(now)
	_, ok := m.keys[key]
	return ok
}

// remove forgets key and reports whether it was remembered.
func (m *keyMemory) remove(key string) bool {
	_, ok := m.keys[key]
	delete(m.keys, key)
	return ok
}

// prune forgets keys older than the age.
func (m *keyMemory) prune(now time.Time) {
	cutoff := now.Add(-m.age)
	for m.head < len(m.q) && !m.q[m.head].at.After(cutoff) {
		m.pop()
	}
}

func (m *keyMemory) pop() {
	k := m.q[m.head]
	if m.keys[k.key] == k.seq {
		delete(m.keys, k.key)
	}
	m.q[m.head] = keySlot{}
	m.head++
	// Compact once the dead prefix dominates, so the queue's memory tracks
	// the live keys (amortised O(1) per key).
	if m.head == len(m.q) {
		m.q, m.head = m.q[:0], 0
	} else if m.head >= 1024 && m.head*2 >= len(m.q) {
		n := copy(m.q, m.q[m.head:])
		clear(m.q[n:])
		m.q, m.head = m.q[:n], 0
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
