package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
)

// TestRunOffline runs the README's first command: the result comes by
// webhook, with no status poll.
func TestRunOffline(t *testing.T) {
	t.Setenv("SHARPAPI_API_KEY", "")
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^dispatched job [0-9a-f-]{36}\n` +
		`English -> Italian: Ciao, mondo! Il webhook porta il risultato\.\n` +
		`status polls: 0\n$`)
	if !want.Match(out.Bytes()) {
		t.Errorf("output:\n%s\ndoes not match %s", out.String(), want)
	}
}
