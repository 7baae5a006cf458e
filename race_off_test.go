//go:build !race

package sharpapi

const raceEnabled = false
