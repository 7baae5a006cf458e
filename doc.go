// Package sharpapi is a client for SharpAPI.com, whose AI endpoints run as
// asynchronous jobs: a POST dispatches the job and answers with its id and a
// status URL, and the result arrives later, either by polling that URL or as
// a webhook POST, signed with the account's secret, to a URL of the caller's.
//
// [NewClient] builds a [Client] with one method per endpoint. Each AI method
// ([Client.Translate], [Client.ParseResume], ...) takes a Params struct,
// checked before anything is sent, and returns a [Job] whose [Job.Wait]
// returns the typed result:
//
//	job, err := client.Translate(ctx, sharpapi.TranslateParams{Content: "hello", Language: "Italian"})
//	if err != nil {
//		return err
//	}
//	res, err := job.Wait(ctx)
//
// The synchronous endpoints ([Client.Ping], [Client.Quota],
// [Client.ScrapeURL], ...) return their value directly.
//
// # Dispatching a job
//
// A dispatch is one POST to the client's base URL. When the job should
// report by webhook ([WithWebhook] for one job, or given to [NewClient] for
// all; [WithoutWebhook] to opt one out), the POST carries the URL in its
// Job-Webhook header. Every [RequestOption] works that way: given to a
// method it applies to that call, given to NewClient it is the default. SharpAPI has no idempotency key, so a dispatch is
// retried only where SharpAPI cannot have created the job: on 429 and 503
// and on errors proving the request never left. After another 5xx or a
// dropped connection, a second POST could create, and bill, a second job
// ([WithUnsafeDispatchRetries] allows it anyway). The answer's job id,
// status URL and headers make the [Job].
//
// # Awaiting a job
//
// A [Job] is the one place to await a job, in three ways with the same
// guarantees:
//
//	res, err := job.Wait(ctx)   // blocks until the outcome
//	out := <-job.WaitAsync(ctx) // the outcome on a channel, to select among many jobs
//	job.OnDone(ctx, func(res sharpapi.TranslateResult, err error) {
//		// called once with the outcome; no goroutine waits meanwhile
//	})
//
// Each yields the typed result, a [*JobFailedError] (matching [ErrJobFailed]),
// or, once ctx is done, an error that wraps ctx's error and names the job,
// which [ResumeJob] can await again later, after a restart; never an
// unfinished job. OnDone calls its function exactly once, in a goroutine of
// its own, and holds no goroutine while the job runs: a service can await a
// hundred thousand jobs that way; in an HTTP handler, give it a context
// that outlives the request, context.WithoutCancel(r.Context()) with a
// timeout (see [Job.OnDone]). Once a job's outcome is known, the Job
// keeps it: awaiting it again sends no request. A job whose status answer
// or webhook reports another type than the job's (a [ResumeJob] given the
// wrong id) yields an error matching [ErrJobTypeMismatch], never a zero
// result.
//
// Without a webhook, an await polls the status URL: first after the
// dispatch answer's Retry-After, then as each status answer's Retry-After
// says, or every [WithPollInterval]; each wait is jittered and capped by
// [WithMaxPollInterval], and cancellable. With a webhook and a client built
// [WithWebhookHandler], it registers with that handler for the job's id and
// sends no status request while the webhook is expected; only after
// [WithWebhookGrace] does it poll, so that a lost webhook still completes the
// job. A webhook and a poll racing each other yield one result. A poll that
// fails with a 429, a 5xx or a network error is tried again, with backoff,
// for as long as ctx lasts; one that cannot get better (401, 402, 404, a
// malformed answer) ends the await at once.
//
// The API key goes only to the base URL's origin (scheme, host and port): a
// status URL or a redirect elsewhere never receives it.
//
// # Receiving and routing webhooks
//
// A [WebhookHandler] is a [net/http.Handler] mounted where SharpAPI's
// webhooks arrive. It checks each delivery's X-Signature against the exact
// bytes received ([VerifySignature]; [ParseWebhook] verifies, then parses),
// answers at once, and routes the event by job id to the awaits of that
// job. SharpAPI retries deliveries, so the handler remembers finished ids
// and drops a repeat ([WithDedup]); a webhook that lands before its dispatch
// has returned is kept until the job is awaited ([WithEarlyBuffer]); events
// nobody claims go to [OnUnmatched]. [OnEvent] sees every distinct event, the
// place to persist results.
//
// # Several replicas
//
// Behind a load balancer, a job's webhook may reach replica B while replica A
// awaits the job. [WithEventBus] gives the handlers a shared [eventbus.Bus]:
// the replica that receives a verified event stores it once, cluster-wide
// ([eventbus.Bus.Store]), and answers SharpAPI only once the store holds it
// (otherwise 503, so that SharpAPI retries); the bus then notifies every
// replica of the job id, and the one that awaits it loads the event
// ([eventbus.Bus.Load]). A waiter registers first and then looks in the store,
// so an event stored before anyone awaited it (early, or for a replica that
// restarted and called [ResumeJob]) is found without a poll; after every
// reconnection a replica looks again for every job it awaits. No replica
// holds events it does not await, and [OnEvent] runs once in the cluster.
// The module github.com/sharpapi-go/sharpapi/redisbus is such a bus over
// Redis; it lives in a module of its own so that this one depends on no
// Redis client.
// Without a bus, a handler routes only to its own waiters.
//
// # Errors
//
// Every non-2xx answer is an [*APIError]; [errors.Is] matches it against
// [ErrUnauthorized], [ErrQuotaExceeded], [ErrNotFound] and [ErrValidation],
// so a caller branches without matching strings. A request refused for the
// rate limit, by SharpAPI (429) or by the client's limiter, is a
// [*RateLimitError] matching [ErrRateLimited], whose RetryAfter says how long
// to wait; a failed job is a [*JobFailedError] matching [ErrJobFailed]. The
// methods of a zero Client, Job or WebhookHandler report [ErrNotInitialized].
//
// # Logging
//
// [WithLogger] gives the client and the handler a [log/slog.Logger]; without
// it they are silent. Per-job traffic is logged at Debug; Info and Warn are
// for what an operator acts on, and each misconfiguration is said once.
//
// # Testing
//
// Package github.com/sharpapi-go/sharpapi/sharpapitest is an in-process
// SharpAPI emulator, with signed webhooks and fault injection, so that code
// using this package is tested offline; cmd/sharpapi-emulator serves the
// same emulator on loopback for other languages.
package sharpapi
