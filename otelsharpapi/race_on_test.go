//go:build race

package otelsharpapi

// raceEnabled: the race detector changes what allocates.
const raceEnabled = true
