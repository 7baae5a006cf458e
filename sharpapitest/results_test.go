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
// their default answer, and ignores what is not a *.json file.
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
		{"/content/keywords", map[string]string{"content": "Gophers dig tunnels"}, `["Gophers", "dig", "tunnels"]`}, // the default answer
	} {
		d := dispatch(t, srv.URL+tc.path, tc.body)
		st := decode[statusBody](t, get(t, d.StatusURL).body)
		if diff := cmp.Diff(decode[any](t, []byte(tc.want)), decode[any](t, st.Data.Attributes.Result)); diff != "" {
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

// symlink makes a symbolic link, or skips the test where it cannot.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic link here: %v", err)
	}
}

// TestWithResultsDirLinks: a symbolic link is followed only when its
// target is relative and stays inside the directory; every other link is
// refused, by name.
func TestWithResultsDirLinks(t *testing.T) {
	const fr = `{"content": "Bonjour", "to_language": "French", "from_language": "English"}`
	// tree is a results directory, with a file outside it next to it.
	tree := func(t *testing.T) (parent, dir string) {
		parent = writeFiles(t, map[string]string{
			"outside.json":                  `{"content": "read out of the directory"}`,
			"results/fixtures/fr.json":      fr,
			"results/content_keywords.json": `["kept"]`,
		})
		return parent, filepath.Join(parent, "results")
	}

	_, dir := tree(t)
	symlink(t, "fixtures/fr.json", filepath.Join(dir, "content_translate.json"))
	srv := newServer(t, sharpapitest.WithJobDuration(0), sharpapitest.WithResultsDir(dir))
	d := dispatch(t, srv.URL+"/content/translate", map[string]string{"content": "Hello", "language": "French"})
	got := decode[statusBody](t, get(t, d.StatusURL).body).Data.Attributes.Result
	if diff := cmp.Diff(decode[any](t, []byte(fr)), decode[any](t, got)); diff != "" {
		t.Errorf("result through a link inside the directory (-want +got):\n%s", diff)
	}

	const notInside = "a symbolic link that does not lead to a file inside the directory"
	for _, tc := range []struct {
		name   string
		target func(parent, dir string) string
		want   string
	}{
		{"out, relative", func(_, _ string) string { return "../outside.json" }, notInside},
		{"out, absolute", func(parent, _ string) string { return filepath.Join(parent, "outside.json") }, notInside},
		{"in, absolute", func(_, dir string) string { return filepath.Join(dir, "fixtures", "fr.json") }, notInside},
		{"dangling", func(_, _ string) string { return "missing.json" }, notInside},
		{"to a directory", func(_, _ string) string { return "fixtures" }, "not a regular file but a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, dir := tree(t)
			link := filepath.Join(dir, "content_translate.json")
			symlink(t, tc.target(parent, dir), link)
			_, err := sharpapitest.New(sharpapitest.WithResultsDir(dir))
			if !errors.Is(err, sharpapitest.ErrInvalidOption) {
				t.Fatalf("New with a link to %s: %v, want ErrInvalidOption", tc.target(parent, dir), err)
			}
			if want := link + ": " + tc.want; !strings.Contains(err.Error(), want) {
				t.Errorf("New: %v\nwant it to say %q", err, want)
			}
		})
	}
}

// TestWithResultsDirSizeCap: a result file of 4 MiB is read, one byte more
// is refused, by name.
func TestWithResultsDirSizeCap(t *testing.T) {
	const limit = 4 << 20
	str := func(n int) string { return `"` + strings.Repeat("a", n-2) + `"` } // n bytes of JSON
	dir := writeFiles(t, map[string]string{"content_translate.json": str(limit)})
	if _, err := sharpapitest.New(sharpapitest.WithResultsDir(dir)); err != nil {
		t.Errorf("New with a result file of 4 MiB: %v", err)
	}

	dir = writeFiles(t, map[string]string{"content_translate.json": str(limit + 1)})
	_, err := sharpapitest.New(sharpapitest.WithResultsDir(dir))
	if !errors.Is(err, sharpapitest.ErrInvalidOption) {
		t.Fatalf("New with a result file over 4 MiB: %v, want ErrInvalidOption", err)
	}
	want := filepath.Join(dir, "content_translate.json") + ": 4194305 bytes, more than the 4 MiB a result file may hold"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("New: %v\nwant it to say %q", err, want)
	}
}
