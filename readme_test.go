package sharpapi_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestREADMECodeCompiles keeps README.md honest: every Go block in it that
// is a fragment must stand, line for line, in an Example function of this
// package, which the test suite compiles and runs with its // Output
// checked. Blocks that are whole files are run by examples/readme_test.go.
func TestREADMECodeCompiles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var examples strings.Builder
	files, _ := filepath.Glob("example*_test.go")
	otel, _ := filepath.Glob("otelsharpapi/example*_test.go") // the Observability section's
	files = append(files, otel...)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples.WriteString(normalize(string(b)))
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go block")
	}
	for _, b := range blocks {
		if wholeFile.MatchString(b[1]) {
			continue // run as a file of its own by examples/readme_test.go
		}
		if !strings.Contains(examples.String(), normalize(b[1])) {
			t.Errorf("this README block is in no Example function:\n%s", b[1])
		}
	}
}

// wholeFile matches a README block that is a whole Go file.
var wholeFile = regexp.MustCompile(`(?m)^package \w+$`)

// normalize drops indentation and blank lines and folds runs of blanks, so
// that a block indented as a function body (and aligned by gofmt there)
// matches the README's flush-left copy.
func normalize(s string) string {
	var out strings.Builder
	for line := range strings.Lines(s) {
		if fields := strings.Fields(line); len(fields) > 0 {
			out.WriteString(strings.Join(fields, " ") + "\n")
		}
	}
	return out.String()
}

// TestREADMENamesEveryModule: the README's Install names every published
// module (each go.mod but those of benchmarks/, .ci/ and testdata, as
// .ci/publish-test finds them) and its every-module test loop enters each
// module's directory, so that adding a module cannot leave them behind.
func TestREADMENamesEveryModule(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	loop := regexp.MustCompile(`(?m)^for d in ([^;]*); do`).FindSubmatch(readme)
	if loop == nil {
		t.Fatal("README.md has no `for d in ...; do` test loop")
	}
	dirs := strings.Fields(string(loop[1]))
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == ".ci" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.Name() != "go.mod" {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		// A module under an internal/ directory is test-only: never
		// published, but its tests, if it has any, are in the loop.
		testOnly := strings.Contains("/"+dir+"/", "/internal/")
		tests, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*_test.go"))
		if dir != "." && !slices.Contains(dirs, dir) && (!strings.Contains(dir, "/") || testOnly && len(tests) > 0) {
			t.Errorf("the README's test loop (for d in %s) does not enter %s/", loop[1], dir)
		}
		if testOnly || dir == "benchmarks" || strings.HasPrefix(dir, "benchmarks/") {
			return nil // never published
		}
		mod := "github.com/sharpapi-go/sharpapi"
		if dir != "." {
			mod += "/" + dir
		}
		if !regexp.MustCompile(`(?m)^go get ` + regexp.QuoteMeta(mod) + `\s`).Match(readme) {
			t.Errorf("the README's Install has no `go get %s`", mod)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestREADMEListsEveryExample: the README's examples table has a row for
// every program under any examples/ directory of the repository (a
// main.go in examples/<name>/, in any module; cmd/ holds commands, not
// examples), so that a new example, or one in an add-on module, cannot be
// left out of it.
func TestREADMEListsEveryExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n## Examples\n")
	if !ok {
		t.Fatal("README.md has no ## Examples section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(table, -1) {
		rows[m[1]] = true
	}
	found := 0
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || path == "cmd" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.Name() != "main.go" || filepath.Base(filepath.Dir(filepath.Dir(path))) != "examples" {
			return nil
		}
		found++
		if dir := filepath.ToSlash(filepath.Dir(path)); !rows[dir] {
			t.Errorf("the README's examples table has no row for `%s`", dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 6 {
		t.Fatalf("found %d examples; the walk missed examples/", found)
	}
}
