package sharpapi

import (
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/sharpapi-go/sharpapi/observe"
)

// errHandlerClosed is why a delivery after Close is answered 503.
var errHandlerClosed = errors.New("sharpapi: webhook handler closed")

// WebhookHandler is the http.Handler for SharpAPI's webhooks: mount it at
// the URL given to SharpAPI (the dashboard's or a Job-Webhook header's),
// and give it to the [Client] with [WithWebhookHandler]. It verifies each
// delivery against the secret, answers at once, and routes the job's
// terminal event to whatever awaits that job: [Job.Wait], [Job.WaitAsync]
// or [Job.OnDone]. [OnEvent] sees every distinct event, awaited or not.
//
// SharpAPI delivers at least once (it retries up to three times); waiters
// see each job's terminal event exactly once. A bounded memory of finished
// ids drops the retries ([WithDedup]), and a bounded buffer keeps events that
// arrive before their job is awaited ([WithEarlyBuffer]), so a webhook racing
// the dispatch's response is not lost.
//
// Answers: 405 for a method other than POST, 401 for a missing or malformed
// signature (before the body is read), 413 for a body over the limit, 401
// for a wrong signature, 400 for a signed body that is not a webhook
// payload, 503 after Close or when the [eventbus.Bus] cannot store the event, and
// 200 otherwise, duplicates included. No callback or hook runs on the
// request's goroutine: each runs in a goroutine of its own, and a panic in
// one is recovered, logged and counted.
//
// With several replicas of a service, the webhook may reach replica B while
// replica A awaits the job: [WithEventBus] shares events through a store all
// replicas see (see [eventbus.Bus]). A replica with a bus keeps no early buffer
// of its own; the rest is unchanged.
//
// A pending job costs a map entry; the handler runs no goroutine per job,
// and one timer serves the whole early buffer.
//
// Because SharpAPI signs no timestamp, a captured delivery can be replayed;
// the dedup memory absorbs replays within its age, and HTTPS keeps
// deliveries from being captured at all.
type WebhookHandler struct {
	macs     []*sync.Pool // one pool of keyed HMACs per secret
	cfg      webhookConfig
	log      *slog.Logger // nil: silent
	stats    webhookCounters
	busState busState
	// life ends when the handler closes: the context of OnEvent's calls.
	life    context.Context
	endLife context.CancelFunc
	onEvent func(WebhookEvent) // OnEvent's fn, its error logged and counted
	// unverified counts the bytes of buffer held by requests whose
	// signature is not verified yet (readBody).
	unverified atomic.Int64

	mu         sync.Mutex
	closed     bool
	waiting    map[string][]*waiter     // job id → its waiters
	early      map[string]*list.Element // job id → its element of earlyList
	earlyList  list.List                // *earlyItem, oldest first
	earlySize  int64                    // bytes held by the early buffer
	timer      clockTimer               // the early buffer's one expiry timer
	timerArmed bool
	done       keyMemory // finished job ids, and id:status of progress events
	abandoned  keyMemory // job ids whose last waiter gave up
	// strayWarned says the handler warned once that events wait for awaits
	// that never come here (checkStray).
	strayWarned bool
}

// NewWebhookHandler returns a handler that accepts deliveries signed with
// secret (the dashboard's "Secret for Signature"). An empty secret is an
// error wrapping [ErrNoSecret]: an unauthenticated endpoint would route
// anyone's forged results to waiting jobs.
func NewWebhookHandler(secret string, opts ...WebhookOption) (*WebhookHandler, error) {
	if secret == "" {
		return nil, fmt.Errorf("%w: NewWebhookHandler needs the account's webhook secret", ErrNoSecret)
	}
	cfg := defaultWebhookConfig(secret)
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.applyWebhook(&cfg); err != nil {
			return nil, err
		}
	}
	if err := checkLedgerOption(&cfg); err != nil {
		return nil, err
	}
	if cfg.unverifiedBudget == 0 { // the default, for two bodies at the cap at least
		cfg.unverifiedBudget = max(DefaultUnverifiedBudget, 2*(cfg.maxBody+1))
	}
	if cfg.unverifiedBudget <= cfg.maxBody {
		return nil, invalidOption("unverified budget of %d bytes holds no body at the cap of %d", cfg.unverifiedBudget, cfg.maxBody)
	}
	h := &WebhookHandler{
		cfg:       cfg,
		log:       cfg.logger,
		waiting:   make(map[string][]*waiter),
		early:     make(map[string]*list.Element),
		done:      newKeyMemory(cfg.dedupMax, cfg.dedupAge),
		abandoned: newKeyMemory(abandonedMax, cfg.dedupAge),
	}
	h.life, h.endLife = context.WithCancel(context.Background())
	if fn := cfg.onEvent; fn != nil {
		h.onEvent = func(ev WebhookEvent) { h.runHook(fn, ev) }
	}
	for _, s := range cfg.secrets {
		key := []byte(s)
		h.macs = append(h.macs, &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }})
	}
	// Only the pools keep the secrets from here on, inside closures: a
	// WebhookHandler printed field by field, even as a value, shows none.
	h.cfg.secrets = nil
	if cfg.bus != nil {
		if err := h.startBus(); err != nil {
			return nil, fmt.Errorf("sharpapi: subscribing to the event bus: %w", err)
		}
	}
	return h, nil
}

