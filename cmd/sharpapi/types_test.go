package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// sdkJobTypes reads every JobType constant of the SDK from its source, so
// that a constant added there without a row in jobKinds fails the test.
func sdkJobTypes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var types []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "JobType" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok {
						t.Fatalf("%s: a JobType constant that is not a string literal", fset.Position(v.Pos()))
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					types = append(types, s)
				}
			}
		}
	}
	if len(types) == 0 {
		t.Fatal("no JobType constant found in ../../*.go: has the SDK moved?")
	}
	sort.Strings(types)
	return types
}

// TestEveryJobType proves the CLI's table has a row for every JobType
// constant of the SDK, and no other.
func TestEveryJobType(t *testing.T) {
	var table []string
	for _, k := range jobKinds {
		table = append(table, string(k.typ))
	}
	sort.Strings(table)
	if diff := cmp.Diff(sdkJobTypes(t), table); diff != "" {
		t.Errorf("jobKinds and the SDK's JobType constants differ (-sdk +cli):\n%s", diff)
	}
}

// TestTypes proves "types --json" lists every job type with its params,
// derived from the Params structs (json tags, and snake_case names for the
// form-sent upload Params).
func TestTypes(t *testing.T) {
	var docs []typeDoc
	cli(t, nil, "types", "--json").want(t, 0).decode(t, &docs)
	var listed []string
	byType := map[string][]param{}
	for _, d := range docs {
		listed = append(listed, d.Type)
		byType[d.Type] = d.Params
		if len(d.Params) == 0 {
			t.Errorf("%s lists no params", d.Type)
		}
	}
	sort.Strings(listed)
	if diff := cmp.Diff(sdkJobTypes(t), listed); diff != "" {
		t.Errorf("types --json (-sdk +listed):\n%s", diff)
	}
	want := map[string][]param{
		"content_translate": {
			{Name: "content", Kind: "string", Required: true}, {Name: "language", Kind: "string"},
			{Name: "voice_tone", Kind: "string"}, {Name: "context", Kind: "string"},
		},
		"hr_resume_job_match_score": {
			{Name: "file", Kind: "file", Required: true}, {Name: "content", Kind: "string"},
			{Name: "language", Kind: "string"}, {Name: "context", Kind: "string"},
		},
	}
	for typ, ps := range want {
		if diff := cmp.Diff(ps, byType[typ], cmpopts.IgnoreUnexported(param{})); diff != "" {
			t.Errorf("%s params (-want +got):\n%s", typ, diff)
		}
	}
	human := cli(t, nil, "types").want(t, 0)
	if !strings.Contains(human.stdout, "required_skills:list") || !strings.Contains(human.stdout, "invoice_parse") {
		t.Errorf("types:\n%s", human.stdout)
	}
}
