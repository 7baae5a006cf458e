package sharpapi

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/observe"
)

// DefaultPublishTimeout bounds each [eventbus.Bus] call the handler makes: the
// Store on a delivery's request path, and each Load.
const DefaultPublishTimeout = 2 * time.Second

// loadConcurrency bounds the Loads a handler has in flight: a burst of
// notifications or a resync over many awaited jobs must not queue more
// requests on the bus's connection pool than it can answer within the
// publish timeout.
const loadConcurrency = 8

// A Load that fails is tried again, as long as its job is still awaited
// here, after a delay that doubles from loadRetryMin up to loadRetryMax: a
// job's await polls only after its grace period, so a bus that is slow or
// down for a while must not hold it that long.
const (
	loadRetryMin = 50 * time.Millisecond
	loadRetryMax = 5 * time.Second
)

// WithEventBus shares events with the service's other replicas through a
// bus: redisbus.New returns one, and package eventbus says how to write
// another. [NewWebhookHandler] subscribes to it, and the handler's
// Close ends the subscription. Every replica behind one webhook URL needs
// it: a handler without a bus whose early events stay unclaimed for a
// minute while more arrive (the jobs are awaited on another replica, which
// polls after its grace period instead) logs one Warn saying so.
//
// When the bus also keeps a ledger (redisbus's does), the handler makes
// completion durable: clients built with it ([WithWebhookHandler]) record
// every job they dispatch with a webhook, the first such client starts the
// handler's sweeper, which completes overdue jobs of any replica, and
// [OnEvent] becomes a delivery guarantee (see there). The handler's Close
// stops the sweeper: a [Client] has no Close. [WithLedgerConfig] sets the
// timings.
func WithEventBus(p eventbus.Provider) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		if p == nil {
			return invalidOption("event bus is nil")
		}
		bus := p.EventBus()
		if bus == nil {
			return invalidOption("event bus provider %T gave a nil bus", p)
		}
		c.bus = bus
		return nil
	})
}

// busEvent is ev as an event bus carries it.
func busEvent(ev WebhookEvent) eventbus.Event {
	return eventbus.Event{ID: ev.ID, Status: string(ev.Status), Type: string(ev.Type), Result: ev.Result, Trace: ev.Trace}
}

// loadEvent is the bus's Load, in this package's types.
func loadEvent(ctx context.Context, bus eventbus.Bus, jobID string) (WebhookEvent, bool, error) {
	e, found, err := bus.Load(ctx, jobID)
	ev := WebhookEvent{ID: e.ID, Status: JobStatus(e.Status), Type: JobType(e.Type), Result: e.Result, Trace: e.Trace}
	return ev, found, err
}

// WithPublishTimeout bounds each call to the [eventbus.Bus] (default 2 s): a Store
// that takes longer is answered 503, so SharpAPI retries the delivery
// rather than waiting on a slow bus; a Load that takes longer is logged and
// tried again with a backoff while its job is still awaited.
func WithPublishTimeout(d time.Duration) WebhookOption {
	return webhookOptionFunc(func(c *webhookConfig) error {
		if d <= 0 {
			return invalidOption("publish timeout %v is not positive", d)
		}
		c.publishTimeout = d
		return nil
	})
}

// busState is the handler's side of its bus: in-flight loads, ended by
// Close, and the bus's ledger if it has one.
type busState struct {
	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	loading sync.WaitGroup // Add under h.mu while open
	slots   chan struct{}  // one per Load in flight, loadConcurrency in all
	// lookups holds the job ids with a look-up goroutine, under h.mu: true
	// when another look-up was asked for while it ran. A burst of
	// notifications of one id costs one goroutine and at most two Loads.
	lookups map[string]bool
	ledger  *ledgerState // nil unless the bus implements Ledger
	// storing holds, under h.mu, the job ids whose terminal event this
	// replica is storing (see holdNotifications).
	storing map[string]*storeInFlight
	// loadFailing makes one Warn per outage of Loads, however many jobs
	// are awaited and however often each is retried.
	loadFailing atomic.Bool
}

// busFailed logs, at Warn, the first failure of an outage that failing
// tracks (what says what fails, err the first error); the others of the
// outage are only counted, by the caller.
func (h *WebhookHandler) busFailed(failing *atomic.Bool, what, jobID string, err error) {
	if failing.Swap(true) || h.log == nil {
		return
	}
	h.log.Warn("sharpapi: "+what+"; said once until it works again",
		slog.String("job_id", jobID), slog.String("error", truncate(err.Error(), maxLoggedError)))
}

// busWorks ends the outage that failing tracks, with one Info.
func (h *WebhookHandler) busWorks(failing *atomic.Bool, what string) {
	if failing.Load() && failing.Swap(false) && h.log != nil {
		h.log.Info("sharpapi: " + what)
	}
}

