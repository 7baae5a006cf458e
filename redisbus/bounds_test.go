package redisbus

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
)

// eventJSON is a stored event of about size bytes: its status (when
// bigStatus) or its result string padded to that size.
func eventJSON(id string, size int, bigStatus bool) string {
	const env = `{"id":"%s","status":"%s","type":"t","result":"%s"}`
	pad := strings.Repeat("x", max(size-len(fmt.Sprintf(env, id, "success", "")), 0))
	if bigStatus {
		return fmt.Sprintf(env, id, pad, "")
	}
	return fmt.Sprintf(env, id, "success", pad)
}

// TestLoadErrorQuotesABoundedValue: a stored value of 1 MiB that is not a
// terminal event of its job yields an error of a few hundred bytes that
// says how long the value was, not one that quotes it whole (the handler
// logs the error at each retry). The same holds for a rejected key prefix.
func TestLoadErrorQuotesABoundedValue(t *testing.T) {
	rdb := newClient(t, testAddr)
	b := newBus(t, rdb)
	const size = 1 << 20
	status := strings.Repeat("x", size)
	value := `{"id":"job-q","status":"` + status + `","type":"t"}`
	if err := rdb.Set(t.Context(), b.eventKey("job-q"), value, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	_, found, err := (protocol{b}).Load(t.Context(), "job-q")
	if err == nil || found {
		t.Fatalf("Load = found %v, %v; want an error", found, err)
	}
	want := `redisbus: the stored event of job job-q is not valid: it is a "` + status[:maxQuoted] + `"…(1048576 bytes) event of another job or status`
	if err.Error() != want {
		t.Errorf("Load error (%d bytes):\n%.300s\nwant:\n%s", len(err.Error()), err, want)
	}

	_, err = New(rdb, WithKeyPrefix("{"+status))
	if err == nil || len(err.Error()) > 300 || !strings.Contains(err.Error(), "(1048577 bytes)") {
		t.Errorf("New with a 1 MiB prefix: error of %d bytes, want a short one giving the length:\n%.300v", len(errString(err)), err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// netOutput is how many bytes the Redis server has sent its clients.
func netOutput(t *testing.T, rdb *redis.Client) int64 {
	t.Helper()
	info, err := rdb.Info(t.Context(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_net_output_bytes:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no total_net_output_bytes in INFO stats:\n%s", info)
	return 0
}

// TestLoadRefusesAnOversizedValue: a 32 MiB event under a job's key (8
// times the handler's default body cap) is refused with an error that says
// so, and Redis does not send it: its output grows by far less than the
// value. Under the default limit, an event as large as the handler
// accepts still loads.
func TestLoadRefusesAnOversizedValue(t *testing.T) {
	rdb := newClient(t, testAddr)
	b := newBus(t, rdb)
	const huge = 32 << 20
	if err := rdb.Set(t.Context(), b.eventKey("job-big"), eventJSON("job-big", huge, false), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	before := int64(-1)
	if !miniServer.Load() { // miniredis keeps no INFO stats
		before = netOutput(t, rdb)
	}
	_, found, err := (protocol{b}).Load(t.Context(), "job-big")
	want := fmt.Sprintf("redisbus: the stored event of job job-big is %d bytes, more than the bus's limit of %d (WithMaxEventSize): not read",
		huge, DefaultMaxEventSize)
	if found || err == nil || err.Error() != want {
		t.Errorf("Load = found %v, %v;\nwant the error %s", found, err, want)
	}
	if before >= 0 {
		if sent := netOutput(t, rdb) - before; sent > 1<<20 {
			t.Errorf("Redis sent %d bytes for the Load, want far less than the %d-byte value", sent, huge)
		}
	}

	// The largest body the handler accepts, as a stored event, loads.
	ev := event("job-max", sharpapi.JobStatusSuccess, `"`+strings.Repeat("y", sharpapi.DefaultWebhookMaxBody-64)+`"`)
	if _, err := (protocol{b}).Store(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	got, found, err := (protocol{b}).Load(t.Context(), "job-max")
	if err != nil || !found {
		t.Fatalf("Load of a %d-byte result = found %v, %v", len(ev.Result), found, err)
	}
	// cmp would compare the 4 MiB result byte by byte through reflection.
	if !bytes.Equal(ev.Result, got.Result) {
		t.Errorf("Load returned a %d-byte result, want the stored %d bytes", len(got.Result), len(ev.Result))
	}
	ev.Result, got.Result = nil, nil
	if diff := cmp.Diff(ev, got); diff != "" {
		t.Errorf("Load (-stored +loaded):\n%s", diff)
	}
}

// TestMaxEventSize: WithMaxEventSize is the limit of both Store and Load,
// to the byte.
func TestMaxEventSize(t *testing.T) {
	rdb := newClient(t, testAddr)
	const limit = 1 << 10
	b := newBus(t, rdb, WithMaxEventSize(limit))
	for _, size := range []int{limit, limit + 1} {
		id := "job-" + strconv.Itoa(size)
		value := eventJSON(id, size, false)
		if len(value) != size {
			t.Fatalf("test value is %d bytes, want %d", len(value), size)
		}
		if err := rdb.Set(t.Context(), b.eventKey(id), value, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		_, found, err := (protocol{b}).Load(t.Context(), id)
		if fits := size <= limit; found != fits || (err == nil) != fits {
			t.Errorf("Load of %d bytes = found %v, %v; want found %v", size, found, err, fits)
		}
	}
	big := event("job-store", sharpapi.JobStatusSuccess, `"`+strings.Repeat("z", limit)+`"`)
	stored, err := (protocol{b}).Store(t.Context(), big)
	if stored || err == nil || !strings.Contains(err.Error(), "more than the bus's limit of 1024 (WithMaxEventSize)") {
		t.Errorf("Store of a %d-byte result = %v, %v; want refused", len(big.Result), stored, err)
	}
	if _, found, err := (protocol{b}).Load(t.Context(), "job-store"); found || err != nil {
		t.Errorf("Load after a refused Store = found %v, %v; want nothing stored", found, err)
	}
	if _, err := New(rdb, WithMaxEventSize(0)); !errors.Is(err, sharpapi.ErrInvalidOption) {
		t.Errorf("WithMaxEventSize(0): %v, want ErrInvalidOption", err)
	}
}
