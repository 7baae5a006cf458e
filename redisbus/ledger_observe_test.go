package redisbus

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/observe"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// noteRecorder is a LedgerObserver that keeps every note, and observes no
// job.
type noteRecorder struct {
	mu    sync.Mutex
	notes []observe.LedgerNote
}

func (r *noteRecorder) StartJob(ctx context.Context, _ observe.JobStart) (context.Context, observe.JobObservation) {
	return ctx, nil
}

func (r *noteRecorder) LedgerNoted(_ context.Context, n observe.LedgerNote) {
	r.mu.Lock()
	r.notes = append(r.notes, n)
	r.mu.Unlock()
}

// counts is what the notes add up to, in the shape of WebhookStats.Ledger
// (whose Acked and Polls have no note).
func (r *noteRecorder) counts() observe.LedgerCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	var c observe.LedgerCounts
	for _, n := range r.notes {
		switch n.Kind {
		case observe.LedgerRecorded:
			if n.Err != nil {
				c.RecordErrors++
			} else {
				c.Recorded++
			}
		case observe.LedgerSwept:
			c.Sweeps++
			c.Claimed += uint64(n.Claimed)
		case observe.LedgerCompleted:
			c.Completed++
		case observe.LedgerHookRedelivered:
			c.HookRedeliveries++
		case observe.LedgerStaleAck:
			c.StaleAcks++
		case observe.LedgerGaveUp:
			c.GaveUp++
		case observe.LedgerCallFailed:
			c.Errors++
		}
	}
	return c
}

// about returns "kind detail job" for each note of kind, sorted: what a
// note of that kind says about its job.
func (r *noteRecorder) about(kind observe.LedgerNoteKind) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.notes {
		if n.Kind != kind {
			continue
		}
		detail := string(n.Via) + string(n.Reason)
		if n.Kind == observe.LedgerHookRedelivered {
			detail = "run " + strconv.Itoa(n.Runs)
		}
		if n.Err != nil {
			detail = "error"
		}
		out = append(out, detail+" "+n.JobID)
	}
	slices.Sort(out)
	return out
}

// TestLedgerObserverIsToldWhatStatsCount: a replica's LedgerObserver is
// told of each event its Stats count, with the right job and details: two
// jobs whose webhooks are lost, completed by the sweeper's polls; an entry
// older than MaxAge and one SharpAPI does not know, given up; an event
// whose OnEvent always fails, offered again from the store and given up
// after MaxHookRuns. Once the replica is closed, the notes add up to its
// Stats.
func TestLedgerObserverIsToldWhatStatsCount(t *testing.T) {
	f := newFleet(t, testAddr, 8, sharpapitest.WithDropRate(1))
	cfg := fastLedger()
	cfg.MaxAge = time.Hour
	cfg.MaxHookRuns = 2
	now := time.Now()
	recorder, err := New(newClient(t, testAddr), WithKeyPrefix(f.prefix))
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []eventbus.PendingJob{
		{ID: "too-old", Dispatched: now.Add(-2 * time.Hour), Due: now, Expires: now.Add(time.Hour)},
		{ID: "unknown", Dispatched: now, Due: now, Expires: now.Add(time.Hour)},
	} {
		if err := (protocol{recorder}).Record(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	rec := &noteRecorder{}
	a := f.start(member{name: "a", grace: time.Millisecond, ledger: cfg, observer: rec,
		hook: func(_ context.Context, ev sharpapi.WebhookEvent) error {
			if ev.Type == "never" {
				return errors.New("database down")
			}
			return nil
		}})
	ids := f.dispatchAll(a, nil, 2)
	body := []byte(`{"id":"never-ok","status":"success","type":"never","result":{"content":"x"}}`)
	if code := post(t, a, body, sharpapitest.Sign(body, e2eSecret)); code != 200 {
		t.Fatalf("delivery answered %d", code)
	}
	for range 4 { // each job once, never-ok twice
		recv(t, f.calls, "an OnEvent call")
	}
	waitFor(t, "the acks and give-ups to be counted", func() bool {
		st := a.hooks.Stats().Ledger
		return st.Acked >= 2 && st.GaveUp >= 3
	})
	a.hooks.Close() // the sweep in progress ends, and is told

	st := a.hooks.Stats().Ledger
	st.Acked, st.Polls = 0, 0
	if diff := cmp.Diff(st, rec.counts()); diff != "" {
		t.Errorf("Stats' ledger counts (-) and what the notes add up to (+):\n%s", diff)
	}
	for _, c := range []struct {
		kind observe.LedgerNoteKind
		want []string
	}{
		{observe.LedgerRecorded, slices.Sorted(slices.Values([]string{" " + ids[0], " " + ids[1]}))},
		{observe.LedgerCompleted, slices.Sorted(slices.Values([]string{"poll " + ids[0], "poll " + ids[1], "store never-ok"}))},
		{observe.LedgerHookRedelivered, []string{"run 2 never-ok"}},
		{observe.LedgerGaveUp, []string{"hook_runs never-ok", "max_age too-old", "not_found unknown"}},
		{observe.LedgerStaleAck, nil},
		{observe.LedgerCallFailed, nil},
	} {
		if diff := cmp.Diff(c.want, rec.about(c.kind)); diff != "" {
			t.Errorf("notes of kind %d (-want +got):\n%s", c.kind, diff)
		}
	}
}
