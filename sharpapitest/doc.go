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
// that deterministic. What happened is recorded for assertions, within
// bounds ([WithRecordBytes]): [Emulator.Requests], [Emulator.Deliveries],
// [Emulator.Job] (with each job's result).
//
// # Results
//
// A result has the shape of the example SharpAPI documents for its job
// type ([ExampleResult]): the same fields, of the same JSON types, quirks
// included (a sentiment score as the string "85", bare lists, a bare
// string). Its values follow the request wherever the example would
// contradict it, so that a reader recognises the answer to what was asked;
// text the emulator makes up starts with a bracketed mark of what SharpAPI
// would have written, and in which language when the request names one
// ("[summary in German] ..."), so that nobody takes it for SharpAPI's:
//
//   - translate: content "[French] turn" for "turn" into French;
//     to_language the requested language (English by default);
//     from_language English, or French when English is asked for (as in
//     SharpAPI's example).
//   - paraphrase, summarize, product intro, thank-you email: the content
//     after "[paraphrase]", "[summary]", "[product intro]" or "[thank-you
//     email]", cut to max_length words (ending in "…") when it is longer.
//   - proofread: "[proofread] " and the content.
//   - job description: each text is "[requirements] ",
//     "[responsibilities] " or "[short description] " and the position's
//     name (" at " the company, when given).
//   - keywords: the distinct words of the content, common English words
//     left out, at most max_quantity of them (5 by default).
//   - detected emails, URLs (with a scheme, or from "www."), phone numbers
//     (7 to 15 digits, parsed as "+" and the digits) and addresses (a house
//     number and capitalised words, then comma-separated parts): those in
//     the content, found by simple patterns; none is an empty list.
//   - SEO tags: titles "[title] " and descriptions "[description] " and
//     the content's first words, keywords from the content, og:url and
//     og:image the first page and image URLs in it; the other tags as in
//     the example.
//   - product, tour and hotel categories, related skills and related job
//     positions: the example's weights, at most max_quantity of them,
//     named "[category 1] " (or "[related skill 1] ", "[related position
//     1] ") and the content; skill and job_position are the content.
//
// The other job types answer their example as it is: verdicts (spam,
// profanities, AI detection, review sentiment), whose values contradict no
// parameter, and the uploads (resume, match score, invoice), whose files
// the emulator does not read. [WithResult] and [WithResultsDir] replace
// the result of any job type.
//
// # Fidelity
//
// Status codes, headers and bodies follow SharpAPI's documented
// behaviour, and JSON is encoded as its PHP backend encodes it ("/" as "\/",
// non-ASCII as \uXXXX), so a webhook receiver that checks the signature
// over re-serialised JSON fails here as it would in production. Where
// SharpAPI documents nothing, the emulator's choice is stated where it
// applies: the custom workflow job type on Workflow, undocumented results
// on ExampleResult, webhook retry spacing on WithWebhookRetryDelay. Error
// bodies are Laravel's: {"message": ...}, plus "errors" by field on a 422.
//
// # Faults
//
// Faults (Faults, and an option for each) inject dropped, duplicated,
// early and delayed webhooks, failed jobs, 500 and 429 answers and latency,
// with random choices drawn from a seed (WithSeed).
package sharpapitest