// startBus subscribes h to its bus. It runs in [NewWebhookHandler].
func (h *WebhookHandler) startBus() error {
	h.busState.ctx, h.busState.cancel = context.WithCancel(context.Background())
	h.busState.slots = make(chan struct{}, loadConcurrency)
	h.busState.lookups = make(map[string]bool)
	h.busState.storing = make(map[string]*storeInFlight)
	h.busState.ledger = newLedgerState(h.cfg.bus, h.cfg.ledger)
	if err := h.cfg.bus.Subscribe(h.notify, h.resync); err != nil {
		h.busState.cancel()
		return err
	}
	return nil
}

// closeBus ends the loads in flight and the bus's subscription. h is
// closed already, so no new load starts.
func (h *WebhookHandler) closeBus() error {
	h.stopSweeper()
	h.busState.cancel()
	h.busState.loading.Wait()
	return h.cfg.bus.Close()
}

// storeInFlight counts the Stores of one job's terminal event in flight on
// this replica.
type storeInFlight struct {
	n        int
	notified bool // the bus notified the job id meanwhile
	handed   bool // one of them stored the event and handed it to the waiters here
}

// holdNotifications holds back the bus's notifications of jobID while
// this replica stores its terminal event, until release. The notification
// of a job whose event this replica stores is most often the echo of this
// very Store, overtaking its reply; the Store's own hand-off (release's
// handed: it stored the event, and deliverAwaited has run) reaches every
// waiter registered here before it, and a waiter registered after it
// looks in the store itself, so the echo would only cost a Load. A
// notification held back is passed on at release unless a Store here
// handed the event over.
func (h *WebhookHandler) holdNotifications(jobID string) (release func(handed bool)) {
	h.mu.Lock()
	st := h.busState.storing[jobID]
	if st == nil {
		st = &storeInFlight{}
		h.busState.storing[jobID] = st
	}
	st.n++
	h.mu.Unlock()
	return func(handed bool) {
		h.mu.Lock()
		st.n--
		st.handed = st.handed || handed
		pass := false
		if st.n == 0 {
			delete(h.busState.storing, jobID)
			pass = st.notified && !st.handed
		}
		h.mu.Unlock()
		if pass {
			h.notify(jobID)
		}
	}
}

// serveWithBus finishes a verified delivery on a replica with a bus: store
// it cluster-wide, then answer.
func (h *WebhookHandler) serveWithBus(w http.ResponseWriter, r *http.Request, ev WebhookEvent) {
	handed := false
	if ev.Status.Terminal() {
		release := h.holdNotifications(ev.ID)
		defer func() { release(handed) }()
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.publishTimeout)
	stored, lease, err := h.storeEvent(ctx, ev)
	cancel()
	if o := h.cfg.observe.bus; o != nil {
		o.BusCalled(r.Context(), observe.BusCall{Op: observe.BusStore, JobID: ev.ID, Stored: stored, Err: err})
	}
	if err != nil {
		h.stats.publishErrors.Add(1)
		h.answer(w, r, http.StatusServiceUnavailable, "rejected: store failed", &ev, err)
		return
	}
	if !stored {
		h.stats.duplicates.Add(1)
		h.answer(w, r, http.StatusOK, outcomeDuplicate.String(), &ev, nil)
		return
	}
	var e effects
	outcome := "stored"
	if !ev.Status.Terminal() {
		h.stats.nonTerm.Add(1)
		e.hook("OnNonTerminal", h.cfg.onNonTerminal, ev)
		outcome = outcomeNonTerminal.String()
	} else {
		h.stats.stored.Add(1)
		// The bus's notification of the id is held back meanwhile
		// (holdNotifications): handing the event to the waiters here
		// saves them a Load.
		handed = true
		switch h.deliverAwaited(&e, ev) {
		case outcomeDelivered:
			outcome = "stored, delivered"
		case outcomeLate:
			outcome = "stored, late"
		}
	}
	ls := h.ledger()
	if ls == nil || !ev.Status.Terminal() {
		e.hook("OnEvent", h.onEvent, ev)
	}
	h.run(&e)
	if ls != nil && ev.Status.Terminal() {
		h.settleStored(context.Background(), ls, ev, lease) // OnEvent under the ledger's lease, then the ack
	}
	// The lease StoreBegin took read the job's token from its ledger
	// entry: the delivery's observation links to the job, wherever it was
	// dispatched.
	h.answerJob(w, r, http.StatusOK, outcome, &ev, lease.Trace, nil)
}

// deliverAwaited hands a terminal event from the store to its waiters on
// this replica. An event nobody here awaits is dropped (the store keeps
// it), and counted as late if a waiter here gave up on it recently.
func (h *WebhookHandler) deliverAwaited(e *effects, ev WebhookEvent) routeOutcome {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return outcomeClosed
	}
	now := h.cfg.clock.Now()
	if h.complete(e, ev) {
		h.done.add(ev.ID, now)
		return outcomeDelivered
	}
	if h.abandoned.remove(ev.ID) {
		h.stats.late.Add(1)
		return outcomeLate
	}
	return outcomeUnmatched
}

