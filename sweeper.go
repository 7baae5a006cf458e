package sharpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/observe"
)

// sweeper completes the ledger's overdue jobs on one replica: every
// SweepInterval (jittered) it claims the entries that are due, and for each
// either offers its stored event to OnEvent again (the replica that stored
// it died or stalled in OnEvent) or polls the job's status URL through the
// client (its rate limiter included) and stores the outcome as a webhook
// would, so that OnEvent runs and any replica awaiting the job is
// notified. A job still running is released to be claimed again after a
// backoff. Each entry is handled in a goroutine of its own that holds one
// of SweepBatch slots, and each poll is bounded by PollTimeout: a slow or
// hung job holds its slot for that long, never the sweep or another job.
// Between sweeps the sweeper runs one timer and the entries still in hand.
type sweeper struct {
	h   *WebhookHandler
	ls  *ledgerState
	c   *Client
	ctx context.Context // ends when the handler closes
	end context.CancelFunc

	// slots holds a token per entry in hand: SweepBatch in all, so that a
	// replica polls that many jobs at once at most, whatever its sweeps.
	slots chan struct{}
	// inHand counts the goroutines handling a claimed entry; Add while
	// holding a slot inside a sweep (so under running).
	inHand sync.WaitGroup

	mu      sync.Mutex
	stopped bool
	timer   clockTimer
	running sync.WaitGroup // the sweep in progress; Add under mu while not stopped
}

// tooLargeTries is the polls of a job whose status answers exceed the
// webhook body cap before the sweeper gives it up.
const tooLargeTries = 3

// maxLoggedError bounds an error logged by the sweeper: a bus's error may
// quote what it read.
const maxLoggedError = 512

// sweepBatches bounds a sweep: it claims at most this many batches, so
// that a replica facing a large backlog still ends its sweeps (and each
// sweep's note) and other replicas share the work.
const sweepBatches = 10

// adoptClient gives h's sweeper a client to poll with: the first client
// built with h ([WithWebhookHandler]) starts it, when h's bus has a
// ledger, and each client with an API key not seen before is kept for
// the jobs that key dispatched (an entry records its key's fingerprint:
// a job polled with another account's key is unknown there). The
// sweeper lives until h closes.
func (h *WebhookHandler) adoptClient(c *Client) {
	ls := h.ledger()
	if ls == nil {
		return
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.clients == nil {
		ls.clients = make(map[string]*Client)
	}
	if ls.clients[c.keyID] == nil {
		ls.clients[c.keyID] = c
	}
	if ls.closed || ls.sweeper != nil || ls.cfg.NoSweeper {
		return
	}
	s := &sweeper{h: h, ls: ls, c: c, slots: make(chan struct{}, ls.cfg.SweepBatch)}
	s.ctx, s.end = context.WithCancel(context.Background())
	ls.sweeper = s
	s.mu.Lock()
	// The first sweep comes at a random point of the first interval, so
	// that replicas started together do not sweep together.
	s.timer = h.cfg.clock.AfterFunc(rand.N(ls.cfg.SweepInterval), s.fire)
	s.mu.Unlock()
}

// stopSweeper stops h's sweeper and waits for its sweep in progress and
// the entries it has in hand (their polls end with the handler); the
// handler's Close calls it. The leases its replica holds then expire, and
// other replicas take the entries over.
func (h *WebhookHandler) stopSweeper() {
	ls := h.ledger()
	if ls == nil {
		return
	}
	ls.mu.Lock()
	ls.closed = true
	s := ls.sweeper
	ls.mu.Unlock()
	defer h.logUnrecorded(ls)
	if s == nil {
		return
	}
	s.mu.Lock()
	s.stopped = true
	s.timer.Stop()
	s.mu.Unlock()
	s.end()
	s.running.Wait()
	s.inHand.Wait()
}

// fire is the timer: one sweep, then the next one armed.
func (s *sweeper) fire() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.running.Add(1)
	s.mu.Unlock()
	s.sweep()
	s.running.Done()
	s.mu.Lock()
	if !s.stopped {
		iv := s.ls.cfg.SweepInterval
		s.timer.Reset(iv/2 + rand.N(iv)) // ±50 %
	}
	s.mu.Unlock()
}

