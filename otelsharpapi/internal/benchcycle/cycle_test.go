package benchcycle

import (
	"testing"

	"github.com/sharpapi-go/sharpapi"
)

// BenchmarkCore is the cycle with no observer: on this tree, the core with
// the seam; run by compare.sh against the commit before the seam, the core
// without it.
func BenchmarkCore(b *testing.B) {
	for _, c := range []struct {
		name string
		new  func(testing.TB, []sharpapi.Option, []sharpapi.WebhookOption) func()
	}{{"memory", New}, {"loopback", NewLoopback}} {
		b.Run(c.name, func(b *testing.B) {
			cycle := c.new(b, nil, nil)
			b.ReportAllocs()
			for b.Loop() {
				cycle()
			}
		})
	}
}
