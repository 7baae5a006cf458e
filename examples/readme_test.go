package examples_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestREADMEFilesWork takes each Go block of README.md that is a whole file
// (it has a package clause) into a fresh module of its own, as a reader
// would paste it, and runs it offline: a main package with go run, any
// other as a test file with go test. The README's other Go blocks are
// fragments, checked by the root package's TestREADMECodeCompiles.
func TestREADMEFilesWork(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	pkg := regexp.MustCompile(`(?m)^package (\w+)$`)
	var n int
	for _, b := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		m := pkg.FindStringSubmatch(b[1])
		if m == nil {
			continue
		}
		n++
		t.Run(fmt.Sprintf("block%d-%s", n, m[1]), func(t *testing.T) {
			t.Parallel()
			name, args := "readme_test.go", []string{"test", "."}
			if m[1] == "main" {
				name, args = "main.go", []string{"run", "."}
			}
			mod := userModule(t, map[string][]byte{name: []byte(b[1])})
			if out, err := goIn(mod, args...); err != nil {
				t.Fatalf("go %s of this README block: %v\n%s\n%s", args[0], err, out, b[1])
			}
		})
	}
	if n == 0 {
		t.Fatal("README.md has no Go block that is a whole file")
	}
}
