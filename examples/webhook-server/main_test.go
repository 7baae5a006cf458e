package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

func TestRunOffline(t *testing.T) {
	var out, logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := run(context.Background(), &out, logger, "", ""); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^(processed ecommerce_review_sentiment job [0-9a-f-]{36}: success \(\d+ bytes of result\)\n){3}` +
		`all 3 jobs processed\n` +
		`received 6, verified 6, duplicates dropped 3\n$`)
	if !want.Match(out.Bytes()) {
		t.Errorf("output:\n%s\ndoes not match %s", out.String(), want)
	}
	if strings.Contains(logs.String(), "offline-demo-secret") {
		t.Error("the log carries the webhook secret")
	}
	if n := strings.Count(logs.String(), "\n"); n < 6 {
		t.Errorf("%d log lines for 6 calls: every call must be logged", n)
	}
}