// abandonedMax bounds the memory of job ids whose waiters gave up, kept to
// tell a late webhook from an early one (for the dedup age).
const abandonedMax = 10000

// verify is [VerifySignature] with the handler's secrets and pooled HMACs,
// for a signature already decoded.
func (h *WebhookHandler) verify(body []byte, want *[sha256.Size]byte) error {
	for _, p := range h.macs {
		mac := p.Get().(hash.Hash)
		mac.Reset()
		ok := macEqual(mac, body, want)
		p.Put(mac)
		if ok {
			return nil
		}
	}
	return mismatch(len(h.macs))
}

// ServeHTTP answers one delivery; see [WebhookHandler] for the status codes.
// A handler not built by [NewWebhookHandler] has no secret to verify with
// and answers 503.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h == nil || h.macs == nil {
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	h.stats.received.Add(1)
	if h.cfg.observe.delivery != nil {
		r = h.startDelivery(r) // answer ends it
	}
	if r.Method != http.MethodPost {
		h.stats.rejectedMethod.Add(1)
		w.Header().Set("Allow", http.MethodPost)
		h.answer(w, r, http.StatusMethodNotAllowed, "rejected: method", nil, nil)
		return
	}
	if h.isClosed() {
		h.stats.rejectedClosed.Add(1)
		h.answer(w, r, http.StatusServiceUnavailable, "rejected: closed", nil, errHandlerClosed)
		return
	}
	// The signature's shape is checked before a byte of the body is read:
	// a request without one costs no more than its headers.
	var want [sha256.Size]byte
	if err := decodeSignature(&want, r.Header.Get(WebhookSignatureHeader)); err != nil {
		h.stats.rejectedSignature.Add(1)
		h.answer(w, r, http.StatusUnauthorized, "rejected: signature", nil, err)
		return
	}
	body, held, err := h.readBody(w, r)
	if err != nil {
		h.unverified.Add(-held)
		var tooLarge *http.MaxBytesError
		if errors.Is(err, errOverBudget) {
			h.stats.rejectedBusy.Add(1)
			// SharpAPI retries a delivery it could not make; so does
			// any sender that reads Retry-After.
			w.Header().Set("Retry-After", "1")
			h.answer(w, r, http.StatusServiceUnavailable, "rejected: busy", nil, err)
			return
		}
		if errors.As(err, &tooLarge) {
			h.stats.rejectedTooLarge.Add(1)
			h.answer(w, r, http.StatusRequestEntityTooLarge, "rejected: too large", nil, err)
			return
		}
		h.stats.rejectedMalformed.Add(1)
		h.answer(w, r, http.StatusBadRequest, "rejected: unreadable body", nil, err)
		return
	}
	err = h.verify(body, &want)
	h.unverified.Add(-held) // verified or not, the body no longer counts
	if err != nil {
		h.stats.rejectedSignature.Add(1)
		h.answer(w, r, http.StatusUnauthorized, "rejected: signature", nil, err)
		return
	}
	h.stats.verified.Add(1)
	ev, err := parseWebhookBody(body)
	if err != nil {
		h.stats.rejectedMalformed.Add(1)
		h.answer(w, r, http.StatusBadRequest, "rejected: malformed", nil, err)
		return
	}
	if h.cfg.observe.delivery != nil {
		ev.Trace = deliveryToken(r)
	}
	if h.cfg.bus != nil {
		h.serveWithBus(w, r, ev)
		return
	}
	h.answer(w, r, http.StatusOK, h.route(ev).String(), &ev, nil)
}

// errOverBudget is readBody's error when the bytes of unverified bodies
// would pass the handler's budget (WithUnverifiedBudget).
var errOverBudget = errors.New("sharpapi: the budget of unverified webhook bytes is used up; try again")

