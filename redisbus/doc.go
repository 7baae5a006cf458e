// Package redisbus shares verified SharpAPI webhook events among the
// replicas of one service through Redis: an event bus for
// [sharpapi.WithEventBus] (it implements package eventbus's protocol).
//
// A replica adds one option and nothing else:
//
//	bus, err := redisbus.New(rdb) // rdb: a redis.UniversalClient
//	hooks, err := sharpapi.NewWebhookHandler(secret, sharpapi.WithEventBus(bus))
//
// The design is "store once, then notify". The replica that receives a
// verified webhook runs one Lua script (one round trip) that records the
// event cluster-wide and, only if no replica recorded it before, keeps a
// terminal event under a key with a TTL and publishes its job id. Every
// replica's subscription hears the id; the one awaiting that job loads the
// event and the others ignore it, so no replica holds an event it never
// awaited. A waiter registers first and then looks in the store, so an
// event stored before anyone awaited it (an early webhook, a replica that
// restarted and resumed the job) is found without a status poll. After
// every (re)subscription the handler re-checks the store for all the ids
// it awaits: a notification lost while the connection was down costs
// nothing, because the key, not the message, is the source of truth.
//
// # What Redis holds
//
// With the default prefix "sharpapi:" and a job id ID:
//
//   - sharpapi:{bus}:seen:ID = "1" for the dedup age (default 1 h,
//     [WithDedupAge]): the record that the job's terminal event was stored.
//     A SharpAPI retry, a replay, or the same delivery reaching two replicas
//     at once finds it and is reported as a duplicate. Non-terminal events
//     (new, pending) are deduplicated under sharpapi:{bus}:seen:ID:STATUS and
//     neither kept nor published.
//   - sharpapi:{bus}:ev:ID = the event as JSON ({"id","status","type","result"})
//     for the retention (default 10 min, [WithRetention]): what Load returns.
//     Store writes, and Load reads, no event larger than
//     [WithMaxEventSize] (default the handler's body cap plus 4 KiB): a
//     larger value, whoever wrote it, is refused without being read.
//   - channel sharpapi:done carries the bare job id of each stored terminal
//     event.
//
// The braces are a Redis Cluster hash tag, the same for every key of the
// bus, the ledger's below included: one script stores a job's event and
// takes its hook lease, and a cluster runs a script only on keys of one
// slot. On a cluster, a bus therefore keeps all its keys on one node (as
// BullMQ and asynq keep a queue), whatever its prefix: its traffic,
// bounded by the SharpAPI plan's rate limits, is far below what one Redis
// node serves. The tests run against a single server and, through a
// *redis.ClusterClient, against a cluster of three masters.
//
// The layout changed before v1 (it was sharpapi:seen:{ID},
// sharpapi:ev:{ID} and sharpapi:{ledger}:…): replicas of a version with
// the old layout and one with this layout must not share a prefix, or
// neither finds the other's events. Deploy with a new prefix
// ([WithKeyPrefix]), or stop the old replicas first.
//
// # When Redis is down or slow
//
// Store fails when the script does not complete within the handler's
// publish timeout (sharpapi.WithPublishTimeout, default 2 s: the one knob;
// the bus bounds every call by its context's deadline, and by
// [DefaultTimeout] when a context has none), whatever the client's own
// timeouts; the handler then answers 503 and SharpAPI retries the delivery
// later. It never falls back to routing locally: the event would then exist only on
// this replica and a retry would be dropped there as a duplicate.
//
// The handler says an outage once (one Warn when it starts, one Info when
// it ends); go-redis logs each failed dial of its pool itself, through
// Go's standard log package: redis.SetLogger quiets it or sends it to
// your logger (any value with a Printf(ctx, format, args...) method).
//
// Give the bus a client with ContextTimeoutEnabled set: at the timeout the
// client then drops its connection, and Redis discards a script it had not
// yet run (the tests check this with CLIENT PAUSE on Redis 7). Without it
// the client waits for its own read timeout, and the script may still run
// after Store gave up: the event is then stored and published (waiters get
// it) but its retry is a duplicate, so the OnEvent hook does not run for
// it then; the ledger offers it to OnEvent once the job is overdue. The
// bus logs that case as a warning.
//
// # The pending-job ledger
//
// A Bus also keeps a ledger of the jobs dispatched with a webhook and not
// yet completed ([eventbus.Ledger]), which makes completion durable: a job
// whose webhook is lost completes even when the replica that dispatched it
// is gone, and OnEvent runs for every job in the cluster, exactly once when
// nothing crashes and at least once when a replica dies, or stalls past
// its lease, inside OnEvent (see [sharpapi.OnEvent]; make the hook
// idempotent on the job id). The handler uses it on its own; nothing else
// is to configure ([sharpapi.WithLedgerConfig] sets the timings).
//
//   - A client built with the handler records each job before its dispatch
//     returns: one script. The job is due at its dispatch time plus the
//     client's webhook grace.
//   - Whoever stores the job's terminal event (a webhook's receiver, an
//     await's poll, a sweeper's poll) takes the job's hook lease in the
//     script that stores the event, runs OnEvent, renewing the lease, and
//     acks the job once OnEvent has returned nil (one script). An error or
//     a panic releases it to be offered again after a backoff.
//   - Every replica with a client sweeps: it claims the due entries with a
//     lease (a replica that dies holding a claim loses it when the lease
//     ends), offers an event stored but never acked to OnEvent again, and
//     polls the others through its client's rate limiter, storing a
//     terminal outcome as a webhook would (so waiters on any replica get
//     it). A job still running is released with a backoff; a job older
//     than MaxAge, or unknown to SharpAPI, is given up with a Warn.
//
// Costs: a job whose webhook arrives in time costs two more round trips
// than without the ledger (record and ack: the lease comes with the
// store), four in all with the waiter's look in the store, and no status
// poll; a sweep costs one script when nothing is due, whatever the size
// of the ledger (a sorted set by due time), and O(log N) plus a few
// commands per due entry otherwise. [Bus.LedgerStats] reports the
// ledger's size and backlog.
//
// Keys, under the bus's hash tag as above:
//
//   - sharpapi:{bus}:due: a sorted set of pending job ids, scored by the
//     time (Unix ms) of each one's next action: due, end of a claim or of a
//     hook lease, next try.
//   - sharpapi:{bus}:j:ID: a hash of the job's status URL, type, dispatch
//     time, API key fingerprint, trace (when at most 128 bytes), fencing
//     token, claim and OnEvent counts, and live lease; it expires an hour
//     after the job's MaxAge. Once the job is
//     acked, a tombstone for the retention (default 10 min), so that a late
//     record or lease request does nothing.
//   - sharpapi:{bus}:dead: the latest 10 000 given-up job ids, scored by
//     the time given up.
//
// The ledger is only as durable as Redis. A Redis restarted without
// persistence loses it (and the events and dedup records): jobs whose
// webhooks were lost by then, and whose dispatching replica is gone, never
// reach OnEvent (their results stay at SharpAPI; ResumeJob reads them).
// Run Redis with appendonly yes: appendfsync everysec may lose the last
// second (a record: that job is not durable; an ack: OnEvent runs again),
// always loses nothing Redis acknowledged. Keep maxmemory-policy
// noeviction: evicting a ledger key loses a job or re-runs OnEvent. After
// a failover to a replica that missed recent writes, the same holds.
// Schedules use each replica's clock: keep them in sync (NTP), well within
// the leases (minutes).
//
// Whoever can write to the Redis keys or publish on the channel can hand
// results to waiting jobs: treat access to Redis like the webhook secret.
package redisbus
