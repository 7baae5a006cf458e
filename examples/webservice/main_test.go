package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRunOffline: each request is answered at once with a pending job, and
// each job's OnDone, whose context outlives its request, stores the result
// the service then reports.
func TestRunOffline(t *testing.T) {
	t.Setenv("SHARPAPI_API_KEY", "")
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := regexp.MustCompile(`^POST /translations \((French|German|Italian)\) -> 202 pending$`)
	if len(lines) != 6 {
		t.Fatalf("output:\n%s\nwant 6 lines", out.String())
	}
	for _, l := range lines[:3] {
		if !want.MatchString(l) {
			t.Errorf("%q does not match %s", l, want)
		}
	}
	// The jobs finish in any order.
	got := slices.Sorted(slices.Values(lines[3:]))
	wantDone := []string{
		"GET /translations/{id} -> done: [French] The order ships today.",
		"GET /translations/{id} -> done: [German] The order ships today.",
		"GET /translations/{id} -> done: [Italian] The order ships today.",
	}
	if !slices.Equal(got, wantDone) {
		t.Errorf("results %q, want %q", got, wantDone)
	}
}
