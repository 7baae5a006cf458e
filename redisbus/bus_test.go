package redisbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
)

func event(id string, status sharpapi.JobStatus, result string) eventbus.Event {
	ev := eventbus.Event{ID: id, Status: string(status), Type: "content_translate"}
	if result != "" {
		ev.Result = json.RawMessage(result)
	}
	return ev
}

// published collects what the bus publishes on its channel, read in order
// up to a marker published after the calls under test: no waiting on time.
type published struct {
	t   *testing.T
	rdb *redis.Client
	ch  string
	ps  *redis.PubSub
}

func listenTo(t *testing.T, rdb *redis.Client, b *Bus) *published {
	t.Helper()
	ps := rdb.Subscribe(t.Context(), b.channel)
	t.Cleanup(func() { ps.Close() })
	if _, err := ps.Receive(t.Context()); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	return &published{t: t, rdb: rdb, ch: b.channel, ps: ps}
}

// ids returns the ids published since the last call.
func (p *published) ids() []string {
	p.t.Helper()
	const marker = "--marker--"
	if err := p.rdb.Publish(p.t.Context(), p.ch, marker).Err(); err != nil {
		p.t.Fatal(err)
	}
	var ids []string
	for {
		m, err := p.ps.ReceiveMessage(p.t.Context())
		if err != nil {
			p.t.Fatal(err)
		}
		if m.Payload == marker {
			return ids
		}
		ids = append(ids, m.Payload)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	rdb := newClient(t, testAddr)
	cases := map[string]struct {
		rdb  redis.UniversalClient
		opts []Option
	}{
		"nil client":            {nil, nil},
		"empty prefix":          {rdb, []Option{WithKeyPrefix("")}},
		"prefix with a brace":   {rdb, []Option{WithKeyPrefix("app{1}:")}},
		"zero retention":        {rdb, []Option{WithRetention(0)}},
		"sub-millisecond dedup": {rdb, []Option{WithDedupAge(time.Microsecond)}},
		"negative timeout":      {rdb, []Option{WithTimeout(-time.Second)}},
		"dedup below retention": {rdb, []Option{WithRetention(time.Hour), WithDedupAge(time.Minute)}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := New(c.rdb, c.opts...)
			if !errors.Is(err, sharpapi.ErrInvalidOption) {
				t.Fatalf("New = %v, %v; want an error wrapping ErrInvalidOption", b, err)
			}
			if strings.Count(err.Error(), "sharpapi: ") != 1 {
				t.Errorf("error %q: want the prefix exactly once", err)
			}
		})
	}
}

func TestStoreRecordsAnEventOnce(t *testing.T) {
	rdb := newClient(t, testAddr)
	b := newBus(t, rdb)
	pub := listenTo(t, rdb, b)
	ev := event("job-1", sharpapi.JobStatusSuccess, `{"content":"hola"}`)
	for i, want := range []bool{true, false, false} {
		stored, err := (protocol{b}).Store(t.Context(), ev)
		if err != nil || stored != want {
			t.Fatalf("Store #%d = %v, %v; want %v, nil", i+1, stored, err, want)
		}
	}
	// A job ends once: a terminal event of another status is a duplicate too.
	if stored, err := (protocol{b}).Store(t.Context(), event("job-1", sharpapi.JobStatusFailed, "null")); err != nil || stored {
		t.Fatalf("Store of a second terminal status = %v, %v; want false, nil", stored, err)
	}
	if diff := cmp.Diff([]string{"job-1"}, pub.ids()); diff != "" {
		t.Errorf("published ids (-want +got):\n%s", diff)
	}
}

func TestStoreOnlyDeduplicatesNonTerminalEvents(t *testing.T) {
	rdb := newClient(t, testAddr)
	b := newBus(t, rdb)
	pub := listenTo(t, rdb, b)
	for _, c := range []struct {
		status sharpapi.JobStatus
		want   bool
	}{{"pending", true}, {"pending", false}, {"new", true}, {"processing-42", true}, {"new", false}} {
		stored, err := (protocol{b}).Store(t.Context(), event("job-2", c.status, ""))
		if err != nil || stored != c.want {
			t.Fatalf("Store(%s) = %v, %v; want %v, nil", c.status, stored, err, c.want)
		}
	}
	if ids := pub.ids(); len(ids) != 0 {
		t.Errorf("published %q for non-terminal events; want nothing", ids)
	}
	if _, found, err := (protocol{b}).Load(t.Context(), "job-2"); err != nil || found {
		t.Errorf("Load after non-terminal events = found %v, %v; want nothing kept", found, err)
	}
	// The terminal event that follows is stored and published.
	if stored, err := (protocol{b}).Store(t.Context(), event("job-2", sharpapi.JobStatusSuccess, "{}")); err != nil || !stored {
		t.Fatalf("Store(success) = %v, %v; want true, nil", stored, err)
	}
	if diff := cmp.Diff([]string{"job-2"}, pub.ids()); diff != "" {
		t.Errorf("published ids (-want +got):\n%s", diff)
	}
}

