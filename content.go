package sharpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
)

// DetectPhonesParams are the parameters of DetectPhones.
type DetectPhonesParams struct {
	// Content is the text to search. Required.
	Content string `json:"content"`
}

func (p DetectPhonesParams) validate() error {
	return required("DetectPhonesParams.Content", p.Content)
}

// DetectPhonesResult lists the phone numbers found in a text.
type DetectPhonesResult struct {
	Phones []DetectedPhone `json:"phones"`
}

// UnmarshalJSON accepts SharpAPI's bare array and {"phones": [...]}.
func (r *DetectPhonesResult) UnmarshalJSON(b []byte) error {
	return unmarshalList(b, "phones", &r.Phones)
}

// DetectedPhone is a phone number found in a text.
type DetectedPhone struct {
	// DetectedNumber is the number as the text writes it ("1800-394-7486").
	DetectedNumber string `json:"detected_number"`
	// ParsedNumber is the number in E.164 form ("+18003947486").
	ParsedNumber string `json:"parsed_number"`
}

// DetectPhones finds the phone numbers in a text, in any format, and
// returns each with its E.164 form. POST /content/detect_phones.
func (c *Client) DetectPhones(ctx context.Context, p DetectPhonesParams, opts ...RequestOption) (*Job[DetectPhonesResult], error) {
	return dispatchJSON[DetectPhonesResult](ctx, c, "/content/detect_phones", JobTypeContentDetectPhones, p, opts)
}

// DetectEmailsParams are the parameters of DetectEmails.
type DetectEmailsParams struct {
	// Content is the text to search. Required.
	Content string `json:"content"`
}

func (p DetectEmailsParams) validate() error {
	return required("DetectEmailsParams.Content", p.Content)
}

// DetectEmailsResult lists the e-mail addresses found in a text.
type DetectEmailsResult struct {
	Emails []string `json:"emails"`
}

// UnmarshalJSON accepts SharpAPI's bare array and {"emails": [...]}.
func (r *DetectEmailsResult) UnmarshalJSON(b []byte) error {
	return unmarshalList(b, "emails", &r.Emails)
}

// DetectEmails finds the e-mail addresses in a text.
// POST /content/detect_emails.
func (c *Client) DetectEmails(ctx context.Context, p DetectEmailsParams, opts ...RequestOption) (*Job[DetectEmailsResult], error) {
	return dispatchJSON[DetectEmailsResult](ctx, c, "/content/detect_emails", JobTypeContentDetectEmails, p, opts)
}

// DetectSpamParams are the parameters of DetectSpam.
type DetectSpamParams struct {
	// Content is the message to judge. Required.
	Content string `json:"content"`
}

func (p DetectSpamParams) validate() error { return required("DetectSpamParams.Content", p.Content) }

// DetectSpamResult is a verdict on a text, from DetectSpam and from
// DetectProfanities.
type DetectSpamResult struct {
	// Pass is false when the text is spam (or profane).
	Pass bool `json:"pass"`
	// Score is SharpAPI's confidence in the verdict, 0 to 100.
	Score Score `json:"score"`
	// Reason explains the verdict.
	Reason string `json:"reason"`
}

// DetectSpam judges whether a message is spam, with a confidence score and
// the reason. POST /content/detect_spam.
func (c *Client) DetectSpam(ctx context.Context, p DetectSpamParams, opts ...RequestOption) (*Job[DetectSpamResult], error) {
	return dispatchJSON[DetectSpamResult](ctx, c, "/content/detect_spam", JobTypeContentDetectSpam, p, opts)
}

// DetectURLsParams are the parameters of DetectURLs.
type DetectURLsParams struct {
	// Content is the text to search. Required.
	Content string `json:"content"`
}

func (p DetectURLsParams) validate() error { return required("DetectURLsParams.Content", p.Content) }

// DetectURLsResult lists the URLs found in a text.
type DetectURLsResult struct {
	URLs []DetectedURL `json:"urls"`
}

// UnmarshalJSON accepts SharpAPI's bare array and {"urls": [...]}.
func (r *DetectURLsResult) UnmarshalJSON(b []byte) error {
	return unmarshalList(b, "urls", &r.URLs)
}

// DetectedURL is a URL found in a text.
type DetectedURL struct {
	// URL is the URL, completed with a scheme if the text left it out.
	URL string `json:"url"`
	// Protocol is its scheme ("http", "https").
	Protocol string `json:"protocol"`
}

// DetectURLs finds the URLs in a text. POST /content/detect_urls.
func (c *Client) DetectURLs(ctx context.Context, p DetectURLsParams, opts ...RequestOption) (*Job[DetectURLsResult], error) {
	return dispatchJSON[DetectURLsResult](ctx, c, "/content/detect_urls", JobTypeContentDetectURLs, p, opts)
}

// DetectAddressParams are the parameters of DetectAddress.
type DetectAddressParams struct {
	// Content is the text to search. Required.
	Content string `json:"content"`
}

func (p DetectAddressParams) validate() error {
	return required("DetectAddressParams.Content", p.Content)
}

