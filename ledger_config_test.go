package sharpapi_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/observe"
)

// ledgerBus is a fakeBus that claims to keep a ledger; these tests only
// build handlers with it.
type ledgerBus struct {
	*fakeBus
	eventbus.Ledger
}

func (b ledgerBus) EventBus() eventbus.Bus { return b }

func TestWithLedgerConfigRejectsNonsense(t *testing.T) {
	for name, cfg := range map[string]sharpapi.LedgerConfig{
		"negative interval":        {SweepInterval: -time.Second},
		"sub-millisecond lease":    {HookLease: time.Microsecond},
		"negative batch":           {SweepBatch: -1},
		"negative hook runs":       {MaxHookRuns: -1},
		"retry max below min":      {RetryMin: time.Minute, RetryMax: time.Second},
		"negative max age":         {MaxAge: -time.Hour},
		"sub-millisecond RetryMin": {RetryMin: time.Nanosecond},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := sharpapi.NewWebhookHandler("s", sharpapi.WithEventBus(ledgerBus{fakeBus: newFakeStore().bus()}),
				sharpapi.WithLedgerConfig(cfg))
			if !errors.Is(err, sharpapi.ErrInvalidOption) {
				t.Errorf("NewWebhookHandler: %v; want ErrInvalidOption", err)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		h, err := sharpapi.NewWebhookHandler("s", sharpapi.WithEventBus(ledgerBus{fakeBus: newFakeStore().bus()}),
			sharpapi.WithLedgerConfig(sharpapi.LedgerConfig{RetryMin: time.Hour, NoSweeper: true}))
		if err != nil {
			t.Fatal(err)
		}
		h.Close()
	})
}

// A ledger's settings on a handler whose bus keeps none would do nothing:
// an error, not silence.
func TestWithLedgerConfigNeedsALedger(t *testing.T) {
	for name, opts := range map[string][]sharpapi.WebhookOption{
		"no bus":               {sharpapi.WithLedgerConfig(sharpapi.LedgerConfig{})},
		"a bus with no ledger": {sharpapi.WithEventBus(newFakeStore().bus()), sharpapi.WithLedgerConfig(sharpapi.LedgerConfig{})},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := sharpapi.NewWebhookHandler("s", opts...); !errors.Is(err, sharpapi.ErrInvalidOption) {
				t.Errorf("NewWebhookHandler: %v; want ErrInvalidOption", err)
			}
		})
	}
	// A bus that keeps no ledger works as before, with no ledger counted.
	h, err := sharpapi.NewWebhookHandler("s", sharpapi.WithEventBus(newFakeStore().bus()))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if st := h.Stats().Ledger; st != (observe.LedgerCounts{}) {
		t.Errorf("ledger counts %+v without a ledger; want zero", st)
	}
}
