package sharpapitest_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// someText holds something for every detection endpoint to find.
const someText = "Some text to work on: write to 34 Made Up Road, Coventry, CV66 7RF or to jo@example.com, " +
	"call +44 20 7946 0958, see https://example.com/about."

// shapeDiff reports where got is not shaped as example: another JSON type,
// other object keys, an empty list where the example has items, or items
// not shaped as the example's first. A null in the example matches
// anything. It returns "" when the shapes agree.
func shapeDiff(example, got any) string {
	var walk func(path string, ex, g any) []string
	walk = func(path string, ex, g any) []string {
		if ex == nil {
			return nil
		}
		if fmt.Sprintf("%T", ex) != fmt.Sprintf("%T", g) {
			return []string{fmt.Sprintf("%s: %T, want %T", path, g, ex)}
		}
		var diffs []string
		switch ex := ex.(type) {
		case map[string]any:
			g := g.(map[string]any)
			if k1, k2 := slices.Sorted(maps.Keys(ex)), slices.Sorted(maps.Keys(g)); !slices.Equal(k1, k2) {
				return []string{fmt.Sprintf("%s: keys %q, want %q", path, k2, k1)}
			}
			for k := range ex {
				diffs = append(diffs, walk(path+"."+k, ex[k], g[k])...)
			}
		case []any:
			g := g.([]any)
			if len(ex) > 0 && len(g) == 0 {
				return []string{path + ": an empty list"}
			}
			for i := range g {
				if len(ex) > 0 {
					diffs = append(diffs, walk(fmt.Sprintf("%s[%d]", path, i), ex[0], g[i])...)
				}
			}
		}
		return diffs
	}
	return strings.Join(walk("result", example, got), "; ")
}

