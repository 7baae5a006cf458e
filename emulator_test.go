package sharpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// emulated returns a client aimed at a fresh emulator that finishes jobs at
// once and asks for no real-time waits.
func emulated(t *testing.T, emuOpts []sharpapitest.Option, opts ...sharpapi.Option) (*sharpapi.Client, *sharpapitest.Server) {
	t.Helper()
	emu := sharpapitest.NewServer(append([]sharpapitest.Option{
		sharpapitest.WithJobDuration(time.Millisecond),
		sharpapitest.WithRetryAfter(time.Millisecond),
	}, emuOpts...)...)
	t.Cleanup(emu.Close)
	c, err := sharpapi.NewClient("test-key", append([]sharpapi.Option{
		sharpapi.WithBaseURL(emu.URL),
		sharpapi.WithPollInterval(time.Millisecond),
		sharpapi.WithRetryWait(time.Millisecond, 5*time.Millisecond),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, emu
}

// agreeCase dispatches one job and reports what Wait returned next to the
// emulator's result for that job, decoded into the same type.
type agreeCase struct {
	typ sharpapi.JobType
	run func(ctx context.Context, c *sharpapi.Client, emu *sharpapitest.Server) (got, want any, raw, result json.RawMessage, err error)
}

func agree[T any](typ sharpapi.JobType, dispatch func(context.Context, *sharpapi.Client) (*sharpapi.Job[T], error)) agreeCase {
	return agreeCase{typ: typ, run: func(ctx context.Context, c *sharpapi.Client, emu *sharpapitest.Server) (any, any, json.RawMessage, json.RawMessage, error) {
		job, err := dispatch(ctx, c)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		got, err := job.Wait(ctx)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		// Resumed by its id with its type, it is awaited again through
		// the generic status URL: the type that answer reports passes the
		// type check, and the result is the same.
		resumed, err := sharpapi.ResumeJob[T](c, job.ID(), typ)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		again, err := resumed.Wait(ctx)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("resumed: %w", err)
		}
		if diff := cmp.Diff(got, again); diff != "" || job.Type() != typ {
			return nil, nil, nil, nil, fmt.Errorf("job.Type() = %s; resumed result (-dispatched +resumed):\n%s", job.Type(), diff)
		}
		info, _ := emu.Job(job.ID())
		var want T
		if err := json.Unmarshal(info.Result, &want); err != nil {
			return nil, nil, nil, nil, err
		}
		return got, want, job.Raw(), info.Result, nil
	}}
}

// TestSDKAndEmulatorAgree dispatches every job endpoint through the SDK
// against the emulator and checks the typed result equals the emulator's
// result, and the raw result is that result byte for byte (as JSON).
func TestSDKAndEmulatorAgree(t *testing.T) {
	const text = "Contact us at example@email.com or +65 8888 8888."
	resume := sharpapi.FileFromBytes("cv.txt", []byte("Linda Harris, Test Engineer"))
	cases := []agreeCase{
		agree(sharpapi.JobTypeContentDetectPhones, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.DetectPhonesResult], error) {
			return c.DetectPhones(ctx, sharpapi.DetectPhonesParams{Content: text})
		}),
		agree(sharpapi.JobTypeContentDetectEmails, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.DetectEmailsResult], error) {
			return c.DetectEmails(ctx, sharpapi.DetectEmailsParams{Content: text})
		}),
		agree(sharpapi.JobTypeContentDetectSpam, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.DetectSpamResult], error) {
			return c.DetectSpam(ctx, sharpapi.DetectSpamParams{Content: text})
		}),
		agree(sharpapi.JobTypeContentDetectURLs, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.DetectURLsResult], error) {
			return c.DetectURLs(ctx, sharpapi.DetectURLsParams{Content: text})
		}),
		agree(sharpapi.JobTypeContentDetectAddress, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.DetectAddressResult], error) {
			return c.DetectAddress(ctx, sharpapi.DetectAddressParams{Content: text})
		}),
		agree(sharpapi.JobTypeContentDetectProfanities, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.DetectProfanitiesResult], error) {
			return c.DetectProfanities(ctx, sharpapi.DetectProfanitiesParams{Content: text})
		}),
		agree(sharpapi.JobTypeContentDetectAI, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.DetectAIResult], error) {
			return c.DetectAI(ctx, sharpapi.DetectAIParams{Content: text})
		}),
		agree(sharpapi.JobTypeContentSummarize, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.SummarizeResult], error) {
			return c.Summarize(ctx, sharpapi.SummarizeParams{Content: text, MaxLength: 50})
		}),
		agree(sharpapi.JobTypeContentKeywords, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.KeywordsResult], error) {
			return c.Keywords(ctx, sharpapi.KeywordsParams{Content: text, MaxQuantity: 5})
		}),
		agree(sharpapi.JobTypeContentTranslate, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.TranslateResult], error) {
			return c.Translate(ctx, sharpapi.TranslateParams{Content: text, Language: "Italian"})
		}),
		agree(sharpapi.JobTypeContentParaphrase, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.ParaphraseResult], error) {
			return c.Paraphrase(ctx, sharpapi.ParaphraseParams{Content: text, VoiceTone: "Witty"})
		}),
		agree(sharpapi.JobTypeContentProofread, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.ProofreadResult], error) {
			return c.Proofread(ctx, sharpapi.ProofreadParams{Content: text})
		}),
		agree(sharpapi.JobTypeHRParseResume, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.ParseResumeResult], error) {
			return c.ParseResume(ctx, sharpapi.ParseResumeParams{File: resume, Language: "English"})
		}),
		agree(sharpapi.JobTypeHRJobDescription, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.JobDescriptionResult], error) {
			return c.JobDescription(ctx, sharpapi.JobDescriptionParams{Name: "Senior PHP Software Engineer", Remote: true})
		}),
		agree(sharpapi.JobTypeHRRelatedSkills, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.RelatedSkillsResult], error) {
			return c.RelatedSkills(ctx, sharpapi.RelatedSkillsParams{Content: "Quicken"})
		}),
		agree(sharpapi.JobTypeHRRelatedJobPositions, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.RelatedJobPositionsResult], error) {
			return c.RelatedJobPositions(ctx, sharpapi.RelatedJobPositionsParams{Content: "Flutter Mobile Developer"})
		}),
		agree(sharpapi.JobTypeHRResumeJobMatchScore, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.ResumeJobMatchScoreResult], error) {
			return c.ResumeJobMatchScore(ctx, sharpapi.ResumeJobMatchScoreParams{File: resume, Content: "Test Engineer wanted"})
		}),
		agree(sharpapi.JobTypeEcommerceReviewSentiment, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.ReviewSentimentResult], error) {
			return c.ReviewSentiment(ctx, sharpapi.ReviewSentimentParams{Content: "Broke in a week."})
		}),
		agree(sharpapi.JobTypeEcommerceProductCategories, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.ProductCategoriesResult], error) {
			return c.ProductCategories(ctx, sharpapi.ProductCategoriesParams{Content: "Razer Blade 16"})
		}),
		agree(sharpapi.JobTypeEcommerceProductIntro, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.ProductIntroResult], error) {
			return c.ProductIntro(ctx, sharpapi.ProductIntroParams{Content: "Razer Blade 16"})
		}),
		agree(sharpapi.JobTypeEcommerceThankYouEmail, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.ThankYouEmailResult], error) {
			return c.ThankYouEmail(ctx, sharpapi.ThankYouEmailParams{Content: "Razer Blade 16"})
		}),
		agree(sharpapi.JobTypeSEOGenerateTags, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.GenerateSEOTagsResult], error) {
			return c.GenerateSEOTags(ctx, sharpapi.GenerateSEOTagsParams{Content: text})
		}),
		agree(sharpapi.JobTypeTTHReviewSentiment, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.TravelReviewSentimentResult], error) {
			return c.TravelReviewSentiment(ctx, sharpapi.TravelReviewSentimentParams{Content: "Lovely stay."})
		}),
		agree(sharpapi.JobTypeTTHTAProductCategories, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.ToursActivitiesCategoriesResult], error) {
			return c.ToursActivitiesCategories(ctx, sharpapi.ToursActivitiesCategoriesParams{Content: "Boat tour", City: "Split"})
		}),
		agree(sharpapi.JobTypeTTHHospitalityProductCategories, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.HospitalityCategoriesResult], error) {
			return c.HospitalityCategories(ctx, sharpapi.HospitalityCategoriesParams{Content: "Adults-only hotel"})
		}),
		agree(sharpapi.JobTypeInvoiceParse, func(ctx context.Context, c *sharpapi.Client) (*sharpapi.Job[sharpapi.ParseInvoiceResult], error) {
			return c.ParseInvoice(ctx, sharpapi.ParseInvoiceParams{File: sharpapi.FileFromBytes("invoice.pdf", []byte("%PDF-1.4"))})
		}),
	}
	for _, generic := range []bool{false, true} {
		var emuOpts []sharpapitest.Option
		if generic {
			emuOpts = append(emuOpts, sharpapitest.WithGenericStatusURL())
		}
		c, emu := emulated(t, emuOpts)
		for _, tc := range cases {
			name := string(tc.typ)
			if generic {
				name += "/generic status URL"
			}
			t.Run(name, func(t *testing.T) {
				got, want, raw, result, err := tc.run(context.Background(), c, emu)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("typed result (-emulator +SDK):\n%s", diff)
				}
				if !jsonEqual(t, result, raw) {
					t.Errorf("Raw() = %s\nwant %s", raw, result)
				}
			})
		}
		if n := len(emu.Jobs()); n != len(cases) {
			t.Errorf("emulator holds %d jobs, want one per dispatch (%d)", n, len(cases))
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return cmp.Equal(x, y)
}

