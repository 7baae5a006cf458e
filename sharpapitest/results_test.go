package sharpapitest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// writeFiles fills a fresh directory with name → content files.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestWithResultsDir answers two job types from files, leaves the others
// their documented example, and ignores what is not a *.json file.
func TestWithResultsDir(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"content_translate.json": `{
			"content": "Bonjour, le monde / ça va ?",
			"to_language": "French",
			"from_language": "English"
		}`,
		"custom_sentiment_analysis.json": `{"sentiment": "negative", "confidence": 0.1}`,
		"README.txt":                     "not a result",
		"nested/content_keywords.json":   "not read",
	})
	srv := newServer(t, sharpapitest.WithJobDuration(0), sharpapitest.WithResultsDir(dir))

	for _, tc := range []struct {
		path string
		body map[string]string
		want string
	}{
		{"/content/translate", map[string]string{"content": "Hello, world", "language": "French"},
			`{"content":"Bonjour, le monde / ça va ?","to_language":"French","from_language":"English"}`},
		{"/custom/sentiment-analysis", map[string]string{"text": "meh"}, `{"sentiment":"negative","confidence":0.1}`},
		{"/content/keywords", map[string]string{"content": "x"}, ""},
	} {
		d := dispatch(t, srv.URL+tc.path, tc.body)
		var st statusBody
		st = decode[statusBody](t, get(t, d.StatusURL).body)
		want := tc.want
		if want == "" {
			ex, _ := sharpapitest.ExampleResult("content_keywords")
			want = string(ex)
		}
		if diff := cmp.Diff(decode[any](t, []byte(want)), decode[any](t, st.Data.Attributes.Result)); diff != "" {
			t.Errorf("%s result (-want +got):\n%s", tc.path, diff)
		}
	}
}

// TestWithResultsDirErrors checks that every mistake in a results
// directory is reported at creation, naming the file.
func TestWithResultsDirErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"invalid JSON", map[string]string{"content_translate.json": `{"content": "x",}`},
			[]string{"content_translate.json: invalid JSON at byte 17"}},
		{"unknown job type", map[string]string{"content_translat.json": `{}`},
			[]string{`content_translat.json: unknown job type "content_translat"; the job types are `, "content_translate, "}},
		{"both", map[string]string{"nope.json": `{}`, "invoice_parse.json": `[`},
			[]string{`unknown job type "nope"`, "invoice_parse.json: invalid JSON"}},
		{"no result file", map[string]string{"content_translate.txt": `{}`},
			[]string{"holds no <job_type>.json file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sharpapitest.New(sharpapitest.WithResultsDir(writeFiles(t, tc.files)))
			if !errors.Is(err, sharpapitest.ErrInvalidOption) {
				t.Fatalf("New: %v, want ErrInvalidOption", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("New: %v\nwant it to say %q", err, want)
				}
			}
		})
	}

	_, err := sharpapitest.New(sharpapitest.WithResultsDir(filepath.Join(t.TempDir(), "missing")))
	if !errors.Is(err, sharpapitest.ErrInvalidOption) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New with a missing directory: %v", err)
	}

	_, err = sharpapitest.New(sharpapitest.WithResult("content_translation", func(sharpapitest.JobRequest) (any, error) { return nil, nil }))
	if !errors.Is(err, sharpapitest.ErrInvalidOption) || !strings.Contains(err.Error(), `WithResult: unknown job type "content_translation"`) {
		t.Errorf("WithResult with an unknown job type: %v", err)
	}
}
