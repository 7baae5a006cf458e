package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
)

func TestRunOffline(t *testing.T) {
	t.Setenv("SHARPAPI_API_KEY", "")
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	summary := regexp.MustCompile(`\n50 jobs in \S+: (\d+) done, (\d+) failed \(SharpAPI does not charge for those\)\n` +
		`status polls made: (\d+), for (\d+) webhooks lost on purpose\n$`)
	m := summary.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output:\n%q\nhas no summary matching %s", out.String(), summary)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	if done, failed := n(1), n(2); done+failed != 50 || failed == 0 {
		t.Errorf("done %d + failed %d: want 50 with some failures", done, failed)
	}
	if polls, lost := n(3), n(4); lost == 0 || polls < lost {
		t.Errorf("%d polls for %d lost webhooks: each lost one needs a poll", polls, lost)
	}
	if !bytes.Contains(out.Bytes(), []byte("\r[50/50] done")) {
		t.Error("no final progress line")
	}
}
