package sharpapi_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"
	"testing"
)

// TestEndpointTypesRule keeps the naming rule of params.go: an endpoint's
// Params or Result type of another endpoint's shape is an alias of that
// type (type X = Y), never a defined type over it (type X Y), whose
// methods and conversions would differ from its siblings'.
func TestEndpointTypesRule(t *testing.T) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, pkg := range pkgs {
		for name, f := range pkg.Files {
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, spec := range gd.Specs {
					ts := spec.(*ast.TypeSpec)
					n := ts.Name.Name
					if !strings.HasSuffix(n, "Params") && !strings.HasSuffix(n, "Result") {
						continue
					}
					seen++
					switch ts.Type.(type) {
					case *ast.Ident, *ast.SelectorExpr:
						if !ts.Assign.IsValid() {
							t.Errorf("%s: type %s is a defined type over another type: make it an alias (type %s = ...)", name, n, n)
						}
					}
				}
			}
		}
	}
	if seen < 40 {
		t.Fatalf("found %d Params and Result types; the parse missed the endpoint files", seen)
	}
}
