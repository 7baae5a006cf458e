package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
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
		t.Fatalf("%v\noutput:\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	head := "replica 1 dispatched 30 jobs and was killed before any finished"
	job := regexp.MustCompile(`^job [0-9a-f-]{36}: OnEvent on replica ([23]), from (its webhook|a sweep \(its webhook was lost\))$`)
	summary := regexp.MustCompile(`^30 jobs: (\d+) completed from their webhooks, (\d+) by the sweepers of replicas 2 and 3; 30 reached OnEvent exactly once; 0 lost$`)
	if len(lines) != 32 || lines[0] != head {
		t.Fatalf("output:\n%s\nwant %q, 30 job lines and a summary", out.String(), head)
	}
	swept := 0
	for _, l := range lines[1:31] {
		m := job.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %q does not match %s", l, job)
		} else if strings.HasPrefix(m[2], "a sweep") {
			swept++
		}
	}
	m := summary.FindStringSubmatch(lines[31])
	if m == nil {
		t.Fatalf("summary %q does not match %s", lines[31], summary)
	}
	if m[2] != strconv.Itoa(swept) || swept == 0 || swept == 30 {
		t.Errorf("summary %q: want the %d swept jobs counted, some but not all", lines[31], swept)
	}
}
