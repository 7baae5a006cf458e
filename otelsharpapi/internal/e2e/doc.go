// Package e2e tests otelsharpapi together with redisbus over a real
// redis-server: traces and metrics across replicas and of the pending-job
// ledger. It is a test-only module, never published, so that neither
// otelsharpapi's go.mod nor its users' module graphs receive redisbus or
// go-redis for these tests' sake; .ci/run runs it.
package e2e
