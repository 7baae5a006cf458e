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

// storeLua defines store(seen, ev, dedup, data, keep, channel, id,
// maxEvent), which records an event once and returns 1, or 0 when it was
// recorded before. seen is the dedup key; for a terminal event ev is the
// event key, data its JSON, keep the retention, channel the channel, id
// the job id and maxEvent the bus's max event size (ev is nil for a
// non-terminal event). The write and the publish run only when the dedup
// key was new, so an event is published at most once per dedup age
// however many replicas receive it, and a subscriber that hears the id
// finds the event already stored.
//
// One exception: when the dedup key exists but the event key holds a
// value Load would refuse (not a string, too large, not this job's
// terminal event as this bus writes it), it is replaced and published, so
// that a foreign or corrupted value stops no waiter; the reply is still
// 0, not stored. The check reads the value only when the dedup key
// exists, and never one larger than the max event size.
const storeLua = `
local function store(seen, ev, dedup, data, keep, channel, id, maxEvent)
  if not redis.call('SET', seen, '1', 'NX', 'PX', dedup) then
    if ev then
      local typ = redis.call('TYPE', ev)['ok']
      local bad = typ ~= 'none' and typ ~= 'string'
      if typ == 'string' then
        if redis.call('STRLEN', ev) > tonumber(maxEvent) then
          bad = true
        else
          local v = redis.call('GET', ev)
          local head = '{"id":"' .. id .. '","status":"'
          local rest = string.sub(v, #head + 1, #head + 8)
          local ok, w = pcall(cjson.decode, v)
          bad = string.sub(v, 1, #head) ~= head or
            (string.sub(rest, 1, 8) ~= 'success"' and string.sub(rest, 1, 7) ~= 'failed"') or
            not ok or type(w) ~= 'table'
        end
      end
      if bad then
        redis.call('DEL', ev)
        redis.call('SET', ev, data, 'PX', keep)
        redis.call('PUBLISH', channel, id)
      end
    end
    return 0
  end
  if ev then
    redis.call('SET', ev, data, 'PX', keep)
    redis.call('PUBLISH', channel, id)
  end
  return 1
end
`

// storeScript runs store: KEYS the dedup key and, for a terminal event,
// the event key; ARGV the dedup age and, for a terminal event, the
// event's JSON, the retention, the channel, the job id and the max event
// size.
var storeScript = redis.NewScript(storeLua + `
if #KEYS == 2 then
  return store(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
end
return store(KEYS[1], nil, ARGV[1])
`)

// busTag is the Redis Cluster hash tag of every key of a bus: the job's
// dedup and event keys and the ledger's share one slot, so that one script
// stores an event and takes its job's hook lease (Store then Begin in one
// round trip). A cluster then keeps a bus on one node, as BullMQ and asynq
// keep a queue: the bus's traffic, bounded by the account's rate limits,
// is far below what one Redis node serves.
const busTag = "{bus}:"

// The keys of one job. Ids contain no brace or colon (checkJobID), so no
// two jobs' keys collide, and seen:ID never meets seen:ID:STATUS.
func (b *Bus) seenKey(id string) string  { return b.cfg.prefix + busTag + "seen:" + id }
func (b *Bus) eventKey(id string) string { return b.cfg.prefix + busTag + "ev:" + id }

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
// ctx's deadline, or within DefaultTimeout if ctx has none.
func (b protocol) Store(ctx context.Context, ev eventbus.Event) (stored bool, err error) {
	keys, args, err := b.storeArgs(ev)
	if err != nil {
		return false, err
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

// storeArgs returns the keys and arguments of the store function for ev:
// the dedup key and age, and for a terminal event its key, JSON,
// retention, channel, job id and the max event size.
func (b *Bus) storeArgs(ev eventbus.Event) (keys []string, args []any, err error) {
	if err := checkJobID(ev.ID); err != nil {
		return nil, nil, fmt.Errorf("redisbus: not storing the event: %w", err)
	}
	keys = []string{b.seenKey(ev.ID)}
	args = []any{b.dedupMS}
	if !sharpapi.JobStatus(ev.Status).Terminal() {
		keys[0] += ":" + string(ev.Status)
		return keys, args, nil
	}
	data, err := encodeEvent(ev)
	if err != nil {
		return nil, nil, fmt.Errorf("redisbus: encoding the event of job %s: %w", ev.ID, err)
	}
	if len(data) > b.cfg.maxEvent {
		// No replica would load it.
		return nil, nil, fmt.Errorf("redisbus: not storing the event of job %s: it is %d bytes, more than the bus's limit of %d (WithMaxEventSize)",
			ev.ID, len(data), b.cfg.maxEvent)
	}
	keys = append(keys, b.eventKey(ev.ID))
	args = append(args, data, b.keepMS, b.channel, ev.ID, b.cfg.maxEvent)
	return keys, args, nil
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
// and is not read. Like Store, it returns by ctx's deadline, or within
// DefaultTimeout if ctx has none.
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

// bounded runs call and returns its result, or an error as soon as ctx
// ends, or fallback passes when ctx has no deadline (the handler always
// sets one: its WithPublishTimeout is the one knob). A client that honours
// context deadlines (inline) ends the call itself. Otherwise go-redis
// waits for its own read timeout, so call runs in a goroutine that
// finishes on its own and a result that arrives after the caller left goes
// to late, when not nil.
func bounded[T any](parent context.Context, fallback time.Duration, inline bool, call func(context.Context) (T, error), late func(T)) (T, error) {
	bound := fallback
	var (
		ctx    context.Context
		cancel context.CancelFunc
	)
	if dl, ok := parent.Deadline(); ok {
		bound = time.Until(dl)
		ctx, cancel = context.WithCancel(parent)
	} else {
		ctx, cancel = context.WithTimeout(parent, fallback)
	}
	var zero T
	// timedOut rewrites the error of a call that the bound ended, whatever
	// shape the client gave it (an i/o timeout names addresses).
	timedOut := func() error {
		if err := parent.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("no answer from Redis within %v: %w", bound.Round(time.Millisecond), context.DeadlineExceeded)
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
