package redisbus

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
)

// TestTraceTravelsWithTheEvent: an event's Trace (the delivery's
// traceparent, with a tracing observer) is stored in the optional "tp"
// field and loaded back; an event without one is stored exactly as before
// the field existed, and an event stored by an older replica (no "tp")
// loads with none.
func TestTraceTravelsWithTheEvent(t *testing.T) {
	rdb := newClient(t, testAddr)
	b := newBus(t, rdb)
	traced := event("job-tp-1", sharpapi.JobStatusSuccess, `{"a":1}`)
	traced.Trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	plain := event("job-tp-2", sharpapi.JobStatusSuccess, `{"a":1}`)
	for _, ev := range []eventbus.Event{traced, plain} {
		if _, err := (protocol{b}).Store(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
		got, found, err := (protocol{b}).Load(t.Context(), ev.ID)
		if err != nil || !found {
			t.Fatalf("Load(%s) = found %v, %v", ev.ID, found, err)
		}
		if diff := cmp.Diff(ev, got); diff != "" {
			t.Errorf("Load(%s) (-stored +loaded):\n%s", ev.ID, diff)
		}
	}
	raw, err := rdb.Get(t.Context(), b.eventKey(plain.ID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"job-tp-2","status":"success","type":"content_translate","result":{"a":1}}`; raw != want {
		t.Errorf("stored event without a trace = %s, want the format older replicas wrote: %s", raw, want)
	}
	raw, err = rdb.Get(t.Context(), b.eventKey(traced.ID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"job-tp-1","status":"success","type":"content_translate","result":{"a":1},"tp":"` + traced.Trace + `"}`; raw != want {
		t.Errorf("stored event with a trace = %s, want %s", raw, want)
	}
	// What an older replica stored: no "tp".
	old := `{"id":"job-tp-3","status":"failed","type":"content_translate"}`
	if err := rdb.Set(t.Context(), b.eventKey("job-tp-3"), old, 0).Err(); err != nil {
		t.Fatal(err)
	}
	got, found, err := (protocol{b}).Load(t.Context(), "job-tp-3")
	if err != nil || !found {
		t.Fatalf("Load of an older replica's event = found %v, %v", found, err)
	}
	if diff := cmp.Diff(eventbus.Event{ID: "job-tp-3", Status: "failed", Type: "content_translate"}, got); diff != "" {
		t.Errorf("older replica's event (-want +got):\n%s", diff)
	}
}
