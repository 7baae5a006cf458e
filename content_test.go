package sharpapi

import (
	"context"
	"encoding/json"
	"testing"
)

func TestContent(t *testing.T) {
	testJobs(t, []jobCase{{
		name: "DetectPhones", path: "/content/detect_phones", typ: JobTypeContentDetectPhones,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.DetectPhones(ctx, DetectPhonesParams{Content: "Call 1800-394-7486 or +65 8888 8888."}))
		},
		body: `{"content": "Call 1800-394-7486 or +65 8888 8888."}`,
		want: DetectPhonesResult{Phones: []DetectedPhone{
			{DetectedNumber: "1800-394-7486", ParsedNumber: "+18003947486"},
			{DetectedNumber: "+65 8888 8888", ParsedNumber: "+6588888888"},
		}},
		invalid: func(ctx context.Context, c *Client) error { return errOf(c.DetectPhones(ctx, DetectPhonesParams{})) },
		missing: "DetectPhonesParams.Content",
	}, {
		name: "DetectEmails", path: "/content/detect_emails", typ: JobTypeContentDetectEmails,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.DetectEmails(ctx, DetectEmailsParams{Content: "Contact us at example@email.com."}))
		},
		body: `{"content": "Contact us at example@email.com."}`,
		want: DetectEmailsResult{Emails: []string{"example@email.com", "lorem.ipsum@email.com"}},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.DetectEmails(ctx, DetectEmailsParams{Content: " \n"}))
		},
		missing: "DetectEmailsParams.Content",
	}, {
		name: "DetectSpam", path: "/content/detect_spam", typ: JobTypeContentDetectSpam,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.DetectSpam(ctx, DetectSpamParams{Content: "Cheap loans!"}))
		},
		body: `{"content": "Cheap loans!"}`,
		want: DetectSpamResult{Pass: false, Score: 85,
			Reason: "The message appears to be a solicitation for financial services, which is a common characteristic of spam."},
		invalid: func(ctx context.Context, c *Client) error { return errOf(c.DetectSpam(ctx, DetectSpamParams{})) },
		missing: "DetectSpamParams.Content",
	}, {
		name: "DetectURLs", path: "/content/detect_urls", typ: JobTypeContentDetectURLs,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.DetectURLs(ctx, DetectURLsParams{Content: "See example.com"}))
		},
		body: `{"content": "See example.com"}`,
		want: DetectURLsResult{URLs: []DetectedURL{
			{URL: "http://example.com", Protocol: "http"},
			{URL: "https://github.com", Protocol: "https"},
			{URL: "http://www.laravel.com/docs", Protocol: "http"},
		}},
		invalid: func(ctx context.Context, c *Client) error { return errOf(c.DetectURLs(ctx, DetectURLsParams{})) },
		missing: "DetectURLsParams.Content",
	}, {
		name: "DetectAddress", path: "/content/detect_address", typ: JobTypeContentDetectAddress,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.DetectAddress(ctx, DetectAddressParams{Content: "Write to 34 Made Up Road, Coventry."}))
		},
		body: `{"content": "Write to 34 Made Up Road, Coventry."}`,
		want: DetectAddressResult{Addresses: []DetectedAddress{
			{Text: "34 Made Up Road, Coventry, CV66 7RF", Raw: json.RawMessage(`"34 Made Up Road, Coventry, CV66 7RF"`)},
			{Text: "548 Market Street, San Francisco, CA 94104", Raw: json.RawMessage(`"548 Market Street, San Francisco, CA 94104"`)},
		}},
		invalid: func(ctx context.Context, c *Client) error { return errOf(c.DetectAddress(ctx, DetectAddressParams{})) },
		missing: "DetectAddressParams.Content",
	}, {
		name: "DetectProfanities", path: "/content/detect_profanities", typ: JobTypeContentDetectProfanities,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.DetectProfanities(ctx, DetectProfanitiesParams{Content: "Darn it."}))
		},
		body: `{"content": "Darn it."}`,
		want: DetectProfanitiesResult{Pass: false, Score: 92, Reason: "The text contains explicit profanity."},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.DetectProfanities(ctx, DetectProfanitiesParams{}))
		},
		missing: "DetectProfanitiesParams.Content",
	}, {
		name: "DetectAI", path: "/content/detect_ai", typ: JobTypeContentDetectAI,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.DetectAI(ctx, DetectAIParams{Content: "This comprehensive analysis delves into..."}))
		},
		body: `{"content": "This comprehensive analysis delves into..."}`,
		want: DetectAIResult{
			AILikelihoodPercent: 85,
			Assessment:          "This text shows strong indicators of AI generation.",
			Reasoning:           "The text uses several AI-associated vocabulary words (comprehensive, delves, multifaceted, crucial, leverage, innovative, foster, streamline) and employs excessive transitional phrases (In conclusion, Furthermore). The formal register and promotional tone are also characteristic of LLM output.",
			FlaggedParts: []FlaggedPart{
				{Text: "comprehensive analysis delves into the multifaceted aspects", Reason: "AI-associated vocabulary cluster"},
				{Text: "Furthermore, it is crucial to leverage", Reason: "Excessive transitional phrase with AI vocabulary"},
			},
		},
		invalid: func(ctx context.Context, c *Client) error { return errOf(c.DetectAI(ctx, DetectAIParams{})) },
		missing: "DetectAIParams.Content",
	}, {
		name: "Summarize", path: "/content/summarize", typ: JobTypeContentSummarize,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.Summarize(ctx, SummarizeParams{
				Content: "Red Bull's Max Verstappen says...", Language: "English", MaxLength: 50, VoiceTone: "Funny", Context: "F1 fans",
			}))
		},
		body: `{"content": "Red Bull's Max Verstappen says...", "language": "English", "max_length": 50, "voice_tone": "Funny", "context": "F1 fans"}`,
		want: SummarizeResult{Summary: "Max Verstappen thinks the Las Vegas Grand Prix is more showbiz than sport, while Lewis Hamilton and Fernando Alonso are soaking up the glitz. Expect hydraulic platforms, light shows, and maybe some racing. Don't knock it 'til you try it!"},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.Summarize(ctx, SummarizeParams{Language: "English", MaxLength: 50}))
		},
		missing: "SummarizeParams.Content",
	}, {
		name: "Keywords", path: "/content/keywords", typ: JobTypeContentKeywords,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.Keywords(ctx, KeywordsParams{Content: "Las Vegas Grand Prix...", Language: "German", MaxQuantity: 5}))
		},
		body: `{"content": "Las Vegas Grand Prix...", "language": "German", "max_quantity": 5}`,
		want: KeywordsResult{Keywords: []string{"Las Vegas Grand Prix", "Max Verstappen", "Formel 1", "Lewis Hamilton", "Fernando Alonso"}},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.Keywords(ctx, KeywordsParams{Content: "x", MaxQuantity: -1}))
		},
		missing: "KeywordsParams.MaxQuantity",
	}, {
		name: "Translate", path: "/content/translate", typ: JobTypeContentTranslate,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.Translate(ctx, TranslateParams{Content: "La montée du niveau de la mer...", Language: "English", VoiceTone: "neutral"}))
		},
		body: `{"content": "La montée du niveau de la mer...", "language": "English", "voice_tone": "neutral"}`,
		want: TranslateResult{
			Content:      "The rise in sea levels threatens to engulf the Maldives where fresh water is already starting to run out, but the new president of the Indian Ocean archipelago refuses any relocation of its population abroad. In an interview with AFP, President Mohamed Muizzu, a 45-year-old civil engineering graduate trained in the United Kingdom, instead promises an ambitious program of land rehabilitation and island elevation, which environmental organizations criticize.",
			FromLanguage: "French",
			ToLanguage:   "English",
		},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.Translate(ctx, TranslateParams{Language: "Italian"}))
		},
		missing: "TranslateParams.Content",
	}, {
		name: "Paraphrase", path: "/content/paraphrase", typ: JobTypeContentParaphrase,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.Paraphrase(ctx, ParaphraseParams{
				Content: "Exploring the vibrant tech industry, we discover amazing advancements.", VoiceTone: "enthusiastic",
			}))
		},
		body: `{"content": "Exploring the vibrant tech industry, we discover amazing advancements.", "voice_tone": "enthusiastic"}`,
		want: ParaphraseResult{Paraphrase: "As we delve into the dynamic tech sector, we witness remarkable progress."},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.Paraphrase(ctx, ParaphraseParams{VoiceTone: "enthusiastic"}))
		},
		missing: "ParaphraseParams.Content",
	}, {
		name: "Proofread", path: "/content/proofread", typ: JobTypeContentProofread,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.Proofread(ctx, ProofreadParams{Content: "Red Bulls Max Verstappen say..."}))
		},
		body:    `{"content": "Red Bulls Max Verstappen say..."}`,
		want:    ProofreadResult{Proofread: "Red Bull's Max Verstappen says this weekend's Las Vegas Grand Prix is \"99% show and 1% sporting event\". \n\n The triple world champion said he is \"not looking forward\" to the razzmatazz around the race, ..."},
		invalid: func(ctx context.Context, c *Client) error { return errOf(c.Proofread(ctx, ProofreadParams{})) },
		missing: "ProofreadParams.Content",
	}})
}
