package sharpapitest

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Faults are the failures the emulator injects. The zero value injects none.
// Random choices come from the seed (WithSeed) and a job's fate, webhook
// included, is decided when it is dispatched, so a given sequence of
// requests meets the same faults on every run. Set them at construction
// with the With* fault options or WithFaults, and change them between
// steps of a test with [Emulator.SetFaults]. Rates are probabilities in
// [0, 1], counts and durations are not negative, and FailJobTypes names
// job types the emulator creates: other values are an [ErrInvalidOption].
type Faults struct {
	// DropRate is the probability that a job's webhook is never sent.
	DropRate float64
	// DropNext drops the webhooks of the next DropNext jobs dispatched with one.
	DropNext int
	// Duplicates delivers each webhook this many times (0 and 1 mean once),
	// with the same body and signature each time.
	Duplicates int
	// Early finishes each job with a webhook at once and delivers the webhook
	// before the dispatch answer is written, so the receiver sees the job id
	// before the client does.
	Early bool
	// WebhookDelay holds each webhook back this long after the job finishes
	// (ignored for Early webhooks).
	WebhookDelay time.Duration
	// FailRate is the probability that a job fails.
	FailRate float64
	// FailJobTypes lists job types whose jobs always fail.
	FailJobTypes []string
	// ErrorRate is the share of requests answered 500 without being handled.
	ErrorRate float64
	// RateLimitRate is the share of requests answered 429 without being
	// handled, with Retry-After: 1.
	RateLimitRate float64
	// Latency delays every answer (measured with the emulator's Clock).
	Latency time.Duration
}

func (f Faults) clone() Faults {
	f.FailJobTypes = slices.Clone(f.FailJobTypes)
	return f
}

// validate reports every field that makes no sense: a rate outside
// [0, 1] (NaN included), a negative count or duration.
func (f Faults) validate() error {
	var errs []error
	for _, r := range []struct {
		name string
		p    float64
	}{{"DropRate", f.DropRate}, {"FailRate", f.FailRate}, {"ErrorRate", f.ErrorRate}, {"RateLimitRate", f.RateLimitRate}} {
		if !(r.p >= 0 && r.p <= 1) {
			errs = append(errs, fmt.Errorf("%s %v is not between 0 and 1", r.name, r.p))
		}
	}
	for _, n := range []struct {
		name string
		n    int
	}{{"DropNext", f.DropNext}, {"Duplicates", f.Duplicates}} {
		if n.n < 0 {
			errs = append(errs, fmt.Errorf("%s %d is negative", n.name, n.n))
		}
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"WebhookDelay", f.WebhookDelay}, {"Latency", f.Latency}} {
		if d.d < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", d.name, d.d))
		}
	}
	return errors.Join(errs...)
}

// checkFailJobTypes reports the job types in f.FailJobTypes that are not
// among known.
func checkFailJobTypes(f Faults, known map[string]bool) error {
	var errs []error
	for _, jobType := range f.FailJobTypes {
		if !known[jobType] {
			errs = append(errs, fmt.Errorf("FailJobTypes: %w", unknownJobType(known, jobType)))
		}
	}
	return errors.Join(errs...)
}

// faultOption is an option that changes one field of the faults; the
// faults as a whole are checked once all options are applied, so each
// message names the field.
func faultOption(set func(*Faults)) Option {
	return func(c *config) error {
		set(&c.faults)
		return nil
	}
}

// WithFaults sets all faults at once.
func WithFaults(f Faults) Option {
	return faultOption(func(ff *Faults) { *ff = f.clone() })
}

// WithDropRate drops each webhook with probability p, in [0, 1].
func WithDropRate(p float64) Option {
	return faultOption(func(f *Faults) { f.DropRate = p })
}

// WithDropNext drops the webhooks of the first n jobs dispatched with one.
func WithDropNext(n int) Option {
	return faultOption(func(f *Faults) { f.DropNext = n })
}

// WithDuplicates delivers each webhook n times.
func WithDuplicates(n int) Option {
	return faultOption(func(f *Faults) { f.Duplicates = n })
}

// WithEarlyWebhooks delivers each webhook before the dispatch answer.
func WithEarlyWebhooks() Option {
	return faultOption(func(f *Faults) { f.Early = true })
}

// WithWebhookDelay holds each webhook back for d after its job finishes.
func WithWebhookDelay(d time.Duration) Option {
	return faultOption(func(f *Faults) { f.WebhookDelay = d })
}

// WithFailRate fails each job with probability p, in [0, 1].
func WithFailRate(p float64) Option {
	return faultOption(func(f *Faults) { f.FailRate = p })
}

// WithFailJobTypes fails every job of the given types.
func WithFailJobTypes(types ...string) Option {
	return faultOption(func(f *Faults) { f.FailJobTypes = append(f.FailJobTypes, types...) })
}

// WithErrorRate answers a share p of requests, in [0, 1], with 500.
func WithErrorRate(p float64) Option {
	return faultOption(func(f *Faults) { f.ErrorRate = p })
}

// WithRateLimitRate answers a share p of requests, in [0, 1], with 429.
func WithRateLimitRate(p float64) Option {
	return faultOption(func(f *Faults) { f.RateLimitRate = p })
}

// WithLatency delays every answer by d.
func WithLatency(d time.Duration) Option {
	return faultOption(func(f *Faults) { f.Latency = d })
}

// SetFaults replaces the faults injected from now on. Jobs already
// dispatched keep the fate decided at dispatch, webhook faults included.
// Faults that make no sense (see [Faults]) are an error that wraps
// [ErrInvalidOption], and leave the faults in force unchanged.
func (e *Emulator) SetFaults(f Faults) error {
	if err := errors.Join(f.validate(), checkFailJobTypes(f, knownJobTypes(e.workflows))); err != nil {
		return fmt.Errorf("%w: SetFaults: %w", ErrInvalidOption, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = f.clone()
	return nil
}

// Faults returns the faults in force; DropNext counts down as webhooks are dropped.
func (e *Emulator) Faults() Faults {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.faults.clone()
}

// chance reports true with probability p. Certain outcomes draw nothing, so
// a fault that is off does not shift the choices of the others.
// e.mu must be held.
func (e *Emulator) chance(p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return e.rng.Float64() < p
}

// responseFault decides whether a request is answered by a fault instead of
// the API: 500, 429, or 0 for none, plus the latency to add.
func (e *Emulator) responseFault() (status int, latency time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.chance(e.faults.ErrorRate):
		status = 500
	case e.chance(e.faults.RateLimitRate):
		status = 429
	}
	return status, max(e.faults.Latency, 0)
}

// jobFails decides the fate of a new job. e.mu must be held.
func (e *Emulator) jobFails(jobType string) bool {
	return slices.Contains(e.faults.FailJobTypes, jobType) || e.chance(e.faults.FailRate)
}

// webhookPlan is what the faults decided for one job's webhook.
type webhookPlan struct {
	drop   bool
	copies int
	delay  time.Duration
}

// planWebhook decides the faults of a new job's webhook. e.mu must be held.
func (e *Emulator) planWebhook() webhookPlan {
	p := webhookPlan{copies: max(e.faults.Duplicates, 1), delay: max(e.faults.WebhookDelay, 0)}
	if e.faults.DropNext > 0 {
		e.faults.DropNext--
		p.drop = true
	} else {
		p.drop = e.chance(e.faults.DropRate)
	}
	return p
}