// TestDefaultAnswers checks that each job's default result follows its
// request where SharpAPI's documented example would contradict it, in the
// example's shape, and that the other job types answer the example.
func TestDefaultAnswers(t *testing.T) {
	srv := newServer(t, sharpapitest.WithJobDuration(0))
	for _, tc := range []struct {
		name, path string
		body       map[string]any
		want       string // JSON; the documented example of the job type if it starts with "example:"
	}{
		{"translate", "/content/translate", map[string]any{"content": "turn", "language": "French", "context": "to turn a page"},
			`{"content": "[French] turn", "to_language": "French", "from_language": "English"}`},
		{"translate into English", "/content/translate", map[string]any{"content": "La montée du niveau de la mer", "language": "English"},
			`{"content": "[English] La montée du niveau de la mer", "to_language": "English", "from_language": "French"}`},
		{"translate, no language", "/content/translate", map[string]any{"content": "Hallo", "language": nil},
			`{"content": "[English] Hallo", "to_language": "English", "from_language": "French"}`},
		{"paraphrase", "/content/paraphrase", map[string]any{"content": "We discover amazing advancements.", "voice_tone": "enthusiastic"},
			`{"paraphrase": "[paraphrase] We discover amazing advancements."}`},
		{"paraphrase, max_length", "/content/paraphrase", map[string]any{"content": "one two three four", "max_length": "2"},
			`{"paraphrase": "[paraphrase] one two…"}`},
		{"summarize, language and max_length", "/content/summarize", map[string]any{"content": "A long\n story, told slowly.", "language": "German", "max_length": 3},
			`{"summary": "[summary in German] A long story,…"}`},
		{"proofread", "/content/proofread", map[string]any{"content": "Teh cat sat."}, `"[proofread] Teh cat sat."`},
		{"keywords", "/content/keywords", map[string]any{"content": "The Go gopher digs; the Go team (and the gopher) cheer at https://go.dev."},
			`["Go", "gopher", "digs", "team", "cheer"]`},
		{"keywords, max_quantity", "/content/keywords", map[string]any{"content": "alpha beta gamma delta", "max_quantity": 2},
			`["alpha", "beta"]`},
		{"detect emails", "/content/detect_emails", map[string]any{"content": "Mail jo@example.com, jo@example.com or ann.lee+x@mail.example.co.uk."},
			`["jo@example.com", "ann.lee+x@mail.example.co.uk"]`},
		{"detect emails, none", "/content/detect_emails", map[string]any{"content": "No address here."}, `[]`},
		{"detect URLs", "/content/detect_urls", map[string]any{"content": "See https://go.dev/doc, www.laravel.com/docs and (http://example.com)."},
			`[{"url": "https://go.dev/doc", "protocol": "https"}, {"url": "http://www.laravel.com/docs", "protocol": "http"},
			  {"url": "http://example.com", "protocol": "http"}]`},
		{"detect phones", "/content/detect_phones", map[string]any{"content": "Call +44 20 7946 0958 or (555) 010-4477 before 2024."},
			`[{"parsed_number": "+442079460958", "detected_number": "+44 20 7946 0958"}, {"parsed_number": "+5550104477", "detected_number": "(555) 010-4477"}]`},
		{"detect addresses", "/content/detect_address", map[string]any{
			"content": "Write to 10 Downing Street, London, SW1A 2AA, United Kingdom. Or to 1600 Amphitheatre Parkway, Mountain View, CA 94043. I ate 3 Apples."},
			`["10 Downing Street, London, SW1A 2AA, United Kingdom", "1600 Amphitheatre Parkway, Mountain View, CA 94043"]`},
		{"SEO tags", "/seo/generate_tags", map[string]any{"content": "Gophers at play: https://go.dev/blog and https://go.dev/images/gopher.png", "language": "Spanish"},
			`{"meta_tags": {
				"title": "[title in Spanish] Gophers at play: https://go.dev/blog and https://go.dev/images/gopher.png",
				"author": "", "og:url": "https://go.dev/blog", "og:type": "article", "keywords": "Gophers, play",
				"og:image": "https://go.dev/images/gopher.png",
				"og:title": "[title in Spanish] Gophers at play: https://go.dev/blog and https://go.dev/images/gopher.png",
				"description": "[description in Spanish] Gophers at play: https://go.dev/blog and https://go.dev/images/gopher.png",
				"og:site_name": "", "twitter:card": "summary", "twitter:image": "https://go.dev/images/gopher.png",
				"twitter:title": "[title in Spanish] Gophers at play: https://go.dev/blog and https://go.dev/images/gopher.png",
				"og:description": "[description in Spanish] Gophers at play: https://go.dev/blog and https://go.dev/images/gopher.png",
				"twitter:creator": "",
				"twitter:description": "[description in Spanish] Gophers at play: https://go.dev/blog and https://go.dev/images/gopher.png"}}`},
		{"product categories, max_quantity", "/ecommerce/product_categories", map[string]any{"content": "Razer Blade 16", "max_quantity": 3},
			`[{"name": "[category 1] Razer Blade 16", "weight": 10}, {"name": "[category 2] Razer Blade 16", "weight": 10},
			  {"name": "[category 3] Razer Blade 16", "weight": 9.5}]`},
		{"tour categories, max_quantity", "/tth/ta_product_categories", map[string]any{"content": "Boat tour", "city": "Split", "max_quantity": 1},
			`[{"name": "[category 1] Boat tour", "weight": 9.5}]`},
		{"hotel categories, max_quantity", "/tth/hospitality_product_categories", map[string]any{"content": "Hotel Lux", "max_quantity": "2"},
			`[{"name": "[category 1] Hotel Lux", "weight": 10}, {"name": "[category 2] Hotel Lux", "weight": 8.5}]`},
		{"related skills", "/hr/related_skills", map[string]any{"content": "Go", "max_quantity": 2},
			`{"skill": "Go", "related_skills": [{"name": "[related skill 1] Go", "weight": 8.7}, {"name": "[related skill 2] Go", "weight": 7}]}`},
		{"related positions", "/hr/related_job_positions", map[string]any{"content": "Go Developer", "max_quantity": 1, "language": "German"},
			`{"job_position": "Go Developer", "related_job_positions": [{"name": "[related position 1] Go Developer", "weight": 8}]}`},
		{"job description", "/hr/job_description", map[string]any{"name": "Go Developer", "company_name": "Acme", "language": "German"},
			`{"job_requirements": "[requirements in German] Go Developer at Acme",
			  "job_responsibilities": "[responsibilities in German] Go Developer at Acme",
			  "job_short_description": "[short description in German] Go Developer at Acme"}`},
		{"product intro", "/ecommerce/product_intro", map[string]any{"content": "Razer Blade 16 Gaming Laptop", "max_length": 3},
			`{"product_intro": "[product intro] Razer Blade 16…"}`},
		{"thank-you email", "/ecommerce/thank_you_email", map[string]any{"content": "Razer Blade 16", "language": "Polish"},
			`{"email": "[thank-you email in Polish] Razer Blade 16"}`},
		{"review sentiment", "/ecommerce/review_sentiment", map[string]any{"content": "Broke in a week."}, "example:ecommerce_review_sentiment"},
		{"spam", "/content/detect_spam", map[string]any{"content": "Cheap loans!"}, "example:content_detect_spam"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dispatch(t, srv.URL+tc.path, tc.body)
			got := decode[statusBody](t, get(t, d.StatusURL).body).Data.Attributes.Result
			want := []byte(tc.want)
			if jobType, ok := strings.CutPrefix(tc.want, "example:"); ok {
				want, _ = sharpapitest.ExampleResult(jobType)
			}
			if diff := cmp.Diff(decode[any](t, want), decode[any](t, got)); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			info, _ := srv.Job(d.JobID)
			example, _ := sharpapitest.ExampleResult(info.Type)
			if diff := shapeDiff(decode[any](t, example), decode[any](t, got)); diff != "" && !strings.HasSuffix(tc.name, "none") {
				t.Errorf("result %s\nis not shaped as the example: %s", got, diff)
			}
		})
	}
}

// TestShapeDiff: the shape check can fail.
func TestShapeDiff(t *testing.T) {
	for _, tc := range []struct {
		example, got string
		want         string
	}{
		{`{"score": "85", "opinion": "NEGATIVE"}`, `{"score": "1", "opinion": "POSITIVE"}`, ""},
		{`{"score": "85", "opinion": "NEGATIVE"}`, `{"score": 85, "opinion": "NEGATIVE"}`, "result.score: float64, want string"},
		{`{"a": 1}`, `{"b": 1}`, `result: keys ["b"], want ["a"]`},
		{`[{"n": "x"}]`, `[]`, "result: an empty list"},
		{`[{"n": "x"}]`, `[{"n": "y"}, {"n": 2}]`, "result[1].n: float64, want string"},
		{`{"end": null}`, `{"end": "2024"}`, ""},
		{`"text"`, `["text"]`, "result: []interface {}, want string"},
	} {
		if got := shapeDiff(decode[any](t, []byte(tc.example)), decode[any](t, []byte(tc.got))); got != tc.want {
			t.Errorf("shapeDiff(%s, %s) = %q, want %q", tc.example, tc.got, got, tc.want)
		}
	}
}
