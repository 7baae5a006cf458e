package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
)

func TestRunOffline(t *testing.T) {
	t.Setenv("SHARPAPI_API_KEY", "")
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^dispatched content_paraphrase job [0-9a-f-]{36}\n` +
		`paraphrase: \[paraphrase\] Exploring the vibrant tech industry, we discover amazing advancements\.\n` +
		`status polls: [1-9]\d*\n$`)
	if !want.Match(out.Bytes()) {
		t.Errorf("output:\n%s\ndoes not match %s", out.String(), want)
	}
}
