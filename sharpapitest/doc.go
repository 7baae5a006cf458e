// Package sharpapitest is an in-process emulator of the SharpAPI.com API,
// for testing code that calls SharpAPI without reaching the internet.
//
// A Server listens on loopback and serves every endpoint under /api/v1:
// the AI job endpoints (POST, answered 202 with a status URL and a job
// id), both job status URL forms, the synchronous endpoints (ping, quota,
// web scraping, job positions, airports, custom workflows) and signed
// webhooks on job completion:
//
//	srv := sharpapitest.NewServer(
//		sharpapitest.WithWebhookURL(receiver.URL),
//		sharpapitest.WithWebhookSecret("s3cret"),
//		sharpapitest.WithDuplicates(2), // a fault: every webhook arrives twice
//	)
//	defer srv.Close()
//	client, err := sharpapi.NewClient("any-key", sharpapi.WithBaseURL(srv.URL))
//
// [NewServer] suits tests: an option given a bad value (a negative
// duration, a rate above 1) is the test's own bug, so it panics, as
// [httptest.NewServer] does when it cannot listen. [New] returns the same
// error instead, for programs; [NewEmulator] is the bare [http.Handler].
//
// Jobs go new, pending, then success (or failed) after the job duration,
// read off a [Clock] so that polls see exact states; a [ManualClock] makes
// that deterministic. Results are the examples SharpAPI documents for each
// job type (see [ExampleResult]) unless [WithResult] or [WithResultsDir]
// replaces them. What happened is recorded for assertions, within bounds
// ([WithRecordBytes]): [Emulator.Requests], [Emulator.Deliveries],
// [Emulator.Job].
//
// Fidelity: status codes, headers and bodies follow SharpAPI's documented
// behaviour, and JSON is encoded as its PHP backend encodes it ("/" as "\/",
// non-ASCII as \uXXXX), so a webhook receiver that checks the signature
// over re-serialised JSON fails here as it would in production. Where
// SharpAPI documents nothing, the emulator's choice is stated where it
// applies: the custom workflow job type on Workflow, undocumented results
// on ExampleResult, webhook retry spacing on WithWebhookRetryDelay. Error
// bodies are Laravel's: {"message": ...}, plus "errors" by field on a 422.
//
// Faults (Faults, and an option for each) inject dropped, duplicated,
// early and delayed webhooks, failed jobs, 500 and 429 answers and latency,
// with random choices drawn from a seed (WithSeed).
package sharpapitest
