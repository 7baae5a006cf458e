package sharpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/url"
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
// backoff. The sweeper runs no goroutine between sweeps: one timer.
type sweeper struct {
	h   *WebhookHandler
	ls  *ledgerState
	c   *Client
	ctx context.Context // ends when the handler closes
	end context.CancelFunc

	mu      sync.Mutex
	stopped bool
	timer   clockTimer
	running sync.WaitGroup // the sweep in progress; Add under mu while not stopped
}

// adoptClient gives h's sweeper its client: the first client built with h
// ([WithWebhookHandler]) starts it, when h's bus has a ledger. The sweeper
// lives until h closes.
func (h *WebhookHandler) adoptClient(c *Client) {
	ls := h.ledger()
	if ls == nil {
		return
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closed || ls.sweeper != nil || ls.cfg.NoSweeper {
		return
	}
	s := &sweeper{h: h, ls: ls, c: c}
	s.ctx, s.end = context.WithCancel(context.Background())
	ls.sweeper = s
	s.mu.Lock()
	// The first sweep comes at a random point of the first interval, so
	// that replicas started together do not sweep together.
	s.timer = h.cfg.clock.AfterFunc(rand.N(ls.cfg.SweepInterval), s.fire)
	s.mu.Unlock()
}

// stopSweeper stops h's sweeper and waits for its sweep in progress; the
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
	if s == nil {
		return
	}
	s.mu.Lock()
	s.stopped = true
	s.timer.Stop()
	s.mu.Unlock()
	s.end()
	s.running.Wait()
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

// sweep claims due entries, a batch at a time, until a claim comes back
// short of a full batch: the claims cost O(due entries), never O(ledger).
func (s *sweeper) sweep() {
	h, ls := s.h, s.ls
	ls.counts.sweeps.Add(1)
	claimed := 0
	if o := h.cfg.observe.ledger; o != nil {
		defer func() {
			o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerSwept, Claimed: claimed})
		}()
	}
	for s.ctx.Err() == nil {
		now := h.cfg.clock.Now()
		ctx, cancel := context.WithTimeout(s.ctx, h.cfg.publishTimeout)
		claims, err := ls.l.Claim(ctx, now, now.Add(ls.cfg.ClaimLease), ls.cfg.SweepBatch)
		cancel()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			h.noteCallFailed(observe.LedgerOpClaim, err)
			ls.counts.errors.Add(1)
			if !ls.sweepFailing.Swap(true) {
				h.ledgerLog(slog.LevelWarn, "sharpapi: the sweeper cannot claim overdue jobs from the ledger; retrying at every sweep",
					slog.String("error", err.Error()))
			}
			return
		}
		if ls.sweepFailing.Swap(false) {
			h.ledgerLog(slog.LevelInfo, "sharpapi: the sweeper claims overdue jobs from the ledger again")
		}
		claimed += len(claims)
		var wg sync.WaitGroup
		for _, cj := range claims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.complete(cj)
			}()
		}
		wg.Wait()
		if len(claims) < ls.cfg.SweepBatch {
			return
		}
	}
}

