//go:build race

package sharpapi

// raceEnabled: the race detector changes what allocates (sync.Pool drops
// a share of its items), so allocation counts are measured without it.
const raceEnabled = true
