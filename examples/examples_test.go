// Package examples_test checks what the examples under examples/ and the
// README promise their reader: that each example's main.go, copied alone
// into a module of one's own, compiles; that every HTTP server an example
// starts bounds how long a client may hold it; and that each README block
// that is a whole file works as shown.
package examples_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestExamplesBuildWhenCopied copies each example's main.go, and the data
// files beside it, into a fresh module that requires the SDK (replaced by
// this checkout) and builds it there, offline: the root module's go.sum and
// a module cache that `go build ./...` has filled are all it needs.
func TestExamplesBuildWhenCopied(t *testing.T) {
	for _, dir := range exampleDirs(t) {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			mod := userModule(t, exampleFiles(t, dir))
			if out, err := goIn(mod, "build", "-o", filepath.Join(mod, "example"), "."); err != nil {
				t.Fatalf("%s copied alone into a module of its own does not build: %v\n%s", dir, err, out)
			}
		})
	}
}

// TestExampleServersSetTimeouts keeps every http.Server an example starts
// bounded, as the README's Security section asks of a receiver: without
// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout, a client
// that sends or reads slowly, or never closes, holds a connection and its
// memory for ever, and readers copy what the examples do.
func TestExampleServersSetTimeouts(t *testing.T) {
	for _, dir := range exampleDirs(t) {
		path := filepath.Join(dir, "main.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Server" {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "http" {
				return true
			}
			set := map[string]bool{}
			for _, e := range lit.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if key, ok := kv.Key.(*ast.Ident); ok {
						set[key.Name] = true
					}
				}
			}
			for _, field := range []string{"ReadHeaderTimeout", "ReadTimeout", "WriteTimeout", "IdleTimeout"} {
				if !set[field] {
					t.Errorf("%s: an http.Server without %s", path, field)
				}
			}
			return true
		})
	}
}

// exampleDirs lists the examples: the directories beside this file that
// hold a main.go.
func exampleDirs(t *testing.T) []string {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join("*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(mains) == 0 {
		t.Fatal("no example found")
	}
	var dirs []string
	for _, m := range mains {
		dirs = append(dirs, filepath.Dir(m))
	}
	return dirs
}

// exampleFiles reads main.go and the data files of the example in dir. An
// example is one Go file: a second one would not be copied by a reader, so
// it is an error here.
func exampleFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() || strings.HasSuffix(name, "_test.go"):
			continue
		case strings.HasSuffix(name, ".go") && name != "main.go":
			t.Fatalf("%s has %s besides main.go: an example is one file a reader can copy", dir, name)
		}
		if files[name], err = os.ReadFile(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// userModule writes files into a fresh module, as a user's: it requires the
// SDK, replaced by this checkout, at the Go version the SDK declares, with
// the SDK's go.sum so that nothing needs the network. It returns the
// module's directory.
func userModule(t *testing.T, files map[string][]byte) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goMod)
	if goVersion == nil {
		t.Fatal("the root go.mod has no go directive")
	}
	if out, err := downloadSDKModules(); err != nil {
		t.Fatalf("go mod download in %s: %v\n%s", root, err, out)
	}
	mod := t.TempDir()
	writeFile(t, filepath.Join(mod, "go.mod"), []byte("module example.com/mine\n\ngo "+string(goVersion[1])+"\n\n"+
		"require github.com/sharpapi-go/sharpapi v0.0.0\n\n"+
		"replace github.com/sharpapi-go/sharpapi => "+root+"\n"))
	writeFile(t, filepath.Join(mod, "go.sum"), goSum)
	for name, b := range files {
		writeFile(t, filepath.Join(mod, name), b)
	}
	return mod
}

// downloadSDKModules fills the module cache with the SDK's dependencies,
// through the module proxy if they are not there yet (on a fresh machine,
// when this package's tests run alone), so that a user module can then
// build offline.
var downloadSDKModules = sync.OnceValues(func() ([]byte, error) {
	cmd := exec.Command("go", "mod", "download")
	cmd.Dir = ".."
	return cmd.CombinedOutput()
})

// goIn runs the go command in dir, offline. -mod=mod lets it add the SDK's
// own requirements to the user's go.mod, as `go get` would; GOPROXY=off
// proves it finds them in the module cache.
func goIn(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	return cmd.CombinedOutput()
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