// DetectAddressResult lists the postal addresses found in a text.
type DetectAddressResult struct {
	Addresses []DetectedAddress `json:"addresses"`
}

// UnmarshalJSON accepts a bare array and {"addresses": [...]}.
func (r *DetectAddressResult) UnmarshalJSON(b []byte) error {
	return unmarshalList(b, "addresses", &r.Addresses)
}

// DetectedAddress is one address found by DetectAddress. SharpAPI does not
// document the shape of its items, so each is kept as sent: Raw always
// holds it, and Text holds it too when it is a plain string.
type DetectedAddress struct {
	Text string
	Raw  json.RawMessage
}

// UnmarshalJSON keeps any JSON value.
func (a *DetectedAddress) UnmarshalJSON(b []byte) error {
	a.Raw, a.Text = bytes.Clone(bytes.TrimSpace(b)), ""
	if bytes.HasPrefix(a.Raw, []byte(`"`)) {
		return json.Unmarshal(a.Raw, &a.Text)
	}
	return nil
}

// MarshalJSON writes the address back as SharpAPI sent it.
func (a DetectedAddress) MarshalJSON() ([]byte, error) {
	if len(a.Raw) == 0 {
		return json.Marshal(a.Text)
	}
	return a.Raw, nil
}

// Decode decodes an address SharpAPI sent as an object into v.
func (a DetectedAddress) Decode(v any) error { return json.Unmarshal(a.Raw, v) }

// DetectAddress finds the postal addresses in a text.
// POST /content/detect_address.
func (c *Client) DetectAddress(ctx context.Context, p DetectAddressParams, opts ...RequestOption) (*Job[DetectAddressResult], error) {
	return dispatchJSON[DetectAddressResult](ctx, c, "/content/detect_address", JobTypeContentDetectAddress, p, opts)
}

// DetectProfanitiesParams are the parameters of DetectProfanities.
type DetectProfanitiesParams struct {
	// Content is the text to judge. Required.
	Content string `json:"content"`
}

func (p DetectProfanitiesParams) validate() error {
	return required("DetectProfanitiesParams.Content", p.Content)
}

// DetectProfanitiesResult is the verdict of DetectProfanities; Pass is false
// when the text is profane.
type DetectProfanitiesResult = DetectSpamResult

// DetectProfanities judges whether a text contains profanity, with a
// confidence score and the reason. POST /content/detect_profanities.
func (c *Client) DetectProfanities(ctx context.Context, p DetectProfanitiesParams, opts ...RequestOption) (*Job[DetectProfanitiesResult], error) {
	return dispatchJSON[DetectProfanitiesResult](ctx, c, "/content/detect_profanities", JobTypeContentDetectProfanities, p, opts)
}

// DetectAIParams are the parameters of DetectAI.
type DetectAIParams struct {
	// Content is the text to judge. Required.
	Content string `json:"content"`
}

func (p DetectAIParams) validate() error { return required("DetectAIParams.Content", p.Content) }

// DetectAIResult is SharpAPI's judgement of whether a text was written by
// an AI model.
type DetectAIResult struct {
	// AILikelihoodPercent is how likely the text is AI-written, 0 to 100.
	AILikelihoodPercent Score `json:"ai_likelihood_percent"`
	// Assessment is the verdict in one sentence.
	Assessment string `json:"assessment"`
	// Reasoning explains it.
	Reasoning string `json:"reasoning"`
	// FlaggedParts quotes the passages that gave the text away.
	FlaggedParts []FlaggedPart `json:"flagged_parts"`
}