// firstRead is the buffer a body is first read into: a SharpAPI delivery
// without its result fits.
const firstRead = 512

// readBody reads at most cfg.maxBody bytes. The buffer starts small and
// grows as bytes arrive, never on the word of an unverified
// Content-Length: a client announcing a large body and sending it slowly
// holds only what it has sent. Every byte of buffer is first taken from
// the handler's budget of unverified bytes (h.unverified), so that what
// all requests not verified yet hold together stays within it; held is
// what the caller gives back once the body is verified or dropped.
func (h *WebhookHandler) readBody(w http.ResponseWriter, r *http.Request) (body []byte, held int64, err error) {
	if r.Body == nil {
		return nil, 0, nil
	}
	if r.ContentLength > h.cfg.maxBody {
		return nil, 0, &http.MaxBytesError{Limit: h.cfg.maxBody}
	}
	src := http.MaxBytesReader(w, r.Body, h.cfg.maxBody)
	for {
		if len(body) == cap(body) {
			// Double, from a small first buffer up to one byte past the
			// cap (where MaxBytesReader errs).
			grow := int64(max(cap(body), firstRead))
			grow = min(grow, h.cfg.maxBody+1-int64(cap(body)))
			if !h.takeUnverified(grow) {
				return nil, held, errOverBudget
			}
			held += grow
			body = append(make([]byte, 0, int64(cap(body))+grow), body...)
		}
		n, rerr := src.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, held, rerr
		}
	}
	if r.ContentLength > 0 && int64(len(body)) != r.ContentLength {
		// net/http's server enforces the length itself; a body from
		// elsewhere (a test, a proxy handing requests over) may not.
		return nil, held, fmt.Errorf("body of %d bytes, %d announced: %w", len(body), r.ContentLength, io.ErrUnexpectedEOF)
	}
	return body, held, nil
}