// sweep claims due entries as slots free up, and hands each to a
// goroutine of its own: it waits for any one slot, never for a given job.
// It ends when a claim comes back short (nothing more is due), after
// sweepBatches batches, or when the handler closes; the claims cost
// O(due entries), never O(ledger).
func (s *sweeper) sweep() {
	h, ls := s.h, s.ls
	ls.counts.sweeps.Add(1)
	// Jobs dispatched here while the bus was down are recorded first,
	// so that they come due like the others.
	h.flushOutbox(ls)
	s.heartbeat()
	claimed := 0
	if o := h.cfg.observe.ledger; o != nil {
		defer func() {
			o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerSwept, Claimed: claimed})
		}()
	}
	for claimed < sweepBatches*ls.cfg.SweepBatch {
		// One slot, waiting if need be, then every other free one.
		select {
		case s.slots <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		free := 1
	fill:
		for free < cap(s.slots) {
			select {
			case s.slots <- struct{}{}:
				free++
			default:
				break fill
			}
		}
		claims, ok := s.claim(free)
		claims = s.dropQuarantined(claims)
		for range free - len(claims) {
			<-s.slots
		}
		if !ok {
			return
		}
		claimed += len(claims)
		for _, cj := range claims {
			s.inHand.Add(1)
			go func() {
				defer s.inHand.Done()
				defer func() { <-s.slots }()
				s.complete(cj)
			}()
		}
		if len(claims) < free {
			return
		}
	}
}

// heartbeatReach is how many sweep intervals ahead a heartbeat pushes
// the jobs awaited here.
const heartbeatReach = 3

// heartbeat keeps the jobs awaited here from coming due on other
// replicas for three sweep intervals, when the ledger supports it: this
// replica's await polls them after their grace period, and one poll is
// enough. The next heartbeat comes with the next sweep, which starts up
// to 1.5 intervals after this one ends: the rest is the sweep's own time
// (its polls, a loaded machine). If this replica dies, its jobs come due
// within three intervals.
func (s *sweeper) heartbeat() {
	hb, ok := s.ls.l.(eventbus.Heartbeat)
	if !ok {
		return
	}
	h := s.h
	h.mu.Lock()
	ids := slices.Collect(maps.Keys(h.waiting))
	h.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, h.cfg.publishTimeout)
	defer cancel()
	if err := hb.Extend(ctx, ids, h.cfg.clock.Now().Add(heartbeatReach*s.ls.cfg.SweepInterval)); err != nil {
		s.ls.counts.errors.Add(1) // the sweepers of other replicas may poll them too
	}
}

// claim claims up to n due entries; ok is false when the claim failed (it
// is logged once per outage) or the handler closed.
func (s *sweeper) claim(n int) (claims []eventbus.ClaimedJob, ok bool) {
	h, ls := s.h, s.ls
	if s.ctx.Err() != nil {
		return nil, false
	}
	now := h.cfg.clock.Now()
	ctx, cancel := context.WithTimeout(s.ctx, h.cfg.publishTimeout)
	claims, err := ls.l.Claim(ctx, now, now.Add(ls.cfg.ClaimLease), n)
	cancel()
	if err != nil {
		if s.ctx.Err() != nil {
			return nil, false
		}
		h.noteCallFailed(observe.LedgerOpClaim, err)
		ls.counts.errors.Add(1)
		if !ls.sweepFailing.Swap(true) {
			h.ledgerLog(slog.LevelWarn, "sharpapi: the sweeper cannot claim overdue jobs from the ledger; retrying at every sweep",
				slog.String("error", err.Error()))
		}
		return nil, false
	}
	if ls.sweepFailing.Swap(false) {
		h.ledgerLog(slog.LevelInfo, "sharpapi: the sweeper claims overdue jobs from the ledger again")
	}
	return claims, true
}

// dropQuarantined logs and counts the entries a claim quarantined, and
// returns the others.
func (s *sweeper) dropQuarantined(claims []eventbus.ClaimedJob) []eventbus.ClaimedJob {
	h, ls := s.h, s.ls
	return slices.DeleteFunc(claims, func(cj eventbus.ClaimedJob) bool {
		if cj.Quarantine == "" {
			return false
		}
		if o := h.cfg.observe.ledger; o != nil {
			o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerGaveUp, JobID: truncate(cj.ID, maxJobIDLen), Reason: observe.LedgerMalformed})
		}
		ls.counts.gaveUp.Add(1)
		ls.counts.quarantined.Add(1)
		h.ledgerLog(slog.LevelWarn, "sharpapi: the ledger held an entry it could not use; it was moved to the given-up ids",
			slog.String("entry", truncate(cj.ID, maxJobIDLen)), slog.String("reason", truncate(cj.Quarantine, 64)))
		return true
	})
}

