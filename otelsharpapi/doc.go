// Package otelsharpapi reports what the sharpapi SDK does as OpenTelemetry
// traces and metrics: one span per job from its dispatch to its outcome,
// a child span per HTTP attempt, a span per webhook delivery linked to the
// job it completes (across replicas too, through redisbus), and metrics
// for job durations, pending jobs, polls, deliveries, 429s, rate-limiter
// waits, event-bus errors and the pending-job ledger. Two lines wire it:
//
//	obs := otelsharpapi.New() // the global providers; see the options
//	client, err := sharpapi.NewClient(key, sharpapi.WithObserver(obs), ...)
//	hooks, err := sharpapi.NewWebhookHandler(secret, sharpapi.WithObserver(obs), ...)
//
// It goes through the core's [observe.Observer] seam, so the sharpapi
// module itself depends on no OpenTelemetry package.
//
// # Traces
//
//	sharpapi.job {type}      INTERNAL, child of the dispatch's ctx span
//	├── POST                 CLIENT, the dispatch (one span per attempt)
//	├── sharpapi.ledger.record  INTERNAL, the job's record in the ledger (with a bus that has one)
//	├── GET                  CLIENT, each status poll (fallback only)
//	├── sharpapi.on_event    INTERNAL, OnEvent for an outcome this job's own poll found
//	│   events: sharpapi.limiter.hold, sharpapi.webhook.received,
//	│           sharpapi.webhook.grace_expired, sharpapi.await.ended,
//	│           sharpapi.ledger.record_failed
//	└── link → sharpapi.webhook (the delivery that brought the outcome)
//	sharpapi.webhook         CONSUMER, a root (child of an otelhttp server span);
//	├── sharpapi.on_event    INTERNAL, the OnEvent run for the delivered event
//	│   └── link → sharpapi.job {type} (with a ledger, as the delivery's)
//	├── link → the request's traceparent, once the signature verified
//	└── link → sharpapi.job {type} (with a ledger: the job's span, on the replica that dispatched it)
//	sharpapi.ledger.complete INTERNAL, a root: a sweeper's work for a claimed entry
//	├── GET                  CLIENT, its status poll
//	├── sharpapi.on_event    INTERNAL, the OnEvent run that follows
//	└── link → sharpapi.job {type} (the job's span, on the replica that dispatched it)
//
// sharpapi.on_event is one OnEvent run; the context OnEvent gets carries
// it, so that spans OnEvent starts are its children. Its attributes: the
// job's id, type and status, sharpapi.hook.outcome and error.type
// ("panic" for a panic, else one of the fixed list of the metrics below); under the ledger also
// sharpapi.hook.runs, the run's number (above 1: the event is offered
// again). The outcomes: with a ledger acked, stale_ack (the lease had
// passed to another replica: OnEvent probably ran twice), ack_failed,
// released (OnEvent failed or panicked: offered again after a backoff),
// gave_up (it failed for the MaxHookRuns-th time); without one ok or
// failed. A run offered again by a sweeper from the store is a child of
// its sharpapi.ledger.complete span, and links to the delivery.
//
// sharpapi.ledger.complete carries the job's id and type,
// sharpapi.ledger.tries (the entry's claims), sharpapi.ledger.claim.outcome
// (completed, released, gave_up), sharpapi.ledger.completed_via (poll,
// store), sharpapi.ledger.reason (a give-up's) and error.type. Its link to
// the job's span comes from the ledger entry: the dispatching replica
// records its job span's traceparent with the job
// (eventbus.PendingJob.Trace), and the sweeper's replica links to it once
// it parsed as a well-formed traceparent. The dispatching replica may have
// died before exporting the job span itself: its POST and
// sharpapi.ledger.record spans, ended during the dispatch, are exported.
//
// The job span's attributes: sharpapi.job.id, sharpapi.job.type,
// sharpapi.job.webhook, sharpapi.job.resumed, sharpapi.job.outcome
// (success, failed, error, cancelled), sharpapi.job.completed_via
// (webhook, poll, store), sharpapi.job.polls and error.type. Its status is
// Error for a failed job or an error, never for a cancelled await. The span
// ends when the job's outcome is known here, or when every await of it
// ended without one (outcome cancelled; awaiting it again starts a new
// span with sharpapi.job.resumed). A job that is dispatched and never
// awaited is never ended, so never exported.
//
// HTTP spans follow the stable HTTP client conventions: named by method,
// with http.request.method, url.full (no user info, no query), url.template
// (the job id as {id}), server.address, server.port,
// http.response.status_code, http.request.resend_count and error.type;
// plus sharpapi.request.kind (dispatch, poll, call). No trace header is
// added to requests sent to SharpAPI, which ignores them. Do not also wrap
// the client's transport in otelhttp: each attempt would be traced twice.
//
// The delivery span carries sharpapi.webhook.outcome (delivered, stored,
// duplicate, rejected_signature, ...: [observe.DeliveryOutcome]),
// http.response.status_code and, once the signature is verified, the job's
// id, type and status. Never the body, never the signature. Its status is
// Error when the delivery is answered 4xx or 5xx.
//
// # Across replicas
//
// SharpAPI sends no trace header with its webhooks, so a delivery's span
// starts a trace of its own. A webhook receiver is a public endpoint: a
// traceparent a request brings is linked to only once its signature
// verified, never a parent (but with [WithTrustedDeliveries]); a span an
// otelhttp middleware put in the request's context is the parent. The job's span links to it:
// the handler gives the event the delivery span's W3C traceparent
// ([sharpapi.WebhookEvent].Trace), redisbus stores it with the event (an
// optional field that older replicas ignore), and the replica whose job the
// event completes adds a link to it, with no extra round trip. Both spans
// also carry sharpapi.job.id.
//
// The other way, the delivery span links to the job's span (link
// attribute sharpapi.link=job) wherever the job was dispatched, when the
// handler has an OnEvent hook and a bus with a ledger (redisbus): the
// dispatching replica records its job span's traceparent with the job's
// ledger entry, and the replica that stores the event reads it back as it
// takes the job's OnEvent lease, in the same script, so it costs no round
// trip. It is linked once it parsed as a well-formed traceparent (the
// ledger is in Redis: anything may be there), else dropped. The OnEvent
// run's span, the delivery's child, links to the job the same way. Without
// an OnEvent hook the store reads no ledger entry, and a delivery on
// another replica than the job's has no link to it (the job's link to the
// delivery still joins them).
//
// # Metrics
//
// Under the meter named [ScopeName]; no attribute carries a job id or a URL:
//
//	sharpapi.job.duration                    histogram  s          sharpapi.job.type, sharpapi.job.outcome, sharpapi.job.completed_via, error.type
//	sharpapi.job.pending                     up-down    {job}      sharpapi.job.type
//	sharpapi.job.polls                       histogram  {poll}     sharpapi.job.type, sharpapi.job.outcome, sharpapi.job.completed_via
//	sharpapi.webhook.deliveries              counter    {delivery} sharpapi.webhook.outcome, http.response.status_code
//	sharpapi.client.rate_limited_responses   counter    {response} sharpapi.request.kind
//	sharpapi.limiter.wait.duration           histogram  s          sharpapi.request.kind, sharpapi.limiter.reason, sharpapi.limiter.gave_up
//	sharpapi.bus.errors                      counter    {error}    sharpapi.bus.operation, error.type
//	http.client.request.duration             histogram  s          http.request.method, http.response.status_code, server.address, server.port, error.type, sharpapi.request.kind
//	sharpapi.ledger.records                  counter    {job}      sharpapi.ledger.result (ok, error)
//	sharpapi.ledger.sweeps                   counter    {sweep}
//	sharpapi.ledger.claims                   counter    {job}
//	sharpapi.ledger.completions              counter    {job}      sharpapi.ledger.completed_via (poll, store)
//	sharpapi.ledger.hook_redeliveries        counter    {run}
//	sharpapi.ledger.stale_acks               counter    {ack}
//	sharpapi.ledger.give_ups                 counter    {job}      sharpapi.ledger.reason (max_age, not_found, hook_runs, invalid_id, malformed, too_large, no_client)
//	sharpapi.ledger.errors                   counter    {error}    sharpapi.ledger.operation, error.type
//	sharpapi.ledger.outbox_overflows         counter    {job}
//	sharpapi.ledger.pending                  gauge      {job}      (with WithLedgerStats)
//	sharpapi.ledger.overdue                  gauge      {job}      (with WithLedgerStats)
//
// Every attribute value comes from what the client chose or from a fixed
// list, so no server can add series: the job type is the dispatched one
// (or ResumeJob's argument), and a type or status a server reports reaches
// a metric or a span only if it is a constant of package sharpapi, else as
// "_OTHER" ([github.com/sharpapi-go/sharpapi/observe.Other]); error.type is one of a fixed list.
// The README tabulates the values per label.
//
// The ledger's counters are this replica's (the handler's observer's; see
// [observe.LedgerObserver]); its gauges are cluster-wide, read from the
// bus by a function given to [WithLedgerStats]. sharpapi.WebhookStats's
// LedgerCounts map onto them: Quarantined is give_ups with reason
// malformed (an entry a claim found malformed or foreign), OutboxOverflow
// is outbox_overflows (jobs whose record failed while the outbox was
// full: not durable).
//
// GenAI attributes (gen_ai.operation.name, gen_ai.provider.name) are added
// to job spans only with [WithGenAIAttributes]: their conventions are still
// in development.
package otelsharpapi
