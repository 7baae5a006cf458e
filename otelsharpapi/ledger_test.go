package otelsharpapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi/observe"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestLedgerNotesBecomeMetrics: each kind of ledger note adds to its
// metric, with low-cardinality attributes only (no job id, no error
// message); a kind unknown to this package is ignored. A quarantined
// entry (LedgerCounts.Quarantined) is a give-up with reason malformed; a
// job the full outbox could not keep (LedgerCounts.OutboxOverflow) counts
// in sharpapi.ledger.outbox_overflows.
func TestLedgerNotesBecomeMetrics(t *testing.T) {
	tel := newTelemetry(t)
	ctx := context.Background()
	down := errors.New("redis: connection refused to 10.0.0.7")
	for _, n := range []observe.LedgerNote{
		{Kind: observe.LedgerRecorded, JobID: "j1"},
		{Kind: observe.LedgerRecorded, JobID: "j2"},
		{Kind: observe.LedgerRecorded, JobID: "j3", Err: down},
		{Kind: observe.LedgerSwept},
		{Kind: observe.LedgerSwept, Claimed: 3},
		{Kind: observe.LedgerCompleted, JobID: "j1", Via: observe.JobViaPoll},
		{Kind: observe.LedgerCompleted, JobID: "j2", Via: observe.JobViaStore},
		{Kind: observe.LedgerHookRedelivered, JobID: "j2", Runs: 2},
		{Kind: observe.LedgerHookRedelivered, JobID: "j2", Runs: 3},
		{Kind: observe.LedgerStaleAck, JobID: "j2"},
		{Kind: observe.LedgerGaveUp, JobID: "j4", Reason: observe.LedgerMaxAge},
		{Kind: observe.LedgerGaveUp, JobID: "j5", Reason: observe.LedgerNotFound},
		{Kind: observe.LedgerGaveUp, JobID: "j6", Reason: observe.LedgerHookRuns},
		{Kind: observe.LedgerGaveUp, JobID: "j7", Reason: observe.LedgerHookRuns},
		{Kind: observe.LedgerGaveUp, JobID: "j8", Reason: observe.LedgerInvalidID},
		{Kind: observe.LedgerGaveUp, JobID: "j9", Reason: observe.LedgerMalformed},
		{Kind: observe.LedgerOutboxOverflow, JobID: "j10"},
		{Kind: observe.LedgerOutboxOverflow, JobID: "j11"},
		{Kind: observe.LedgerCallFailed, Op: observe.LedgerOpClaim, Err: down},
		{Kind: observe.LedgerCallFailed, Op: observe.LedgerOpAck, Err: context.DeadlineExceeded},
		{Kind: observe.LedgerCallFailed, Op: observe.LedgerOpAck, Err: fmt.Errorf("acking: %w", context.DeadlineExceeded)},
		{Kind: 200, JobID: "j9"},
	} {
		tel.obs.Observer().(observe.LedgerObserver).LedgerNoted(ctx, n)
	}
	want := map[string]map[string]point{
		"sharpapi.ledger.records": {
			"sharpapi.ledger.result=ok":    {Value: 2},
			"sharpapi.ledger.result=error": {Value: 1},
		},
		"sharpapi.ledger.sweeps": {"": {Value: 2}},
		"sharpapi.ledger.claims": {"": {Value: 3}},
		"sharpapi.ledger.completions": {
			"sharpapi.ledger.completed_via=poll":  {Value: 1},
			"sharpapi.ledger.completed_via=store": {Value: 1},
		},
		"sharpapi.ledger.hook_redeliveries": {"": {Value: 2}},
		"sharpapi.ledger.stale_acks":        {"": {Value: 1}},
		"sharpapi.ledger.give_ups": {
			"sharpapi.ledger.reason=max_age":    {Value: 1},
			"sharpapi.ledger.reason=not_found":  {Value: 1},
			"sharpapi.ledger.reason=hook_runs":  {Value: 2},
			"sharpapi.ledger.reason=invalid_id": {Value: 1},
			"sharpapi.ledger.reason=malformed":  {Value: 1},
		},
		"sharpapi.ledger.outbox_overflows": {"": {Value: 2}},
		"sharpapi.ledger.errors": {
			"error.type=_OTHER,sharpapi.ledger.operation=claim": {Value: 1},
			"error.type=timeout,sharpapi.ledger.operation=ack":  {Value: 2},
		},
	}
	if diff := cmp.Diff(want, ledgerMetrics(tel.metrics(t))); diff != "" {
		t.Errorf("ledger metrics (-want +got):\n%s", diff)
	}
}

// TestLedgerGaugesLeftOutOnError: a failing read of the ledger's state is
// the collection's error, and leaves the gauges out of it: no stale value.
func TestLedgerGaugesLeftOutOnError(t *testing.T) {
	fail := false
	tel := newTelemetry(t, WithLedgerStats(func(context.Context) (LedgerState, error) {
		if fail {
			return LedgerState{}, errors.New("redis down")
		}
		return LedgerState{Pending: 7, Overdue: 2}, nil
	}))
	want := map[string]map[string]point{"sharpapi.ledger.pending": {"": {Value: 7}}, "sharpapi.ledger.overdue": {"": {Value: 2}}}
	if diff := cmp.Diff(want, ledgerMetrics(tel.metrics(t))); diff != "" {
		t.Errorf("gauges (-want +got):\n%s", diff)
	}
	fail = true
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err == nil || !strings.Contains(err.Error(), "redis down") {
		t.Errorf("Collect: %v; want the read's error", err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if strings.HasPrefix(m.Name, "sharpapi.ledger.") {
				t.Errorf("metric %s collected while the read fails: %+v", m.Name, m.Data)
			}
		}
	}
}