// takeUnverified takes n bytes from the budget of unverified bytes, if
// they are left.
func (h *WebhookHandler) takeUnverified(n int64) bool {
	for {
		cur := h.unverified.Load()
		if cur+n > h.cfg.unverifiedBudget {
			return false
		}
		if h.unverified.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// answer writes a tiny response and logs the delivery. Error responses name
// the kind of failure only; nothing that came in is echoed back.
func (h *WebhookHandler) answer(w http.ResponseWriter, r *http.Request, code int, outcome string, ev *WebhookEvent, err error) {
	h.answerJob(w, r, code, outcome, ev, "", err)
}

// answerJob is answer for a delivery whose job's token the ledger gave
// (jobTrace: eventbus.HookLease.Trace), which its observation is told.
func (h *WebhookHandler) answerJob(w http.ResponseWriter, r *http.Request, code int, outcome string, ev *WebhookEvent, jobTrace string, err error) {
	if code == http.StatusOK {
		w.WriteHeader(code)
	} else {
		http.Error(w, http.StatusText(code), code)
	}
	if h.cfg.observe.delivery != nil {
		endDelivery(r, code, outcome, ev, jobTrace, err)
	}
	if h.log == nil {
		return
	}
	// A delivery is per-job traffic; a rejected one is something to act on.
	level := slog.LevelDebug
	if code >= 400 {
		level = slog.LevelWarn
	}
	ctx := r.Context()
	if !h.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 11)
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("remote_addr", r.RemoteAddr),
		slog.Int64("content_length", r.ContentLength),
		slog.String("user_agent", r.UserAgent()),
		slog.Int("http_status", code),
		slog.String("outcome", outcome),
	)
	if ev != nil {
		attrs = append(attrs,
			slog.String("job_id", ev.ID),
			slog.String("job_status", string(ev.Status)),
			slog.String("job_type", string(ev.Type)))
	}
	if err != nil {
		// Verification errors describe the signature's shape, never its value.
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	h.log.LogAttrs(ctx, level, "sharpapi: webhook delivery", attrs...)
}

// WebhookStats counts what a [WebhookHandler] has done since it was created.
// Each field is read atomically, but the set is not one snapshot. A counter
// that describes an event is updated before any waiter can see the event.
type WebhookStats struct {
	// Received counts requests of any kind.
	Received uint64
	// Verified counts deliveries whose signature matched.
	Verified uint64
	// Rejections, by reason: a method other than POST (405), a body over
	// the limit (413), a missing, malformed or wrong signature (401), a
	// body unreadable or not a webhook payload (400), a handler already
	// closed (503), an [eventbus.Bus] whose Store failed or timed out (503).
	RejectedMethod    uint64
	RejectedTooLarge  uint64
	RejectedSignature uint64
	RejectedMalformed uint64
	RejectedClosed    uint64
	PublishErrors     uint64
	// RejectedBusy counts deliveries answered 503 with Retry-After because
	// reading their body would have passed the budget of unverified bytes
	// ([WithUnverifiedBudget]): a flood of unsigned bodies, or a budget
	// too small for the traffic.
	RejectedBusy uint64
	// UnverifiedBytes is the buffer held now by requests whose signature
	// is not verified yet: at most the budget.
	UnverifiedBytes int64
	// Duplicates counts events dropped as already seen: SharpAPI's
	// retries and replays (with an [eventbus.Bus], those its Store reported).
	Duplicates uint64
	// Stored counts terminal events this replica stored in its [eventbus.Bus].
	Stored uint64
	// LoadErrors counts failed [eventbus.Bus] Loads.
	LoadErrors uint64
	// Delivered counts terminal events handed to their job's waiters
	// (once per job, however many waiters it had).
	Delivered uint64
	// BufferedEarly counts terminal events kept because no one awaited
	// their job yet (without an [eventbus.Bus]).
	BufferedEarly uint64
	// Late counts terminal events that came after every waiter of their
	// job on this handler had given up (their contexts ended). Without a
	// bus they are kept like early ones, so a later await still gets them.
	Late uint64
	// Unmatched counts terminal events no waiter claimed (see [OnUnmatched]).
	Unmatched uint64
	// NonTerminal counts distinct events with a non-terminal status.
	NonTerminal uint64
	// GraceExpired counts awaits ([Job.Wait], [Job.WaitAsync], [Job.OnDone])
	// whose webhook did not come within the client's grace period, so that
	// they fell back to polling.
	GraceExpired uint64
	// CallbackPanics counts recovered panics of callbacks and hooks
	// ([Job.OnDone]'s among them).
	CallbackPanics uint64
	// HookErrors counts the errors [OnEvent]'s function returned.
	HookErrors uint64
	// Waiting is the number of job ids awaited now; Buffered the number of
	// early events held now.
	Waiting  int
	Buffered int
	// Ledger counts this replica's work with its bus's [Ledger].
	Ledger observe.LedgerCounts
}

type webhookCounters struct {
	received, verified                                  atomic.Uint64
	rejectedMethod, rejectedTooLarge, rejectedSignature atomic.Uint64
	rejectedMalformed, rejectedClosed, publishErrors    atomic.Uint64
	duplicates, stored, loadErrors, delivered           atomic.Uint64
	bufferedEarly, late, unmatched, nonTerm             atomic.Uint64
	graceExpired, callbackPanics, hookErrors            atomic.Uint64
	rejectedBusy                                        atomic.Uint64
}

// Stats returns the handler's counters, for metrics and tests.
func (h *WebhookHandler) Stats() WebhookStats {
	if h == nil {
		return WebhookStats{}
	}
	c := &h.stats
	s := WebhookStats{
		Received:          c.received.Load(),
		Verified:          c.verified.Load(),
		RejectedMethod:    c.rejectedMethod.Load(),
		RejectedTooLarge:  c.rejectedTooLarge.Load(),
		RejectedSignature: c.rejectedSignature.Load(),
		RejectedMalformed: c.rejectedMalformed.Load(),
		RejectedClosed:    c.rejectedClosed.Load(),
		PublishErrors:     c.publishErrors.Load(),
		RejectedBusy:      c.rejectedBusy.Load(),
		UnverifiedBytes:   h.unverified.Load(),
		Duplicates:        c.duplicates.Load(),
		Stored:            c.stored.Load(),
		LoadErrors:        c.loadErrors.Load(),
		Delivered:         c.delivered.Load(),
		BufferedEarly:     c.bufferedEarly.Load(),
		Late:              c.late.Load(),
		Unmatched:         c.unmatched.Load(),
		NonTerminal:       c.nonTerm.Load(),
		GraceExpired:      c.graceExpired.Load(),
		CallbackPanics:    c.callbackPanics.Load(),
		HookErrors:        c.hookErrors.Load(),
		Ledger:            h.ledgerCounts(),
	}
	h.mu.Lock()
	s.Waiting, s.Buffered = len(h.waiting), len(h.early)
	h.mu.Unlock()
	return s
}

// graceExpired counts an await that gave up on its webhook and polls.
func (h *WebhookHandler) graceExpired() { h.stats.graceExpired.Add(1) }
