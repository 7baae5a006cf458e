package sharpapi

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScore(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Score
		wantErr bool
	}{
		{in: `85`, want: 85},
		{in: `"85"`, want: 85},
		{in: `" 42 "`, want: 42},
		{in: `85.4`, want: 85},
		{in: `"85.6"`, want: 86},
		{in: `0`, want: 0},
		{in: `null`, want: 0},
		{in: `""`, want: 0},
		{in: `"high"`, wantErr: true},
		{in: `"NaN"`, wantErr: true},
		{in: `1e300`, wantErr: true},
		{in: `true`, wantErr: true},
		{in: `[85]`, wantErr: true},
	} {
		var got struct{ Score Score }
		err := json.Unmarshal([]byte(`{"Score": `+tc.in+`}`), &got)
		if (err != nil) != tc.wantErr || got.Score != tc.want {
			t.Errorf("Score from %s = %d, %v; want %d, error %t", tc.in, got.Score, err, tc.want, tc.wantErr)
		}
	}
}

// TestResultShapes decodes each result type from every shape SharpAPI,
// its catalog or other SDKs show, with plain json.Unmarshal as a webhook
// receiver would.
func TestResultShapes(t *testing.T) {
	invoiceDoc := `{"source_pages": [2], "invoice": {"invoice_number": "A-1", "exchange_rate": 1.25}}`
	wantInvoice := ParseInvoiceResult{Documents: []Invoice{{
		SourcePages: []int{2}, Invoice: InvoiceHeader{InvoiceNumber: "A-1", ExchangeRate: ptr(1.25)},
	}}}
	for _, tc := range []struct {
		name string
		in   string
		got  any // a pointer to a zero result
		want any
	}{
		{"keywords/array", `["a", "b"]`, new(KeywordsResult), &KeywordsResult{Keywords: []string{"a", "b"}}},
		{"keywords/object", `{"keywords": ["a", "b"]}`, new(KeywordsResult), &KeywordsResult{Keywords: []string{"a", "b"}}},
		{"keywords/other object", `{"tags": ["a"]}`, new(KeywordsResult), &KeywordsResult{}},
		{"keywords/null", `null`, new(KeywordsResult), &KeywordsResult{}},
		{"categories/array", `[{"name": "Laptops", "weight": 9}]`, new(ProductCategoriesResult),
			&ProductCategoriesResult{Categories: []Category{{Name: "Laptops", Weight: 9}}}},
		{"categories/object", `{"categories": [{"name": "Laptops", "weight": 9.5}]}`, new(ProductCategoriesResult),
			&ProductCategoriesResult{Categories: []Category{{Name: "Laptops", Weight: 9.5}}}},
		{"emails/object", `{"emails": ["a@b.c"]}`, new(DetectEmailsResult), &DetectEmailsResult{Emails: []string{"a@b.c"}}},
		{"phones/object", `{"phones": [{"parsed_number": "+1"}]}`, new(DetectPhonesResult),
			&DetectPhonesResult{Phones: []DetectedPhone{{ParsedNumber: "+1"}}}},
		{"urls/object", `{"urls": [{"url": "https://x.y"}]}`, new(DetectURLsResult),
			&DetectURLsResult{URLs: []DetectedURL{{URL: "https://x.y"}}}},
		{"proofread/string", `"Fixed text."`, new(ProofreadResult), &ProofreadResult{Proofread: "Fixed text."}},
		{"proofread/object", `{"proofread": "Fixed text."}`, new(ProofreadResult), &ProofreadResult{Proofread: "Fixed text."}},
		{"sentiment/string score", `{"score": "85", "opinion": "NEGATIVE"}`, new(ReviewSentimentResult),
			&ReviewSentimentResult{Opinion: OpinionNegative, Score: 85}},
		{"sentiment/number score", `{"score": 95, "opinion": "POSITIVE"}`, new(ReviewSentimentResult),
			&ReviewSentimentResult{Opinion: OpinionPositive, Score: 95}},
		{"spam/string score", `{"pass": true, "score": "12"}`, new(DetectSpamResult), &DetectSpamResult{Pass: true, Score: 12}},
		{"match/string scores", `{"match_scores": {"overall_match": "88", "skills_match": 92}}`, new(ResumeJobMatchScoreResult),
			&ResumeJobMatchScoreResult{MatchScores: MatchScores{OverallMatch: 88, SkillsMatch: 92}}},
		{"invoice/array", `[` + invoiceDoc + `]`, new(ParseInvoiceResult), &wantInvoice},
		{"invoice/object", invoiceDoc, new(ParseInvoiceResult), &wantInvoice},
		{"invoice/documents", `{"documents": [` + invoiceDoc + `]}`, new(ParseInvoiceResult), &wantInvoice},
		{"address/mixed", `["1 Main St", {"street": "2 High St", "city": "Leeds"}]`, new(DetectAddressResult),
			&DetectAddressResult{Addresses: []DetectedAddress{
				{Text: "1 Main St", Raw: json.RawMessage(`"1 Main St"`)},
				{Raw: json.RawMessage(`{"street": "2 High St", "city": "Leeds"}`)},
			}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := json.Unmarshal([]byte(tc.in), tc.got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDetectedAddressDecode(t *testing.T) {
	var r DetectAddressResult
	if err := json.Unmarshal([]byte(`[{"street": "2 High St", "city": "Leeds"}]`), &r); err != nil {
		t.Fatal(err)
	}
	var addr struct{ Street, City string }
	if err := r.Addresses[0].Decode(&addr); err != nil || addr.City != "Leeds" || addr.Street != "2 High St" {
		t.Errorf("Decode = %+v, %v", addr, err)
	}
}

// TestGenericStatusURL checks results that come from SharpAPI's generic
// status URL, /job/status/{id}, where result is a JSON-encoded string:
// a dispatch that hands out that URL, and a job resumed by its id.
func TestGenericStatusURL(t *testing.T) {
	const id = "45da1abe-2d39-4f7a-9b8e-5c1e7f0a3b21"
	serve := func(mux *http.ServeMux, typ JobType, result any) {
		encoded, _ := json.Marshal(result)
		mux.HandleFunc("GET /api/v1/job/status/"+id, func(w http.ResponseWriter, r *http.Request) {
			testHeaders(t, r, "")
			json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{
				"type": "api_job_result", "id": id,
				"attributes": map[string]any{"status": "success", "type": typ, "result": string(encoded)},
			}})
		})
	}
	t.Run("dispatch", func(t *testing.T) {
		c, mux, srvURL := setup(t)
		mux.HandleFunc("POST /api/v1/content/keywords", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			json.NewEncoder(w).Encode(map[string]string{"status_url": srvURL + "/api/v1/job/status/" + id, "job_id": id})
		})
		serve(mux, JobTypeContentKeywords, []string{"Formel 1", "Las Vegas"})
		job, err := c.Keywords(testContext(t), KeywordsParams{Content: "F1 in Las Vegas"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := job.Wait(testContext(t))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(KeywordsResult{Keywords: []string{"Formel 1", "Las Vegas"}}, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("resumed bare string", func(t *testing.T) {
		c, mux, _ := setup(t)
		serve(mux, JobTypeContentProofread, "Fixed text.")
		job, err := ResumeJob[ProofreadResult](c, id, JobTypeContentProofread)
		if err != nil {
			t.Fatal(err)
		}
		got, err := job.Wait(testContext(t))
		if err != nil {
			t.Fatal(err)
		}
		if want := (ProofreadResult{Proofread: "Fixed text."}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

// resultTypes decodes a result into the result type of each fixture of
// testdata/results, by its name.
var resultTypes = map[string]func([]byte) (any, error){
	"content_detect_phones":              decodeAs[DetectPhonesResult],
	"content_detect_emails":              decodeAs[DetectEmailsResult],
	"content_detect_spam":                decodeAs[DetectSpamResult],
	"content_detect_urls":                decodeAs[DetectURLsResult],
	"content_detect_address":             decodeAs[DetectAddressResult],
	"content_detect_profanities":         decodeAs[DetectProfanitiesResult],
	"content_detect_ai":                  decodeAs[DetectAIResult],
	"content_summarize":                  decodeAs[SummarizeResult],
	"content_keywords":                   decodeAs[KeywordsResult],
	"content_translate":                  decodeAs[TranslateResult],
	"content_paraphrase":                 decodeAs[ParaphraseResult],
	"content_proofread":                  decodeAs[ProofreadResult],
	"hr_parse_resume":                    decodeAs[ParseResumeResult],
	"hr_job_description":                 decodeAs[JobDescriptionResult],
	"hr_related_skills":                  decodeAs[RelatedSkillsResult],
	"hr_related_job_positions":           decodeAs[RelatedJobPositionsResult],
	"hr_resume_job_match_score":          decodeAs[ResumeJobMatchScoreResult],
	"ecommerce_review_sentiment":         decodeAs[ReviewSentimentResult],
	"ecommerce_product_categories":       decodeAs[ProductCategoriesResult],
	"ecommerce_product_intro":            decodeAs[ProductIntroResult],
	"ecommerce_thank_you_email":          decodeAs[ThankYouEmailResult],
	"seo_generate_tags":                  decodeAs[GenerateSEOTagsResult],
	"tth_review_sentiment":               decodeAs[TravelReviewSentimentResult],
	"tth_ta_product_categories":          decodeAs[ToursActivitiesCategoriesResult],
	"tth_hospitality_product_categories": decodeAs[HospitalityCategoriesResult],
	"invoice_parse":                      decodeAs[ParseInvoiceResult],
	"custom_workflow":                    decodeAs[json.RawMessage],
}

func decodeAs[T any](b []byte) (any, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

// TestResultsRoundTrip checks that every result, encoded with
// json.Marshal (to cache it, say), decodes to the same value.
func TestResultsRoundTrip(t *testing.T) {
	for typ, decode := range resultTypes {
		t.Run(typ, func(t *testing.T) {
			var env statusEnvelope
			if err := json.Unmarshal(readFile(t, "testdata/results/"+typ+".json"), &env); err != nil {
				t.Fatal(err)
			}
			first, err := decode(env.Data.Attributes.Result)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(first)
			if err != nil {
				t.Fatal(err)
			}
			again, err := decode(b)
			if err != nil {
				t.Fatalf("decoding %s: %v", b, err)
			}
			if diff := cmp.Diff(first, again); diff != "" {
				t.Errorf("round trip mismatch (-first +again):\n%s", diff)
			}
		})
	}
}

// FuzzResults feeds odd JSON to every result type: an error is fine, a
// panic is not.
func FuzzResults(f *testing.F) {
	for _, seed := range []string{`null`, `1`, `"s"`, `[]`, `{}`, `[1]`, `[null]`, `{"keywords": 5}`, `[[]]`,
		`{"documents": null}`, `{"attributes": 1}`, `{"params": {"data": 3}}`, `{"score": {}}`} {
		f.Add([]byte(seed))
	}
	for _, dir := range []string{"testdata/results", "testdata/sync"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, decode := range resultTypes {
			decode(b)
		}
		for _, v := range []any{new(Quota), new(ScrapedPage), new(JobPositionsPage), new(AirportsPage),
			new(Workflow), new(WorkflowPage), new(Score)} {
			json.Unmarshal(b, v)
		}
	})
}
