// Package benchmarks measures sharpapi-go side by side with the Go peers
// that verify webhooks (stripe-go, standard-webhooks, svix, go-github) and
// against bare net/http baselines. It is a module of its own so that the
// peers never enter the core's go.mod.
//
// Every measurement is a Go benchmark in a _test.go file, one file per area:
//
//	verify_test.go    verify + parse one webhook, per body size and library
//	handler_test.go   WebhookHandler vs a bare handler over loopback TCP
//	await_test.go     100 000 pending jobs: memory per job, delivery latency
//	scale_test.go     cost per pending job from 1 000 to 1 000 000 jobs,
//	                  OnDone vs WaitAsync vs Wait (run by hand, see RESULTS.md)
//	stubapi_test.go   the stand-in for SharpAPI those two dispatch to
//	polling_test.go   webhook-first Wait vs polling, on the emulator
//	dispatch_test.go  Client.Translate vs a bare POST + decode
//
// They all run at -benchtime=1x in seconds (CI does). The figures in
// RESULTS.md come from cmd/report, which runs them at full scale with
// go test, parses the output, computes each ratio within the one run and
// draws the charts in charts/:
//
//	cd benchmarks && go run ./cmd/report
package benchmarks