// notify is the bus's callback for a terminal event stored anywhere in the
// cluster: load it if this replica awaits the job, count it if a waiter
// here gave up on it, ignore it otherwise.
func (h *WebhookHandler) notify(jobID string) {
	if checkJobID(jobID) != nil {
		return
	}
	h.mu.Lock()
	if st := h.busState.storing[jobID]; st != nil {
		st.notified = true // passed on when the Store ends, if need be
		h.mu.Unlock()
		return
	}
	awaited := len(h.waiting[jobID]) > 0
	late := !awaited && !h.closed && h.abandoned.remove(jobID)
	if late {
		h.stats.late.Add(1)
	}
	h.mu.Unlock()
	if late {
		h.logLate(jobID, "notified")
	}
	if awaited {
		h.lookupLater(jobID)
	}
}

// resync is the bus's callback after each (re)subscription: look up every
// job this replica awaits, since a notification may have been missed.
func (h *WebhookHandler) resync() {
	h.mu.Lock()
	ids := slices.Collect(maps.Keys(h.waiting))
	h.mu.Unlock()
	for _, id := range ids {
		h.lookupLater(id)
	}
}

// lookupLater loads jobID's event from the bus's store in a goroutine of its
// own and hands it to the job's waiters, trying again after a failed Load
// while the job is still awaited here. At most one look-up per job id runs
// at a time: asked again while one runs, it runs once more when that one
// ends (the event may have been stored meanwhile). At most loadConcurrency
// Loads run at once. Without a bus it does nothing.
func (h *WebhookHandler) lookupLater(jobID string) {
	if h.cfg.bus == nil {
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	if _, running := h.busState.lookups[jobID]; running {
		h.busState.lookups[jobID] = true
		h.mu.Unlock()
		return
	}
	h.busState.lookups[jobID] = false
	h.busState.loading.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.busState.loading.Done()
		for h.lookupUntilDone(jobID) {
		}
	}()
}

// lookupUntilDone is one look-up of lookupLater, retried while it fails and
// the job is awaited here. It reports whether another look-up was asked for
// meanwhile; if not, the job id leaves h.busState.lookups.
func (h *WebhookHandler) lookupUntilDone(jobID string) (again bool) {
	ctx := h.busState.ctx
	defer func() {
		h.mu.Lock()
		again = h.busState.lookups[jobID] && ctx.Err() == nil && len(h.waiting[jobID]) > 0
		if again {
			h.busState.lookups[jobID] = false
		} else {
			delete(h.busState.lookups, jobID)
		}
		h.mu.Unlock()
	}()
	for delay := loadRetryMin; ; delay = min(2*delay, loadRetryMax) {
		select {
		case h.busState.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		_, err := h.lookup(ctx, jobID)
		<-h.busState.slots
		if err == nil || !h.awaits(jobID) {
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// awaits reports whether a waiter here awaits jobID.
func (h *WebhookHandler) awaits(jobID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.closed && len(h.waiting[jobID]) > 0
}

// lookupNow is lookupLater in the caller's goroutine, bounded by ctx too:
// a resumed job's await's seam, which polls at once unless the store
// has its event. found reports that the event was handed to the job's
// waiters.
func (h *WebhookHandler) lookupNow(ctx context.Context, jobID string) (found bool) {
	if h.cfg.bus == nil {
		return false
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	unlink := context.AfterFunc(h.busState.ctx, stop)
	defer unlink()
	found, _ = h.lookup(ctx, jobID)
	return found
}

// lookup loads jobID's event and hands it to the job's waiters; it reports
// whether the store had it, or the Load's error, which is also logged and
// counted (the waiter stays registered; the caller decides on a retry).
func (h *WebhookHandler) lookup(ctx context.Context, jobID string) (found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.publishTimeout)
	defer cancel()
	ev, found, err := loadEvent(ctx, h.cfg.bus, jobID)
	if o := h.cfg.observe.bus; o != nil {
		o.BusCalled(ctx, observe.BusCall{Op: observe.BusLoad, JobID: jobID, Found: found, Err: err})
	}
	if err != nil {
		h.stats.loadErrors.Add(1)
		if h.busState.ctx.Err() == nil {
			h.busFailed(&h.busState.loadFailing, "loading webhook events from the event bus fails; retrying while their jobs are awaited", jobID, err)
		}
		return false, err
	}
	h.busWorks(&h.busState.loadFailing, "loading webhook events from the event bus works again")
	if !found {
		return false, nil
	}
	if ev.ID != jobID || !ev.Status.Terminal() || len(ev.Status) > maxStatusLen {
		if h.log != nil {
			h.log.Warn("sharpapi: the event bus returned an event that does not complete the job; dropped",
				slog.String("job_id", jobID), slog.String("job_status", truncate(string(ev.Status), maxStatusLen)))
		}
		return false, nil
	}
	e := effects{via: observe.JobViaStore}
	defer h.run(&e)
	if h.deliverAwaited(&e, ev) == outcomeLate {
		h.logLate(jobID, "loaded")
	}
	return true, nil
}

// logLate says that a job's terminal event came after its waiters here gave
// up: the job was probably read from its status URL meanwhile.
func (h *WebhookHandler) logLate(jobID, how string) {
	if h.log != nil {
		h.log.Debug("sharpapi: late webhook: its job is no longer awaited here",
			slog.String("job_id", jobID), slog.String("via", how))
	}
}
