package redisbus

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
	"github.com/sharpapi-go/sharpapi/redisbus/internal/singlebench"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// translation is a realistic terminal event: the emulator's canned
// translation result, as a webhook with results included carries it.
func translation(id string) eventbus.Event {
	raw, _ := sharpapitest.ExampleResult(string(sharpapi.JobTypeContentTranslate))
	return eventbus.Event{ID: id, Status: "success", Type: "content_translate", Result: raw}
}

// BenchmarkBusStoreToNotify measures the bus alone: Store on one replica's
// bus until the id reaches another replica's notify, one event at a time.
func BenchmarkBusStoreToNotify(b *testing.B) {
	prefix := testPrefix(b)
	from, _ := New(newClient(b, testAddr), WithKeyPrefix(prefix))
	to, _ := New(newClient(b, testAddr), WithKeyPrefix(prefix))
	defer to.Close()
	s := subscribe(b, to)
	ds := make([]time.Duration, 0, b.N)
	ev := translation("")
	for i := 0; b.Loop(); i++ {
		ev.ID = "bench-" + strconv.Itoa(i)
		start := time.Now()
		if _, err := (protocol{from}).Store(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
		<-s.ids
		ds = append(ds, time.Since(start))
	}
	singlebench.ReportLatencies(b, ds)
}

// BenchmarkBusStoreParallel measures Stores per second from many
// goroutines sharing one client, as the handlers of one replica do.
func BenchmarkBusStoreParallel(b *testing.B) {
	bus, _ := New(newClient(b, testAddr), WithKeyPrefix(testPrefix(b)))
	var seq atomic.Int64
	b.SetParallelism(8)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		ev := translation("")
		for pb.Next() {
			ev.ID = "bench-" + strconv.FormatInt(seq.Add(1), 10)
			if _, err := (protocol{bus}).Store(b.Context(), ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "stores/s")
}

// BenchmarkRedisMemoryPerEvent stores batches of terminal events and
// reports Redis's used_memory growth per event (both keys of a job), and
// MEMORY USAGE of one job's two keys.
func BenchmarkRedisMemoryPerEvent(b *testing.B) {
	needRealRedis(b)
	rdb := newClient(b, testAddr)
	bus, _ := New(rdb, WithKeyPrefix(testPrefix(b)))
	usedMemory := func() int64 {
		info, err := rdb.Info(b.Context(), "memory").Result()
		if err != nil {
			b.Fatal(err)
		}
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					b.Fatal(err)
				}
				return n
			}
		}
		b.Fatal("INFO memory has no used_memory")
		return 0
	}
	const batch = 1000
	before := usedMemory()
	ev := translation("")
	n := 0
	for b.Loop() {
		for range batch {
			ev.ID = fmt.Sprintf("mem-%08d", n)
			n++
			if _, err := (protocol{bus}).Store(b.Context(), ev); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(usedMemory()-before)/float64(n), "B/event")
	evBytes, err := rdb.MemoryUsage(b.Context(), bus.eventKey("mem-00000000")).Result()
	if err != nil {
		b.Fatal(err)
	}
	seenBytes, err := rdb.MemoryUsage(b.Context(), bus.seenKey("mem-00000000")).Result()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(evBytes), "B/event-key")
	b.ReportMetric(float64(seenBytes), "B/seen-key")
	b.ReportMetric(float64(len(ev.Result)), "B/result")
	// Leave the shared server as it was.
	keys, _ := rdb.Keys(b.Context(), bus.cfg.prefix+"*").Result()
	for chunk := range slices.Chunk(keys, 500) {
		rdb.Unlink(b.Context(), chunk...)
	}
}