// complete does what a claimed entry needs, told to the
// observe.ClaimObserver if there is one. OnEvent runs in a goroutine of
// its own, so that a slow hook holds up no sweep.
func (s *sweeper) complete(cj eventbus.ClaimedJob) {
	o := s.h.cfg.observe.claim
	if o == nil {
		s.completeUnder(s.ctx, cj)
		return
	}
	ctx, obs := o.StartClaim(s.ctx, observe.ClaimStart{JobID: truncate(cj.ID, maxJobIDLen),
		JobType: observedType("", JobType(cj.Type)), Tries: cj.Tries, Trace: cj.Trace})
	end := s.completeUnder(ctx, cj)
	if obs != nil {
		obs.End(end)
	}
}

// completeUnder does what a claimed entry needs under ctx (the sweeper's,
// or its observation's), and says what it made of it.
func (s *sweeper) completeUnder(ctx context.Context, cj eventbus.ClaimedJob) observe.ClaimEnd {
	h, ls := s.h, s.ls
	ls.counts.claimed.Add(1)
	now := h.cfg.clock.Now()
	if checkJobID(cj.ID) != nil {
		return s.giveUp(cj, observe.LedgerInvalidID, "not a job id SharpAPI could have given")
	}
	c := s.clientFor(cj.KeyID)
	if !cj.Dispatched.IsZero() && now.Sub(cj.Dispatched) > ls.cfg.MaxAge {
		if c == nil {
			return s.giveUp(cj, observe.LedgerNoClient,
				"pending for longer than the ledger's MaxAge ("+ls.cfg.MaxAge.String()+"), and no sweeping replica has a client with the API key that dispatched it")
		}
		return s.giveUp(cj, observe.LedgerMaxAge, "pending for longer than the ledger's MaxAge ("+ls.cfg.MaxAge.String()+")")
	}
	// Stored already, never acked: its OnEvent did not finish. A stored
	// value that cannot be read (garbage, another job's event, too large)
	// is no reason to wait: the job is polled as if nothing were stored,
	// and the outcome's Store replaces the bad value.
	lctx, cancel := context.WithTimeout(ctx, h.cfg.publishTimeout)
	ev, found, err := loadEvent(lctx, h.cfg.bus, cj.ID)
	cancel()
	if err != nil {
		h.noteCallFailed(observe.LedgerOpLoad, err)
		ls.counts.errors.Add(1)
		h.ledgerLog(slog.LevelDebug, "sharpapi: the sweeper could not read a job's stored event; polling the job",
			slog.String("job_id", cj.ID), slog.String("error", truncate(err.Error(), maxLoggedError)))
		found = false
	}
	if found && ev.ID == cj.ID && ev.Status.Terminal() {
		if o := h.cfg.observe.ledger; o != nil {
			o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerCompleted, JobID: cj.ID, Via: observe.JobViaStore})
		}
		ls.counts.completed.Add(1)
		go h.settle(ctx, ls, ev, false)
		return observe.ClaimEnd{Outcome: observe.ClaimCompleted, Via: observe.JobViaStore}
	}
	if c == nil {
		// Dispatched with an API key no client here has: polled with
		// another key, SharpAPI would not know it. Left for a replica
		// that has the key.
		s.release(cj, now.Add(ls.cfg.backoff(cj.Tries)))
		return observe.ClaimEnd{Outcome: observe.ClaimReleased}
	}
	snap, err := s.poll(ctx, c, cj)
	ls.counts.polls.Add(1)
	if err != nil {
		return s.pollFailed(cj, err)
	}
	if !snap.Status.Terminal() {
		wait := max(ls.cfg.backoff(cj.Tries), min(snap.Meta.RetryAfter, ls.cfg.RetryMax))
		s.release(cj, h.cfg.clock.Now().Add(wait))
		return observe.ClaimEnd{Outcome: observe.ClaimReleased}
	}
	typ := snap.Type
	if typ == "" {
		typ = JobType(cj.Type)
	}
	ev = WebhookEvent{ID: cj.ID, Status: snap.Status, Type: typ, Result: snap.Result}
	stored, lease, err := h.storeFound(ctx, ev)
	if err != nil {
		h.noteCallFailed(observe.LedgerOpStore, err)
		ls.counts.errors.Add(1)
		s.release(cj, h.cfg.clock.Now().Add(ls.cfg.backoff(cj.Tries)))
		return observe.ClaimEnd{Outcome: observe.ClaimReleased, Err: err}
	}
	if stored {
		if o := h.cfg.observe.ledger; o != nil {
			o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerCompleted, JobID: cj.ID, Via: observe.JobViaPoll})
		}
		ls.counts.completed.Add(1)
		h.settleStored(ctx, ls, ev, lease)
	} else {
		// Another replica stored it a moment ago; the lease decides
		// which of us runs OnEvent.
		go h.settle(ctx, ls, ev, false)
	}
	return observe.ClaimEnd{Outcome: observe.ClaimCompleted, Via: observe.JobViaPoll}
}

