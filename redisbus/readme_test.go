package redisbus_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEBlocksCompile keeps the README's redisbus blocks honest, as the
// core's TestREADMECodeCompiles does for its own: a block fenced
// "```go redisbus" (Go to GitHub, skipped by the core's test, whose module
// cannot import go-redis) must stand, line for line, in an Example
// function of this module.
func TestREADMEBlocksCompile(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var examples strings.Builder
	files, _ := filepath.Glob("example*_test.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples.WriteString(normalize(string(b)))
	}
	blocks := regexp.MustCompile("(?s)```go redisbus\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no redisbus block")
	}
	for _, b := range blocks {
		if !strings.Contains(examples.String(), normalize(b[1])) {
			t.Errorf("this README block is in no Example function of redisbus:\n%s", b[1])
		}
	}
}

// normalize drops indentation and blank lines and folds runs of blanks.
func normalize(s string) string {
	var out strings.Builder
	for line := range strings.Lines(s) {
		if fields := strings.Fields(line); len(fields) > 0 {
			out.WriteString(strings.Join(fields, " ") + "\n")
		}
	}
	return out.String()
}
