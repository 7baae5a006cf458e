package benchmarks

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// samplesDir is where the await and polling benchmarks write their raw
// samples, for cmd/report's distribution charts. Empty: nothing is written.
var samplesDir = flag.String("samples", "", "directory for raw latency samples (used by cmd/report)")

// secretKey is the webhook secret of every library. standard-webhooks and
// svix take it base64-encoded behind "whsec_"; the others take it as is.
var secretKey = []byte("sharpapi-bench-secret-24")

const secret = "sharpapi-bench-secret-24"

// A body size of the verify+parse matrix.
type bodySize struct {
	name string
	n    int
}

var bodySizes = []bodySize{
	{"256B", 256}, {"1KiB", 1 << 10}, {"4KiB", 4 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20},
}

// jobID returns the i-th job id, shaped like SharpAPI's UUIDs.
func jobID(i int) string { return fmt.Sprintf("bf683177-3a48-47d1-9c4e-%012d", i) }

// padTokens is the text a translation result is padded with, encoded as
// SharpAPI's PHP backend encodes JSON: "/" as "\/", non-ASCII as \uXXXX.
var padTokens = []string{
	"Il ", "rapido ", "cane ", "marrone ", "salta ", "sopra ", "la ", "volpe ", "pigra ", "nella ",
	`citt\u00e0 `, "di ", `https:\/\/example.com\/`, ". ",
}

// webhookBody returns a SharpAPI webhook payload of exactly size bytes (at
// least 200): the flat {"id","status","type","result"} object of a finished
// translation, its result's "content" padded to the size.
func webhookBody(id string, size int) []byte {
	head := `{"id":"` + id + `","status":"success","type":"content_translate","result":{"content":"`
	tail := `","from_language":"English","to_language":"Italian"}}`
	fill := size - len(head) - len(tail)
	if fill < 0 {
		panic(fmt.Sprintf("webhook body of %d bytes is too small for its fields", size))
	}
	b := make([]byte, 0, size)
	b = append(b, head...)
	for i := 0; ; i++ {
		t := padTokens[i%len(padTokens)]
		if len(b)-len(head)+len(t) > fill {
			break
		}
		b = append(b, t...)
	}
	for len(b)-len(head) < fill {
		b = append(b, '.')
	}
	return append(b, tail...)
}

// event is the four-field struct the peers' bodies are unmarshalled into:
// the same fields as sharpapi.WebhookEvent.
type event struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Type   string          `json:"type"`
	Result json.RawMessage `json:"result"`
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted durations,
// by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// reportLatencies reports p50, p99 and max of ds (sorted in place) under
// the given prefix, in unit (time.Microsecond or time.Millisecond).
func reportLatencies(b *testing.B, prefix string, ds []time.Duration, unit time.Duration) {
	slices.Sort(ds)
	name := "µs"
	if unit == time.Millisecond {
		name = "ms"
	}
	for _, q := range []struct {
		label string
		d     time.Duration
	}{{"p50", percentile(ds, 50)}, {"p99", percentile(ds, 99)}, {"max", ds[len(ds)-1]}} {
		b.ReportMetric(float64(q.d)/float64(unit), prefix+"-"+q.label+"-"+name)
	}
}

// writeSamples saves ds (nanoseconds, one per line) as name in samplesDir,
// when -samples is set. A later run of the same benchmark overwrites it.
func writeSamples(b *testing.B, name string, ds []time.Duration) {
	if *samplesDir == "" {
		return
	}
	buf := make([]byte, 0, len(ds)*8)
	for _, d := range ds {
		buf = fmt.Appendf(buf, "%d\n", d.Nanoseconds())
	}
	if err := os.WriteFile(filepath.Join(*samplesDir, name), buf, 0o644); err != nil {
		b.Fatal(err)
	}
}
