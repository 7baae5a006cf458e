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
// report by webhook ([WithWebhook] for one job, [WithDefaultWebhook] for all,
// [WithoutWebhook] to opt one out), the POST carries the URL in its
// Job-Webhook header. SharpAPI has no idempotency key, so a dispatch is
// retried only where SharpAPI cannot have created the job: on 429 and 503
// and on errors proving the request never left. After another 5xx or a
// dropped connection, a second POST could create, and bill, a second job
// ([WithUnsafeDispatchRetries] allows it anyway). The answer's job id,
// status URL and headers make the [Job].
//
// # Awaiting a job
//
// [Job.Wait] never returns an unfinished job: it returns the result, a
// [*JobFailedError], or, once ctx is done, an error that wraps ctx's error and
// names the job, which [ResumeJob] can await again later, after a restart.
//
// Without a webhook, Wait polls the status URL: first after the dispatch
// answer's Retry-After, then as each status answer's Retry-After says, or
// every [WithPollInterval]; each wait is jittered and capped by
// [WithMaxPollInterval], and cancellable. With a webhook and a client built
// [WithWebhookHandler], Wait registers with that handler for the job's id
// and sends no status request while the webhook is expected; only after
// [WithWebhookGrace] does it poll, so that a lost webhook still completes the
// job. A webhook and a poll racing each other yield one result. A poll that
// fails with a 429, a 5xx or a network error is tried again, with backoff,
// for as long as ctx lasts; one that cannot get better (401, 402, 404, a
// malformed answer) ends Wait at once.
//
// The API key goes only to the base URL's origin (scheme, host and port): a
// status URL or a redirect elsewhere never receives it.
//
// # Receiving and routing webhooks
//
// A [WebhookHandler] is a [net/http.Handler] mounted where SharpAPI's
// webhooks arrive. It checks each delivery's X-Signature against the exact
// bytes received ([VerifySignature]; [ParseWebhook] verifies, then parses),
// answers at once, and routes the event by job id to whoever awaits it: a
// client's [Job.Wait], [WebhookHandler.Subscribe], [WebhookHandler.OnComplete]
// or [WebhookHandler.Await]. SharpAPI retries deliveries, so the handler
// remembers finished ids and drops a repeat ([WithDedup]); a webhook that
// lands before its dispatch has returned is kept until someone awaits its id
// ([WithEarlyBuffer]); events nobody claims go to [OnUnmatched].
//
// # Several replicas
//
// Behind a load balancer, a job's webhook may reach replica B while replica A
// awaits the job. [WithEventBus] gives the handlers a shared [EventBus]:
// the replica that receives a verified event stores it once, cluster-wide
// ([EventBus.Store]), and answers SharpAPI only once the store holds it
// (otherwise 503, so that SharpAPI retries); the bus then notifies every
// replica of the job id, and the one that awaits it loads the event
// ([EventBus.Load]). A waiter registers first and then looks in the store,
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
// [ErrUnauthorized], [ErrQuotaExceeded], [ErrNotFound], [ErrValidation] and
// [ErrRateLimited], so a caller branches without matching strings.
//
// # Testing
//
// Package github.com/sharpapi-go/sharpapi/sharpapitest is an in-process
// SharpAPI emulator, with signed webhooks and fault injection, so that code
// using this package is tested offline; cmd/sharpapi-emulator serves the
// same emulator on loopback for other languages.
package sharpapi