func TestLoadReturnsTheStoredEvent(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	for _, ev := range []eventbus.Event{
		event("job-3", sharpapi.JobStatusSuccess, `{"html":"<b>a & b</b>","n":[1,2]}`),
		event("job-4", sharpapi.JobStatusFailed, "null"),
		event("job-5", sharpapi.JobStatusSuccess, ""), // the account sends no results
	} {
		if _, found, err := (protocol{b}).Load(t.Context(), ev.ID); err != nil || found {
			t.Fatalf("Load(%s) before Store = found %v, %v; want not found", ev.ID, found, err)
		}
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
}

func TestStoreSetsTheTTLs(t *testing.T) {
	rdb := newClient(t, testAddr)
	const keep, dedup = 90 * time.Second, 2 * time.Hour
	b := newBus(t, rdb, WithRetention(keep), WithDedupAge(dedup))
	if _, err := (protocol{b}).Store(t.Context(), event("job-6", sharpapi.JobStatusSuccess, "{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := (protocol{b}).Store(t.Context(), event("job-6", "pending", "")); err != nil {
		t.Fatal(err)
	}
	for key, max := range map[string]time.Duration{
		b.eventKey("job-6"):             keep,
		b.seenKey("job-6"):              dedup,
		b.seenKey("job-6") + ":pending": dedup,
	} {
		ttl, err := rdb.PTTL(t.Context(), key).Result()
		if err != nil {
			t.Fatal(err)
		}
		// Bounds, not timing: the TTL is set and is the configured one,
		// give or take the minute a slow test run could take.
		if ttl > max || ttl < max-time.Minute {
			t.Errorf("PTTL %s = %v; want about %v", key, ttl, max)
		}
	}
}

func TestLoadRejectsWhatItDidNotStore(t *testing.T) {
	rdb := newClient(t, testAddr)
	b := newBus(t, rdb)
	for value, want := range map[string]string{
		`not json`: "not valid",
		`{"id":"job-8","status":"success","type":"t"}`: "another job",
		`{"id":"job-7","status":"pending","type":"t"}`: "another job or status",
	} {
		if err := rdb.Set(t.Context(), b.eventKey("job-7"), value, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		_, found, err := (protocol{b}).Load(t.Context(), "job-7")
		if err == nil || found || !strings.Contains(err.Error(), want) {
			t.Errorf("Load of %s = found %v, %v; want an error saying %q", value, found, err, want)
		}
	}
	for _, id := range []string{"", "a:b", "{x}", strings.Repeat("x", 129)} {
		if _, err := (protocol{b}).Store(t.Context(), event(id, sharpapi.JobStatusSuccess, "{}")); err == nil {
			t.Errorf("Store with id %q: no error", id)
		}
		if _, _, err := (protocol{b}).Load(t.Context(), id); err == nil {
			t.Errorf("Load with id %q: no error", id)
		}
	}
}

// subscriber records a subscription's callbacks.
type subscriber struct {
	ids     chan string
	resyncs chan struct{}
}

func subscribe(t testing.TB, b *Bus) *subscriber {
	t.Helper()
	s := &subscriber{ids: make(chan string, 1<<14), resyncs: make(chan struct{}, 64)}
	if err := (protocol{b}).Subscribe(func(id string) { s.ids <- id }, func() { s.resyncs <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	recv(t, s.resyncs, "the first resync")
	return s
}

func TestSubscribeNotifiesStoredTerminalEvents(t *testing.T) {
	rdb := newClient(t, testAddr)
	b := newBus(t, rdb)
	s := subscribe(t, b)
	other := newBus(t, rdb, WithKeyPrefix(b.cfg.prefix)) // another replica
	if _, err := (protocol{other}).Store(t.Context(), event("job-9", "pending", "")); err != nil {
		t.Fatal(err)
	}
	// What is not a job id is ignored, whoever published it.
	if err := rdb.Publish(t.Context(), b.channel, "not an id!").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := (protocol{other}).Store(t.Context(), event("job-9", sharpapi.JobStatusSuccess, "{}")); err != nil {
		t.Fatal(err)
	}
	if id := recv(t, s.ids, "a notification"); id != "job-9" {
		t.Errorf("notified %q; want job-9", id)
	}
}

func TestSubscribeMisuse(t *testing.T) {
	b := newBus(t, newClient(t, testAddr))
	if err := (protocol{b}).Subscribe(nil, func() {}); err == nil {
		t.Error("Subscribe with a nil notify: no error")
	}
	subscribe(t, b)
	if err := (protocol{b}).Subscribe(func(string) {}, func() {}); err == nil {
		t.Error("second Subscribe: no error")
	}
	b.Close()
	c := newBus(t, newClient(t, testAddr))
	c.Close()
	if err := (protocol{c}).Subscribe(func(string) {}, func() {}); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close = %v; want ErrClosed", err)
	}
}

func TestResyncAfterThePubsubConnectionIsKilled(t *testing.T) {
	needRealRedis(t)
	rdb := newClient(t, testAddr)
	b := newBus(t, rdb)
	s := subscribe(t, b)
	if err := rdb.ClientKillByFilter(t.Context(), "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	recv(t, s.resyncs, "the resync after the kill")
	if _, err := (protocol{b}).Store(t.Context(), event("job-10", sharpapi.JobStatusSuccess, "{}")); err != nil {
		t.Fatal(err)
	}
	if id := recv(t, s.ids, "a notification on the new connection"); id != "job-10" {
		t.Errorf("notified %q; want job-10", id)
	}
}

func TestResyncAfterRedisRestarts(t *testing.T) {
	srv := ownRedis(t)
	rdb := newClient(t, srv.addr)
	b := newBus(t, rdb)
	s := subscribe(t, b)
	srv.restart(t)
	recv(t, s.resyncs, "the resync after the restart")
	if _, err := (protocol{b}).Store(t.Context(), event("job-11", sharpapi.JobStatusSuccess, "{}")); err != nil {
		t.Fatal(err)
	}
	if id := recv(t, s.ids, "a notification after the restart"); id != "job-11" {
		t.Errorf("notified %q; want job-11", id)
	}
}

// logLines is a slog.Handler that sends each message to a channel.
type logLines chan string

func (l logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l logLines) Handle(_ context.Context, r slog.Record) error {
	l <- r.Message
	return nil
}
func (l logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logLines) WithGroup(string) slog.Handler      { return l }

// TestStoreFailsWithinItsTimeoutWhileRedisIsPaused covers both kinds of
// client: one whose commands end at their context's deadline, and one whose
// commands wait for its read timeout (go-redis's default), for which the
// bus alone bounds Store.
func TestStoreFailsWithinItsTimeoutWhileRedisIsPaused(t *testing.T) {
	needRealRedis(t)
	for _, honours := range []bool{false, true} {
		t.Run(fmt.Sprintf("ContextTimeoutEnabled=%v", honours), func(t *testing.T) {
			admin := newClient(t, testAddr)
			logs := make(logLines, 16)
			rdb := redis.NewClient(&redis.Options{Addr: testAddr, ContextTimeoutEnabled: honours})
			t.Cleanup(func() { rdb.Close() })
			b := newBus(t, rdb, WithTimeout(200*time.Millisecond), WithLogger(slog.New(logs)))
			if b.inline != honours {
				t.Fatalf("bus.inline = %v for ContextTimeoutEnabled=%v", b.inline, honours)
			}
			// WRITE mode blocks every script but lets the admin client unpause.
			if err := admin.Do(t.Context(), "CLIENT", "PAUSE", 3000, "WRITE").Err(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { admin.Do(context.Background(), "CLIENT", "UNPAUSE") })
			// The caller's context has no deadline: the bus's own bound ends the call.
			stored, err := (protocol{b}).Store(context.Background(), event("job-12", sharpapi.JobStatusSuccess, "{}"))
			if !errors.Is(err, context.DeadlineExceeded) || stored {
				t.Fatalf("Store while paused = %v, %v; want an error wrapping DeadlineExceeded", stored, err)
			}
			if want := "redisbus: storing the event of job job-12: no answer from Redis within 200ms: context deadline exceeded"; err.Error() != want {
				t.Errorf("error:\n%s\nwant:\n%s", err, want)
			}
			if err := admin.Do(t.Context(), "CLIENT", "UNPAUSE").Err(); err != nil {
				t.Fatal(err)
			}
			if honours {
				// The client dropped the connection: Redis discards the script.
				if stored, err := (protocol{b}).Store(t.Context(), event("job-12", sharpapi.JobStatusSuccess, "{}")); err != nil || !stored {
					t.Errorf("the retry's Store = %v, %v; want it stored", stored, err)
				}
				return
			}
			// The script was sent on a connection that stays open: when Redis
			// resumes it runs, and the bus says so.
			if msg := recv(t, logs, "the late-store warning"); !strings.Contains(msg, "stored after its Store timed out") {
				t.Errorf("log line %q; want the late-store warning", msg)
			}
			if stored, err := (protocol{b}).Store(t.Context(), event("job-12", sharpapi.JobStatusSuccess, "{}")); err != nil || stored {
				t.Errorf("the retry's Store = %v, %v; want a duplicate", stored, err)
			}
		})
	}
}

func TestCloseStopsTheSubscription(t *testing.T) {
	rdb := newClient(t, testAddr)
	if err := rdb.Ping(t.Context()).Err(); err != nil { // the pool's goroutines, if any, start now
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	b := newBus(t, rdb)
	subscribe(t, b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	waitFor(t, "the goroutines to return", func() bool { return runtime.NumGoroutine() <= before })
}
