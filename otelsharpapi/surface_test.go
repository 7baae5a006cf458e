package otelsharpapi

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestObserverShowsUsersNoProtocol: an Observer's one method is the one
// sharpapi.WithObserver calls; StartJob and the other seams live on the
// unexported protocol type.
func TestObserverShowsUsersNoProtocol(t *testing.T) {
	var got []string
	obs := reflect.TypeFor[*Observer]()
	for i := range obs.NumMethod() {
		got = append(got, obs.Method(i).Name)
	}
	if diff := cmp.Diff([]string{"Observer"}, got); diff != "" {
		t.Errorf("(*Observer) methods (-want +got):\n%s", diff)
	}
}
