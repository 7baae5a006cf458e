package redisbus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/eventbus"
)

// ErrClosed is returned by Subscribe after Close.
var ErrClosed = errors.New("redisbus: bus closed")

// Bus shares webhook events among replicas through Redis; see the package
// doc for what it stores. Give it to one WebhookHandler per replica with
// [sharpapi.WithEventBus], which is all a user does with it: the handler
// subscribes, and its Close ends the subscription (Close does the same).
// A Bus is safe for concurrent use.
type Bus struct {
	rdb     redis.UniversalClient
	cfg     config
	channel string
	dedupMS string // the dedup age and the retention as PX arguments
	keepMS  string
	inline  bool // rdb honours context deadlines: no goroutine per call
	// clockChecked is when (Unix ns) a sweep last compared this
	// replica's clock with Redis's (clock.go).
	clockChecked atomic.Int64

	mu     sync.Mutex
	ps     *redis.PubSub // nil until Subscribe
	cancel context.CancelFunc
	done   chan struct{} // closed when the subscription's goroutine returns
	closed bool
}

// New returns a Bus that keeps its keys in rdb, which may be a
// *redis.Client, a *redis.ClusterClient or a failover client. The Bus does
// not close rdb. A nil rdb or an invalid option is an error wrapping
// [sharpapi.ErrInvalidOption].
func New(rdb redis.UniversalClient, opts ...Option) (*Bus, error) {
	if rdb == nil {
		return nil, invalidOption("redisbus.New needs a Redis client, got nil")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.dedupAge < cfg.retention {
		// A retry arriving after its dedup record but before its event
		// expired would be stored and published a second time.
		return nil, invalidOption("redisbus dedup age %v is shorter than the retention %v", cfg.dedupAge, cfg.retention)
	}
	return &Bus{
		rdb:     rdb,
		cfg:     cfg,
		channel: cfg.prefix + "done",
		dedupMS: strconv.FormatInt(cfg.dedupAge.Milliseconds(), 10),
		keepMS:  strconv.FormatInt(cfg.retention.Milliseconds(), 10),
		inline:  honoursDeadlines(rdb),
	}, nil
}

// honoursDeadlines reports whether rdb's commands end at their context's
// deadline, which go-redis does only with ContextTimeoutEnabled.
func honoursDeadlines(rdb redis.UniversalClient) bool {
	switch c := rdb.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// storeScript records an event once. KEYS[1] is the dedup key; for a
// terminal event KEYS[2] is the event key, ARGV[2] its JSON, ARGV[3] the
// retention, ARGV[4] the channel and ARGV[5] the job id. The write and the
// publish run only when the dedup key was new, so an event is published
// at most once per dedup age however many replicas receive it, and a
// subscriber that hears the id finds the event already stored.
var storeScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
if #KEYS == 2 then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
return 1
`)

// The keys of one job. The {id} hash tag keeps them in one cluster slot;
// ids contain no brace or colon (checkJobID), so no two jobs' keys collide.
func (b *Bus) seenKey(id string) string  { return b.cfg.prefix + "seen:{" + id + "}" }
func (b *Bus) eventKey(id string) string { return b.cfg.prefix + "ev:{" + id + "}" }

// wireEvent is the stored form of a sharpapi.WebhookEvent, with explicit
// names so that the format does not follow the core type's field names.
// TP, the event's Trace (the delivery's traceparent, with a tracing
// observer), is optional: replicas that predate it ignore it, and an event
// they stored has none.
type wireEvent struct {
	ID     string             `json:"id"`
	Status sharpapi.JobStatus `json:"status"`
	Type   sharpapi.JobType   `json:"type"`
	Result json.RawMessage    `json:"result,omitempty"`
	TP     string             `json:"tp,omitempty"`
}

func encodeEvent(ev eventbus.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Keep the result's <, > and & as SharpAPI sent them.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(wireEvent{ID: ev.ID, Status: sharpapi.JobStatus(ev.Status), Type: sharpapi.JobType(ev.Type), Result: ev.Result, TP: ev.Trace}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Store records ev cluster-wide, once; see [eventbus.Bus]. A terminal
// event's job shares one dedup record whatever its status (a job ends
// once); a non-terminal one is deduplicated per status and not kept.
// stored is false for an event recorded before. Store returns within the
// bus's timeout even if ctx has no deadline.
func (b protocol) Store(ctx context.Context, ev eventbus.Event) (stored bool, err error) {
	if err := checkJobID(ev.ID); err != nil {
		return false, fmt.Errorf("redisbus: not storing the event: %w", err)
	}
	keys := []string{b.seenKey(ev.ID)}
	args := []any{b.dedupMS}
	if sharpapi.JobStatus(ev.Status).Terminal() {
		data, err := encodeEvent(ev)
		if err != nil {
			return false, fmt.Errorf("redisbus: encoding the event of job %s: %w", ev.ID, err)
		}
		if len(data) > b.cfg.maxEvent {
			// No replica would load it.
			return false, fmt.Errorf("redisbus: not storing the event of job %s: it is %d bytes, more than the bus's limit of %d (WithMaxEventSize)",
				ev.ID, len(data), b.cfg.maxEvent)
		}
		keys = append(keys, b.eventKey(ev.ID))
		args = append(args, data, b.keepMS, b.channel, ev.ID)
	} else {
		keys[0] += ":" + string(ev.Status)
	}
	n, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (int64, error) {
		return storeScript.Run(ctx, b.rdb, keys, args...).Int64()
	}, func(n int64) {
		if n == 1 && sharpapi.JobStatus(ev.Status).Terminal() {
			b.logLateStore(ev)
		}
	})
	if err != nil {
		return false, fmt.Errorf("redisbus: storing the event of job %s: %w", ev.ID, err)
	}
	return n == 1, nil
}

func (b *Bus) logLateStore(ev eventbus.Event) {
	if b.cfg.log == nil {
		return
	}
	b.cfg.log.LogAttrs(context.Background(), slog.LevelWarn,
		"redisbus: event stored after its Store timed out; waiters get it, but its retry is a duplicate: OnEvent runs for it only when the ledger's sweep offers it, once the job is overdue",
		slog.String("job_id", ev.ID), slog.String("job_status", string(ev.Status)))
}

// loadScript returns the value of KEYS[1] if it is at most ARGV[1] bytes
// long, and otherwise only its length (an integer): Load never reads a
// value it would refuse. One script, so that the key cannot grow between
// the check and the read.
var loadScript = redis.NewScript(`
local n = redis.call('STRLEN', KEYS[1])
if n > tonumber(ARGV[1]) then
  return n
end
return redis.call('GET', KEYS[1])
`)

// Load returns the stored terminal event of jobID; see
// [eventbus.Bus]. found is false when none is stored. A stored value
// larger than the bus's max event size ([WithMaxEventSize]) is an error,
// and is not read. Like Store, it returns within the bus's timeout.
func (b protocol) Load(ctx context.Context, jobID string) (ev eventbus.Event, found bool, err error) {
	if err := checkJobID(jobID); err != nil {
		return ev, false, fmt.Errorf("redisbus: not loading an event: %w", err)
	}
	type loaded struct {
		data []byte
		size int64 // of a value too large to read
	}
	got, err := bounded(ctx, b.cfg.timeout, b.inline, func(ctx context.Context) (loaded, error) {
		v, err := loadScript.Run(ctx, b.rdb, []string{b.eventKey(jobID)}, b.cfg.maxEvent).Result()
		switch v := v.(type) {
		case string:
			return loaded{data: []byte(v)}, nil
		case int64:
			return loaded{size: v}, nil
		}
		if err == nil {
			err = fmt.Errorf("unexpected reply of type %T", v)
		}
		return loaded{}, err // redis.Nil: no such key
	}, nil)
	if errors.Is(err, redis.Nil) {
		return ev, false, nil
	}
	if err != nil {
		return ev, false, fmt.Errorf("redisbus: loading the event of job %s: %w", jobID, err)
	}
	if got.size > 0 {
		return ev, false, fmt.Errorf("redisbus: the stored event of job %s is %d bytes, more than the bus's limit of %d (WithMaxEventSize): not read",
			jobID, got.size, b.cfg.maxEvent)
	}
	data := got.data
	var w wireEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return ev, false, fmt.Errorf("redisbus: the stored event of job %s is not valid: %w", jobID, err)
	}
	if w.ID != jobID || !w.Status.Terminal() {
		// Someone else wrote the key: never hand one job's result to another.
		return ev, false, fmt.Errorf("redisbus: the stored event of job %s is not valid: it is a %s event of another job or status", jobID, quote(string(w.Status)))
	}
	return eventbus.Event{ID: w.ID, Status: string(w.Status), Type: string(w.Type), Result: w.Result, Trace: w.TP}, true, nil
}

// maxQuoted bounds a value quoted in an error: values read from Redis may
// be of any size, and the handler logs the error at every retry.
const maxQuoted = 64

// quote quotes s for an error message: at most maxQuoted bytes of it, then
// its length.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxQuoted]) + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// bounded runs call and returns its result, or an error as soon as ctx ends
// or timeout passes. A client that honours context deadlines (inline) ends
// the call itself. Otherwise go-redis waits for its own read timeout, so
// call runs in a goroutine that finishes on its own and a result that
// arrives after the caller left goes to late, when not nil.
func bounded[T any](parent context.Context, timeout time.Duration, inline bool, call func(context.Context) (T, error), late func(T)) (T, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	var zero T
	// timedOut rewrites the error of a call that the bound ended, whatever
	// shape the client gave it (an i/o timeout names addresses).
	timedOut := func() error {
		if err := parent.Err(); err != nil {
			return err
		}
		return fmt.Errorf("no answer from Redis within %v: %w", timeout, context.DeadlineExceeded)
	}
	if inline {
		defer cancel()
		v, err := call(ctx)
		if err != nil && ctx.Err() != nil {
			return zero, timedOut()
		}
		return v, err
	}
	type result struct {
		v   T
		err error
	}
	var taken atomic.Bool // set by whichever side gives up on the other first
	ch := make(chan result, 1)
	go func() {
		defer cancel()
		// The call outlives the bound, so that it ends in a known state
		// that late reports: the client's command would ignore the
		// deadline anyway, but a follow-up (EVAL after NOSCRIPT) would not.
		v, err := call(context.WithoutCancel(ctx))
		if !taken.CompareAndSwap(false, true) {
			if err == nil && late != nil {
				late(v)
			}
			return
		}
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		if !taken.CompareAndSwap(false, true) {
			r := <-ch // the call finished first: its result is on its way
			return r.v, r.err
		}
		return zero, timedOut()
	}
}