// giveUp gives a claimed entry up.
func (s *sweeper) giveUp(cj eventbus.ClaimedJob, why observe.LedgerGiveUpReason, reason string) observe.ClaimEnd {
	s.h.giveUp(s.ls, cj.ID, cj.Token, why, reason)
	return observe.ClaimEnd{Outcome: observe.ClaimGaveUp, Reason: why}
}

// poll reads the job's status URL through the client, within PollTimeout
// and under the handler's webhook body cap ([WithMaxBodySize]):
// the recorded one if it is on the client's origin (the only one the API
// key goes to), else the generic one.
func (s *sweeper) poll(ctx context.Context, c *Client, cj eventbus.ClaimedJob) (*JobSnapshot, error) {
	u := c.endpoint("/job/status/"+cj.ID, nil)
	if p, err := url.Parse(cj.StatusURL); err == nil && p.Scheme != "" && c.sameOrigin(p) {
		u = cj.StatusURL
	}
	j := &Job[json.RawMessage]{c: c, id: cj.ID, statusURL: u, typ: JobType(cj.Type)}
	ctx, cancel := context.WithTimeout(ctx, s.ls.cfg.PollTimeout)
	defer cancel()
	// The outcome is stored as a webhook's would be: no larger.
	return j.status(ctx, s.h.cfg.maxBody)
}

// clientFor returns the client to poll a job dispatched with the API key
// whose fingerprint is keyID: the one adopted with that key, the first
// client for an entry with no fingerprint, nil when no client here has
// the key.
func (s *sweeper) clientFor(keyID string) *Client {
	if keyID == "" {
		return s.c
	}
	s.ls.mu.Lock()
	defer s.ls.mu.Unlock()
	return s.ls.clients[keyID]
}

// pollFailed releases an entry whose poll failed, or gives it up when
// SharpAPI does not know the job.
func (s *sweeper) pollFailed(cj eventbus.ClaimedJob, err error) observe.ClaimEnd {
	h, ls := s.h, s.ls
	now := h.cfg.clock.Now()
	switch {
	case s.ctx.Err() != nil:
		// The handler is closing: leave the job to another replica now
		// rather than when the claim expires.
		s.release(cj, now)
	case errors.Is(err, ErrNotFound):
		return s.giveUp(cj, observe.LedgerNotFound, "SharpAPI does not know the job (404)")
	case errors.Is(err, errResponseTooLarge) && cj.Tries >= tooLargeTries:
		return s.giveUp(cj, observe.LedgerTooLarge,
			fmt.Sprintf("its status answer is larger than a webhook body may be (%d bytes) at %d polls", h.cfg.maxBody, cj.Tries))
	default:
		wait := ls.cfg.backoff(cj.Tries)
		var rl *RateLimitError
		if errors.As(err, &rl) {
			wait = max(wait, min(rl.RetryAfter, ls.cfg.RetryMax))
		}
		h.ledgerLog(slog.LevelDebug, "sharpapi: the sweeper's poll failed; trying again later",
			slog.String("job_id", cj.ID), slog.Duration("wait", wait), slog.String("error", truncate(err.Error(), maxLoggedError)))
		s.release(cj, now.Add(wait))
	}
	return observe.ClaimEnd{Outcome: observe.ClaimReleased, Err: err}
}

// release makes a claimed entry due at at. A failure leaves it to its
// claim's expiry.
func (s *sweeper) release(cj eventbus.ClaimedJob, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), s.h.cfg.publishTimeout)
	defer cancel()
	if _, err := s.ls.l.Release(ctx, cj.ID, cj.Token, at); err != nil {
		s.h.noteCallFailed(observe.LedgerOpRelease, err)
		s.ls.counts.errors.Add(1)
	}
}
