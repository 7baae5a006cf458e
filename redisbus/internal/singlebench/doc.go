// Package singlebench holds the benchmark of the single-replica webhook
// path, with no bus. It uses only the core API that predates the EventBus
// seam, so that it also builds against the core before that change (go
// test -modfile pointing the replace at an older checkout) and the two are
// compared with the same code.
package singlebench
