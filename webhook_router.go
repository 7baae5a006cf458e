package sharpapi

import (
	"container/list"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"

	"github.com/sharpapi-go/sharpapi/observe"
)

// The router's rule: every change of the handler's state happens under h.mu,
// in one critical section that also counts it. What the change sets off
// (waiters' deliveries, hooks, log lines) is collected in effects and run
// after the lock is released: a waiter's delivery inline (it never blocks),
// each hook in a goroutine of its own.

// waiter is one await of a job ([Job.Wait], [Job.WaitAsync], [Job.OnDone]).
// deliver is called once, without h.mu held, with the job's terminal event
// (ok) or without one (ok false: the handler closed, and the job's status
// URL has the answer). It must not block: it runs on the goroutine that
// routed the event, a webhook delivery's among them.
type waiter struct {
	deliver func(ev WebhookEvent, ok bool)
	// via is how the event came, set just before deliver is called.
	via observe.JobVia
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
	calls      []hookCall
	deliveries []delivery
	warnStray  int            // the early events held, when they look like another replica's
	via        observe.JobVia // where the events come from; "" for a webhook delivered here
}

type delivery struct {
	w  *waiter
	ev WebhookEvent
	ok bool
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

// run hands events to their waiters, then starts each hook in a goroutine
// of its own, so that no user code ever delays a webhook's answer or holds
// the handler's lock.
func (h *WebhookHandler) run(e *effects) {
	for _, d := range e.deliveries {
		d.w.via = e.via
		d.w.deliver(d.ev, d.ok)
	}
	if e.warnStray > 0 && h.log != nil {
		h.log.Warn("sharpapi: webhook events keep arriving for jobs no one awaits here; if several replicas "+
			"share this webhook URL, give every replica's handler the same eventbus.Bus (WithEventBus)",
			slog.Int("unclaimed", e.warnStray), slog.Duration("oldest_over", min(strayAge, h.cfg.earlyAge)))
	}
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
		e.hook("OnEvent", h.onEvent, ev)
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
	e.hook("OnEvent", h.onEvent, ev)
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
		e.deliveries = append(e.deliveries, delivery{w, ev, true})
	}
	return true
}

// registration is what register made of a waiter.
type registration uint8

const (
	// registered: the waiter waits; its deliver will be called once.
	registered registration = iota
	// gotEarly: the job's event had arrived already; register returned it
	// and the waiter is not registered.
	gotEarly
	// gone: the event was handed to an earlier waiter (the handler
	// remembers finished ids for the dedup age), the handler is closed, or
	// the id is not one SharpAPI could have given: the job's status URL
	// has the answer.
	gone
)

// register adds w as a waiter of jobID, or settles it at once. With a bus,
// a registered waiter then looks in the store, so that an event stored
// before anyone awaited it is found.
func (h *WebhookHandler) register(jobID string, w *waiter) (WebhookEvent, registration) {
	if h == nil || h.waiting == nil {
		return WebhookEvent{}, gone
	}
	h.mu.Lock()
	switch {
	case checkJobID(jobID) != nil || h.closed:
		h.mu.Unlock()
		return WebhookEvent{}, gone
	case h.early[jobID] != nil: // buffered events are in the dedup memory too
		it := h.unlinkEarly(h.early[jobID])
		h.stats.delivered.Add(1)
		h.mu.Unlock()
		return it.ev, gotEarly
	case h.done.has(jobID, h.cfg.clock.Now()):
		h.mu.Unlock()
		return WebhookEvent{}, gone
	}
	h.abandoned.remove(jobID)
	h.waiting[jobID] = append(h.waiting[jobID], w)
	h.mu.Unlock()
	h.lookupLater(jobID)
	return WebhookEvent{}, registered
}

// unregister removes w, a waiter that gave up, from jobID's waiters; it
// does nothing if w is not waiting (its event is on its way to it, or it
// was never registered). When the last waiter of a job gives up, an event
// arriving later is counted as late.
func (h *WebhookHandler) unregister(jobID string, w *waiter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ws := h.waiting[jobID]
	i := slices.Index(ws, w)
	if i < 0 {
		return
	}
	ws = slices.Delete(ws, i, i+1)
	if len(ws) > 0 {
		h.waiting[jobID] = ws
		return
	}
	delete(h.waiting, jobID)
	if !h.closed {
		h.abandoned.add(jobID, h.cfg.clock.Now())
	}
}

// Close stops the early buffer's timer and releases everything pending:
// jobs awaiting their webhook here ([Job.Wait], [Job.WaitAsync],
// [Job.OnDone]) read their status URL instead, and buffered events go to
// [OnUnmatched]. With an [eventbus.Bus], it
// stops the ledger's sweeper if the bus keeps a [Ledger] (the jobs it held
// go to other replicas once their leases end), ends the bus's subscription
// and returns the bus's Close error. Deliveries
// after Close are answered 503, so SharpAPI retries them later or
// elsewhere. Close is idempotent.
func (h *WebhookHandler) Close() error {
	if h == nil {
		return nil
	}
	var e effects
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	if h.endLife != nil {
		h.endLife()
	}
	if h.timer != nil {
		h.timer.Stop()
		h.timerArmed = false
	}
	for _, ws := range h.waiting {
		for _, w := range ws {
			e.deliveries = append(e.deliveries, delivery{w: w})
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
	h.checkStray(e, now)
	return kept
}

// strayAge is how long an early event may wait for its job's await before
// the handler suspects that the job is awaited on another replica: a job is
// awaited within milliseconds of its dispatch.
const strayAge = time.Minute

// checkStray warns once when the oldest buffered event has waited strayAge
// with no await claiming it, while events keep arriving: the symptom of
// several replicas behind one webhook URL without an eventbus.Bus. h.mu is held.
func (h *WebhookHandler) checkStray(e *effects, now time.Time) {
	front := h.earlyList.Front()
	if h.strayWarned || front == nil || now.Sub(front.Value.(*earlyItem).at) < min(strayAge, h.cfg.earlyAge) {
		return
	}
	h.strayWarned = true
	e.warnStray = len(h.early)
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
	h.checkStray(&e, now)
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