// complete does what a claimed entry needs. OnEvent runs in a goroutine of
// its own, so that a slow hook holds up no sweep.
func (s *sweeper) complete(cj eventbus.ClaimedJob) {
	h, ls := s.h, s.ls
	ls.counts.claimed.Add(1)
	now := h.cfg.clock.Now()
	if checkJobID(cj.ID) != nil {
		h.giveUp(ls, cj.ID, cj.Token, observe.LedgerInvalidID, "not a job id SharpAPI could have given")
		return
	}
	if !cj.Dispatched.IsZero() && now.Sub(cj.Dispatched) > ls.cfg.MaxAge {
		h.giveUp(ls, cj.ID, cj.Token, observe.LedgerMaxAge, "pending for longer than the ledger's MaxAge ("+ls.cfg.MaxAge.String()+")")
		return
	}
	// Stored already, never acked: its OnEvent did not finish.
	ctx, cancel := context.WithTimeout(s.ctx, h.cfg.publishTimeout)
	ev, found, err := loadEvent(ctx, h.cfg.bus, cj.ID)
	cancel()
	if err != nil {
		h.noteCallFailed(observe.LedgerOpLoad, err)
		ls.counts.errors.Add(1)
		s.release(cj, now.Add(ls.cfg.backoff(cj.Tries)))
		return
	}
	if found && ev.ID == cj.ID && ev.Status.Terminal() {
		if o := h.cfg.observe.ledger; o != nil {
			o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerCompleted, JobID: cj.ID, Via: observe.JobViaStore})
		}
		ls.counts.completed.Add(1)
		go h.settle(ls, ev, false)
		return
	}
	snap, err := s.poll(cj)
	ls.counts.polls.Add(1)
	if err != nil {
		s.pollFailed(cj, err)
		return
	}
	if !snap.Status.Terminal() {
		wait := max(ls.cfg.backoff(cj.Tries), min(snap.Meta.RetryAfter, ls.cfg.RetryMax))
		s.release(cj, h.cfg.clock.Now().Add(wait))
		return
	}
	typ := snap.Type
	if typ == "" {
		typ = JobType(cj.Type)
	}
	ev = WebhookEvent{ID: cj.ID, Status: snap.Status, Type: typ, Result: snap.Result}
	stored, err := h.storeFound(s.ctx, ev)
	if err != nil {
		h.noteCallFailed(observe.LedgerOpStore, err)
		ls.counts.errors.Add(1)
		s.release(cj, h.cfg.clock.Now().Add(ls.cfg.backoff(cj.Tries)))
		return
	}
	if stored {
		if o := h.cfg.observe.ledger; o != nil {
			o.LedgerNoted(context.Background(), observe.LedgerNote{Kind: observe.LedgerCompleted, JobID: cj.ID, Via: observe.JobViaPoll})
		}
		ls.counts.completed.Add(1)
	}
	// Not stored: another replica stored it a moment ago; the lease
	// decides which of us runs OnEvent.
	go h.settle(ls, ev, stored)
}

// poll reads the job's status URL through the client: the recorded one if
// it is on the client's origin (the only one the API key goes to), else
// the generic one.
func (s *sweeper) poll(cj eventbus.ClaimedJob) (*JobSnapshot, error) {
	u := s.c.endpoint("/job/status/"+cj.ID, nil)
	if p, err := url.Parse(cj.StatusURL); err == nil && p.Scheme != "" && s.c.sameOrigin(p) {
		u = cj.StatusURL
	}
	j := &Job[json.RawMessage]{c: s.c, id: cj.ID, statusURL: u, typ: JobType(cj.Type)}
	return j.status(s.ctx)
}

// pollFailed releases an entry whose poll failed, or gives it up when
// SharpAPI does not know the job.
func (s *sweeper) pollFailed(cj eventbus.ClaimedJob, err error) {
	h, ls := s.h, s.ls
	now := h.cfg.clock.Now()
	switch {
	case s.ctx.Err() != nil:
		// The handler is closing: leave the job to another replica now
		// rather than when the claim expires.
		s.release(cj, now)
	case errors.Is(err, ErrNotFound):
		h.giveUp(ls, cj.ID, cj.Token, observe.LedgerNotFound, "SharpAPI does not know the job (404)")
	default:
		wait := ls.cfg.backoff(cj.Tries)
		var rl *RateLimitError
		if errors.As(err, &rl) {
			wait = max(wait, min(rl.RetryAfter, ls.cfg.RetryMax))
		}
		h.ledgerLog(slog.LevelDebug, "sharpapi: the sweeper's poll failed; trying again later",
			slog.String("job_id", cj.ID), slog.Duration("wait", wait), slog.String("error", err.Error()))
		s.release(cj, now.Add(wait))
	}
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
