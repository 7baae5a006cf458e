package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	addr := os.Getenv("SHARPAPI_REDIS_ADDR")
	if _, err := exec.LookPath("redis-server"); err != nil && addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and no redis-server in PATH")
		}
		t.Skip("needs redis-server in PATH or SHARPAPI_REDIS_ADDR")
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, addr); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	job := regexp.MustCompile(`^job [0-9a-f-]{36}: dispatched on replica (\d), webhook on replica (\d), done in [0-9.]+(µs|ms|s)$`)
	summary := regexp.MustCompile(`^30 jobs over 3 replicas: p50 [0-9.]+(µs|ms|s), p99 [0-9.]+(µs|ms|s), status polls 0$`)
	if len(lines) != 31 || !summary.MatchString(lines[30]) {
		t.Fatalf("output:\n%s\nwant 30 job lines and a summary matching %s", out.String(), summary)
	}
	for _, l := range lines[:30] {
		m := job.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %q does not match %s", l, job)
		} else if m[1] == m[2] {
			t.Errorf("a webhook landed on the replica that dispatched its job: %s", l)
		}
	}
}
