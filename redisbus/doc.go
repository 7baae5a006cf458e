// Package redisbus shares verified SharpAPI webhook events among the
// replicas of one service through Redis: it is a [sharpapi.EventBus].
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
//   - sharpapi:seen:{ID} = "1" for the dedup age (default 1 h,
//     [WithDedupAge]): the record that the job's terminal event was stored.
//     A SharpAPI retry, a replay, or the same delivery reaching two replicas
//     at once finds it and is reported as a duplicate. Non-terminal events
//     (new, pending) are deduplicated under sharpapi:seen:{ID}:STATUS and
//     neither kept nor published.
//   - sharpapi:ev:{ID} = the event as JSON ({"id","status","type","result"})
//     for the retention (default 10 min, [WithRetention]): what Load returns.
//     Store writes, and Load reads, no event larger than
//     [WithMaxEventSize] (default the handler's body cap plus 4 KiB): a
//     larger value, whoever wrote it, is refused without being read.
//   - channel sharpapi:done carries the bare job id of each stored terminal
//     event.
//
// The braces are Redis Cluster hash tags: both keys of one job live in the
// same slot, as a script on a cluster requires. (The tests run against a
// single server only.)
//
// # When Redis is down or slow
//
// Store fails when the script does not complete within the timeout
// (default 2 s, [WithTimeout]), whatever the client's own timeouts; the
// handler then answers 503 and SharpAPI retries the delivery later. It
// never falls back to routing locally: the event would then exist only on
// this replica and a retry would be dropped there as a duplicate.
//
// Give the bus a client with ContextTimeoutEnabled set: at the timeout the
// client then drops its connection, and Redis discards a script it had not
// yet run (the tests check this with CLIENT PAUSE on Redis 7). Without it
// the client waits for its own read timeout, and the script may still run
// after Store gave up: the event is then stored and published (waiters get
// it) but its retry is a duplicate, so the OnEvent hook does not run for
// it. The bus logs that case as a warning.
//
// Whoever can write to the Redis keys or publish on the channel can hand
// results to waiting jobs: treat access to Redis like the webhook secret.
package redisbus
