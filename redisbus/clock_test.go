package redisbus

import (
	"log/slog"
	"testing"
	"time"
)

// TestClockSkewWarns: a sweep whose clock is a minute off Redis's warns
// once, saying by how much; a later sweep within the hour checks nothing;
// a replica whose clock agrees with Redis's says nothing.
func TestClockSkewWarns(t *testing.T) {
	const warning = "clock is not Redis's"
	for _, c := range []struct {
		name   string
		offset time.Duration
		warns  int
	}{
		{"a minute ahead", time.Minute, 1},
		{"a minute behind", -time.Minute, 1},
		{"in sync", 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs logRecorder
			b := newBus(t, newClient(t, testAddr), WithLogger(slog.New(&logs)))
			for range 2 {
				now := time.Now().Add(c.offset)
				if _, err := (protocol{b}).Claim(t.Context(), now, now.Add(time.Minute), 10); err != nil {
					t.Fatal(err)
				}
			}
			got := logs.messages(slog.LevelWarn, warning)
			if len(got) != c.warns {
				t.Fatalf("%d warnings %q; want %d", len(got), got, c.warns)
			}
			if c.warns == 0 {
				return
			}
			logs.mu.Lock()
			defer logs.mu.Unlock()
			var ahead time.Duration
			logs.recs[0].Attrs(func(a slog.Attr) bool {
				if a.Key == "ahead_of_redis" {
					ahead = a.Value.Duration()
				}
				return true
			})
			if diff := (ahead - c.offset).Abs(); diff > maxClockSkew {
				t.Errorf("ahead_of_redis = %v; want about %v", ahead, c.offset)
			}
		})
	}
}
