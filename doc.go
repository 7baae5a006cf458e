// Package sharpapi is a client for SharpAPI.com, whose AI endpoints run as
// asynchronous jobs: a POST dispatches the job and answers with its id and a
// status URL, and the result arrives later, either by polling that URL or as
// a signed webhook POST to a URL of the caller's.
//
// A Client has one method per endpoint. Each AI method returns a *Job[T]
// whose Wait returns the typed result:
//
//	job, err := client.Translate(ctx, sharpapi.TranslateParams{Content: "hello", Language: "Italian"})
//	if err != nil { ... }
//	res, err := job.Wait(ctx)
//
// With a WebhookHandler mounted on the caller's server and passed to the
// client with WithWebhookHandler, jobs dispatched with WithWebhook await their
// webhook and poll only as a safety net, after a grace period.
//
// Package sharpapitest holds an in-process SharpAPI emulator, so that code
// using this package can be tested offline.
package sharpapi
