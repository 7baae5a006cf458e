// Package eventbus is the protocol between a sharpapi.WebhookHandler and an
// event bus that shares verified webhook events among the replicas of one
// service: for implementers of a bus. Package redisbus implements it over
// Redis. Users of the SDK need none of these names: they pass a bus to
// sharpapi.WithEventBus (redisbus.New returns one) and tune the ledger with
// sharpapi.WithLedgerConfig.
//
// A [Bus] stores and announces events; a bus may also keep a [Ledger] of
// the jobs still pending, which the handler detects and uses to make
// completion durable across replicas.
//
// The package stands beside sharpapi the way database/sql/driver stands
// beside database/sql: sharpapi imports it, it imports nothing of sharpapi,
// so a job's type and status are plain strings here (the values of
// sharpapi.JobType and sharpapi.JobStatus).
package eventbus
