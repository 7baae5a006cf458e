package sharpapi_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// exportedNames returns the exported top-level names of the non-test files
// in dir, and the paths those files import.
func exportedNames(t *testing.T, dir string) (names, imports []string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imports = append(imports, p)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					names = append(names, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						names = append(names, s.Name.Name)
					case *ast.ValueSpec:
						for _, id := range s.Names {
							names = append(names, id.Name)
						}
					}
				}
			}
		}
	}
	return slices.DeleteFunc(names, func(n string) bool { return !ast.IsExported(n) }), imports
}

// TestUserPackageHoldsNoProtocol: the protocols between the SDK and its
// add-ons live in packages eventbus and observe, which users never need;
// the root package, which users read, names none of them.
func TestUserPackageHoldsNoProtocol(t *testing.T) {
	protocol := []string{
		"EventBus", "Ledger", "PendingJob", "ClaimedJob", "BeginRequest", "HookLease", "LeaseState",
		"LedgerNote", "LedgerNoteKind", "LedgerOp", "LedgerCounts", "LedgerObserver", "LedgerGiveUpReason",
		"Observer", "JobObservation", "JobStart", "JobEnd", "JobNote", "JobNoteKind", "JobOutcome", "JobVia",
		"RequestObserver", "RequestStart", "RequestEnd", "RequestKind", "LimiterObserver", "LimiterHold",
		"LimiterReason", "DeliveryObserver", "DeliveryObservation", "DeliveryEnd", "DeliveryOutcome",
		"BusObserver", "BusCall", "BusOp",
	}
	names, _ := exportedNames(t, ".")
	for _, n := range names {
		if slices.Contains(protocol, n) {
			t.Errorf("package sharpapi exports %s, a name of the implementers' protocol", n)
		}
	}
	// The protocol packages are leaves, as database/sql/driver is: the
	// root imports them, never the other way round.
	for _, dir := range []string{"eventbus", "observe"} {
		if _, err := os.Stat(dir); err != nil {
			t.Fatal(err)
		}
		_, imports := exportedNames(t, dir)
		for _, p := range imports {
			if strings.HasPrefix(p, "github.com/sharpapi-go/sharpapi") {
				t.Errorf("package %s imports %s: a protocol package imports nothing of the SDK", dir, p)
			}
		}
	}
}