func TestSyncEndpointsAgainstEmulator(t *testing.T) {
	c, _ := emulated(t, nil)
	ctx := context.Background()
	if p, err := c.Ping(ctx); err != nil || p.Ping != "pong" {
		t.Errorf("Ping = %+v, %v", p, err)
	}
	if q, err := c.Quota(ctx); err != nil || q.SubscriptionWordsQuota == 0 {
		t.Errorf("Quota = %+v, %v", q, err)
	}
	if p, err := c.ScrapeURL(ctx, "https://example.com/"); err != nil || p.URL != "https://example.com/" {
		t.Errorf("ScrapeURL = %+v, %v", p, err)
	}
	page, err := c.JobPositions(ctx, sharpapi.JobPositionsParams{PerPage: 5})
	if err != nil || len(page.Positions) != 5 {
		t.Fatalf("JobPositions = %+v, %v", page, err)
	}
	if pos, err := c.JobPosition(ctx, page.Positions[0].ID); err != nil || pos.Name != page.Positions[0].Name {
		t.Errorf("JobPosition = %+v, %v", pos, err)
	}
	airports, err := c.Airports(ctx, sharpapi.AirportsParams{PerPage: 3})
	if err != nil || len(airports.Airports) != 3 {
		t.Fatalf("Airports = %+v, %v", airports, err)
	}
	for _, a := range airports.Airports {
		if a.IATA != "" {
			if got, err := c.AirportByIATA(ctx, a.IATA); err != nil || got.ICAO != a.ICAO {
				t.Errorf("AirportByIATA(%s) = %+v, %v", a.IATA, got, err)
			}
		}
		if a.ICAO != "" {
			if got, err := c.AirportByICAO(ctx, a.ICAO); err != nil || got.Name != a.Name {
				t.Errorf("AirportByICAO(%s) = %+v, %v", a.ICAO, got, err)
			}
		}
	}
	flows, err := c.ListWorkflows(ctx, sharpapi.ListWorkflowsParams{})
	if err != nil || len(flows.Workflows) == 0 {
		t.Fatalf("ListWorkflows = %+v, %v", flows, err)
	}
	flow, err := c.DescribeWorkflow(ctx, flows.Workflows[0].Slug)
	if err != nil || flow.Name != flows.Workflows[0].Name {
		t.Errorf("DescribeWorkflow = %+v, %v", flow, err)
	}
}