// FlaggedPart is a passage DetectAI found typical of AI writing.
type FlaggedPart struct {
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

// DetectAI estimates how likely a text is to have been written by an AI
// model, and quotes the passages that suggest it. POST /content/detect_ai.
func (c *Client) DetectAI(ctx context.Context, p DetectAIParams, opts ...RequestOption) (*Job[DetectAIResult], error) {
	return dispatchJSON[DetectAIResult](ctx, c, "/content/detect_ai", JobTypeContentDetectAI, p, opts)
}

// SummarizeParams are the parameters of Summarize.
type SummarizeParams struct {
	// Content is the text to summarize. Required.
	Content string `json:"content"`
	// Language is the language of the summary, an English name such as
	// "German"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
	// MaxLength is the length the summary should keep within: a strong
	// hint to the model, not a hard limit.
	MaxLength int `json:"max_length,omitempty"`
	// VoiceTone is the tone to write in, free text: adjectives ("funny",
	// "formal") or a writer's name; several may be combined.
	VoiceTone string `json:"voice_tone,omitempty"`
	// Context is extra instructions for the model.
	Context string `json:"context,omitempty"`
}

func (p SummarizeParams) validate() error {
	return errors.Join(required("SummarizeParams.Content", p.Content), nonNegative("SummarizeParams.MaxLength", p.MaxLength))
}

// SummarizeResult is the summary of a text.
type SummarizeResult struct {
	Summary string `json:"summary"`
}

// Summarize writes a shorter version of a text. POST /content/summarize.
func (c *Client) Summarize(ctx context.Context, p SummarizeParams, opts ...RequestOption) (*Job[SummarizeResult], error) {
	return dispatchJSON[SummarizeResult](ctx, c, "/content/summarize", JobTypeContentSummarize, p, opts)
}

// KeywordsParams are the parameters of Keywords.
type KeywordsParams struct {
	// Content is the text to draw keywords from. Required.
	Content string `json:"content"`
	// Language is the language of the keywords, an English name such as
	// "German"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
	// MaxQuantity caps the number of keywords.
	MaxQuantity int `json:"max_quantity,omitempty"`
	// VoiceTone is the tone to write in, free text such as "neutral".
	VoiceTone string `json:"voice_tone,omitempty"`
	// Context is extra instructions for the model.
	Context string `json:"context,omitempty"`
}

func (p KeywordsParams) validate() error {
	return errors.Join(required("KeywordsParams.Content", p.Content), nonNegative("KeywordsParams.MaxQuantity", p.MaxQuantity))
}

// KeywordsResult lists the keywords (tags) of a text.
type KeywordsResult struct {
	Keywords []string `json:"keywords"`
}

// UnmarshalJSON accepts SharpAPI's bare array and {"keywords": [...]}.
func (r *KeywordsResult) UnmarshalJSON(b []byte) error {
	return unmarshalList(b, "keywords", &r.Keywords)
}

// Keywords draws keywords (tags) from a text. POST /content/keywords.
func (c *Client) Keywords(ctx context.Context, p KeywordsParams, opts ...RequestOption) (*Job[KeywordsResult], error) {
	return dispatchJSON[KeywordsResult](ctx, c, "/content/keywords", JobTypeContentKeywords, p, opts)
}

// TranslateParams are the parameters of Translate.
type TranslateParams struct {
	// Content is the text to translate, in any language. Required.
	Content string `json:"content"`
	// Language is the language to translate into, an English name such as
	// "Italian"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
	// VoiceTone is the tone to write in, free text such as "neutral".
	VoiceTone string `json:"voice_tone,omitempty"`
	// Context disambiguates the text ("to turn a page" for "turn").
	Context string `json:"context,omitempty"`
}

func (p TranslateParams) validate() error { return required("TranslateParams.Content", p.Content) }

// TranslateResult is a translated text.
type TranslateResult struct {
	// Content is the translation.
	Content string `json:"content"`
	// FromLanguage is the language SharpAPI detected in the input.
	FromLanguage string `json:"from_language"`
	// ToLanguage is the language of the translation.
	ToLanguage string `json:"to_language"`
}

// Translate translates a text into another language.
// POST /content/translate.
func (c *Client) Translate(ctx context.Context, p TranslateParams, opts ...RequestOption) (*Job[TranslateResult], error) {
	return dispatchJSON[TranslateResult](ctx, c, "/content/translate", JobTypeContentTranslate, p, opts)
}

// ParaphraseParams are the parameters of Paraphrase.
type ParaphraseParams struct {
	// Content is the text to rephrase. Required.
	Content string `json:"content"`
	// Language is the language of the result, an English name such as
	// "German"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
	// MaxLength is the length, in characters, the result should keep
	// within: a strong hint to the model, not a hard limit.
	MaxLength int `json:"max_length,omitempty"`
	// VoiceTone is the tone to write in, free text such as "enthusiastic".
	VoiceTone string `json:"voice_tone,omitempty"`
	// Context is extra instructions for the model.
	Context string `json:"context,omitempty"`
}

func (p ParaphraseParams) validate() error {
	return errors.Join(required("ParaphraseParams.Content", p.Content), nonNegative("ParaphraseParams.MaxLength", p.MaxLength))
}

// ParaphraseResult is a rephrased text.
type ParaphraseResult struct {
	Paraphrase string `json:"paraphrase"`
}

// Paraphrase rewrites a text in other words. POST /content/paraphrase.
func (c *Client) Paraphrase(ctx context.Context, p ParaphraseParams, opts ...RequestOption) (*Job[ParaphraseResult], error) {
	return dispatchJSON[ParaphraseResult](ctx, c, "/content/paraphrase", JobTypeContentParaphrase, p, opts)
}

// ProofreadParams are the parameters of Proofread.
type ProofreadParams struct {
	// Content is the text to correct. Required.
	Content string `json:"content"`
}

func (p ProofreadParams) validate() error { return required("ProofreadParams.Content", p.Content) }

// ProofreadResult is a corrected text.
type ProofreadResult struct {
	Proofread string `json:"proofread"`
}

// UnmarshalJSON accepts the bare string SharpAPI sends and the
// {"proofread": "..."} other SDKs expect.
func (r *ProofreadResult) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.HasPrefix(b, []byte(`"`)) {
		return json.Unmarshal(b, &r.Proofread)
	}
	var obj struct {
		Proofread string `json:"proofread"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	r.Proofread = obj.Proofread
	return nil
}

// Proofread corrects the spelling and grammar of a text.
// POST /content/proofread.
func (c *Client) Proofread(ctx context.Context, p ProofreadParams, opts ...RequestOption) (*Job[ProofreadResult], error) {
	return dispatchJSON[ProofreadResult](ctx, c, "/content/proofread", JobTypeContentProofread, p, opts)
}
