package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestRun runs the example offline and checks what an operator would read
// in its output: the webhook job's tree (its POST, the webhook's arrival,
// the link to its delivery) and the polled job's (the grace expiring, its
// POST and GET), and the metrics; with -json, the exporters' JSON too.
func TestRun(t *testing.T) {
	for _, jsonOut := range []bool{false, true} {
		var out bytes.Buffer
		if err := run(context.Background(), &out, jsonOut); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^    sharpapi\.job content_translate .*sharpapi\.job\.outcome=success sharpapi\.job\.completed_via=poll sharpapi\.job\.polls=[1-9]`),
			regexp.MustCompile(`(?m)^      • event sharpapi\.webhook\.grace_expired `),
			regexp.MustCompile(`(?m)^        GET .*url\.template=/api/v1/content/translate/job/status/\{id\}.*http\.response\.status_code=200`),
			regexp.MustCompile(`(?m)^    sharpapi\.job content_translate .*sharpapi\.job\.completed_via=webhook sharpapi\.job\.polls=0\]`),
			regexp.MustCompile(`(?m)^      • event sharpapi\.webhook\.received .*sharpapi\.job\.status=success`),
			regexp.MustCompile(`(?m)^      ↪ link to sharpapi\.webhook of trace [0-9a-f]{32}  \[sharpapi\.webhook\.outcome=(delivered|buffered) http\.response\.status_code=200\]`),
			regexp.MustCompile(`(?m)^        POST .*http\.response\.status_code=202`),
			regexp.MustCompile(`(?m)^sharpapi\.webhook .*sharpapi\.webhook\.outcome=(delivered|buffered)`),
			regexp.MustCompile(`(?m)^  sharpapi\.job\.pending\{sharpapi\.job\.type=content_translate\} = 0 \{job\}$`),
			regexp.MustCompile(`(?m)^  sharpapi\.job\.polls\{sharpapi\.job\.completed_via=webhook,.*\} count=1 sum=0 \{poll\}$`),
			regexp.MustCompile(`(?m)^  sharpapi\.webhook\.deliveries\{http\.response\.status_code=200,sharpapi\.webhook\.outcome=(delivered|buffered)\} = 1 \{delivery\}$`),
		} {
			if !want.MatchString(got) {
				t.Errorf("json %v: output has no line matching %s:\n%s", jsonOut, want, got)
			}
		}
		if hasJSON := strings.Contains(got, `"Name": "sharpapi.job content_translate"`) && strings.Contains(got, `"Name": "sharpapi.job.duration"`); hasJSON != jsonOut {
			t.Errorf("json %v: the exporters' JSON is there: %v", jsonOut, hasJSON)
		}
	}
}
