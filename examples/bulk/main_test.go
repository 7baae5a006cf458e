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
	if err := run(context.Background(), &out, defaultLines); err != nil {
		t.Fatal(err)
	}
	summary := regexp.MustCompile(`\n40 jobs in \S+: (\d+) done, (\d+) failed\n` +
		`429s drawn: (\d+); requests sent: (\d+); held by the limiter: (\d+) \(\S+ waited in all\)\n` +
		`plan: 10 requests per 1s; its minimum for 40 jobs: 4s; wall time: \S+x of it\n$`)
	m := summary.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output:\n%q\nhas no summary matching %s", out.String(), summary)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	got := [5]int{n(1), n(2), n(3), n(4), n(5)}
	// 40 done, none failed, no 429, one request per job (webhooks: no
	// polls), and the 30 beyond the first window held back.
	if got[0] != 40 || got[1] != 0 || got[2] != 0 || got[3] != 40 || got[4] < 30 {
		t.Errorf("done, failed, 429s, requests, held = %v, want [40 0 0 40 >=30]", got)
	}
	if !bytes.Contains(out.Bytes(), []byte("\r[40/40] done, 0 waiting on the limit, 0 failed")) {
		t.Error("no final progress line")
	}
}
