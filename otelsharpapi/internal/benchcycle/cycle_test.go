package benchcycle

import "testing"

// BenchmarkCore is the cycle with no observer: on this tree, the core with
// the seam; run by compare.sh against the commit before the seam, the core
// without it.
func BenchmarkCore(b *testing.B) {
	cycle := New(b, nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		cycle()
	}
}
