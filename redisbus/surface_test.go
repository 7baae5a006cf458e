package redisbus

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBusShowsUsersNoProtocol: a Bus's methods are those a user calls
// (Close, LedgerStats) and the one the handler asks for the protocol
// (EventBus); Store, Load, Subscribe and the ledger's methods live on the
// unexported protocol type.
func TestBusShowsUsersNoProtocol(t *testing.T) {
	var got []string
	bus := reflect.TypeFor[*Bus]()
	for i := range bus.NumMethod() {
		got = append(got, bus.Method(i).Name)
	}
	if diff := cmp.Diff([]string{"Close", "EventBus", "LedgerStats"}, got); diff != "" {
		t.Errorf("(*Bus) methods (-want +got):\n%s", diff)
	}
}
