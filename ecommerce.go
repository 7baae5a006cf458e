package sharpapi

import (
	"context"
	"errors"
)

// ReviewSentimentParams are the parameters of ReviewSentiment.
type ReviewSentimentParams struct {
	// Content is the customer's review. Required.
	Content string `json:"content"`
}

func (p ReviewSentimentParams) validate() error {
	return required("ReviewSentimentParams.Content", p.Content)
}

// ReviewSentimentResult is the sentiment of a review, from ReviewSentiment
// and from TravelReviewSentiment.
type ReviewSentimentResult struct {
	// Opinion is the sentiment: OpinionPositive, OpinionNegative or
	// OpinionNeutral.
	Opinion Opinion `json:"opinion"`
	// Score is SharpAPI's confidence in the opinion, 0 to 100.
	Score Score `json:"score"`
}

// Opinion is the sentiment of a review.
type Opinion string

// The opinions SharpAPI reports.
const (
	OpinionPositive Opinion = "POSITIVE"
	OpinionNegative Opinion = "NEGATIVE"
	OpinionNeutral  Opinion = "NEUTRAL"
)

// ReviewSentiment judges whether a product review is positive, negative or
// neutral. POST /ecommerce/review_sentiment.
func (c *Client) ReviewSentiment(ctx context.Context, p ReviewSentimentParams, opts ...RequestOption) (*Job[ReviewSentimentResult], error) {
	return dispatchJSON[ReviewSentimentResult](ctx, c, "/ecommerce/review_sentiment", JobTypeEcommerceReviewSentiment, p, opts)
}

// ProductCategoriesParams are the parameters of ProductCategories.
type ProductCategoriesParams struct {
	// Content is the product's name, with any parameters that help place it.
	// Required.
	Content string `json:"content"`
	// Language is the language of the category names, an English name such
	// as "German"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
	// MaxQuantity caps the number of categories.
	MaxQuantity int `json:"max_quantity,omitempty"`
	// VoiceTone is the tone to write in, free text such as "neutral".
	VoiceTone string `json:"voice_tone,omitempty"`
	// Context lists categories of the caller's own, comma-separated, that
	// SharpAPI should map the product to where they fit.
	Context string `json:"context,omitempty"`
}

func (p ProductCategoriesParams) validate() error {
	return errors.Join(required("ProductCategoriesParams.Content", p.Content),
		nonNegative("ProductCategoriesParams.MaxQuantity", p.MaxQuantity))
}

// ProductCategoriesResult lists the categories that suit a product, a tour
// or a hospitality product.
type ProductCategoriesResult struct {
	Categories []Category `json:"categories"`
}

// UnmarshalJSON accepts SharpAPI's bare array and {"categories": [...]}.
func (r *ProductCategoriesResult) UnmarshalJSON(b []byte) error {
	return unmarshalList(b, "categories", &r.Categories)
}

// Category is a category that suits a product.
type Category struct {
	Name string `json:"name"`
	// Weight is from 1 to 10, where 10 is the best fit.
	Weight float64 `json:"weight"`
}

// ProductCategories suggests the categories a product belongs in, each
// weighted by how well it fits. POST /ecommerce/product_categories.
func (c *Client) ProductCategories(ctx context.Context, p ProductCategoriesParams, opts ...RequestOption) (*Job[ProductCategoriesResult], error) {
	return dispatchJSON[ProductCategoriesResult](ctx, c, "/ecommerce/product_categories", JobTypeEcommerceProductCategories, p, opts)
}

// ProductIntroParams are the parameters of ProductIntro.
type ProductIntroParams struct {
	// Content is the product's name and particulars. Required.
	Content string `json:"content"`
	// Language is the language of the intro, an English name such as
	// "German"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
	// MaxLength is the length of the intro in words: a strong hint to the
	// model, not a hard limit.
	MaxLength int `json:"max_length,omitempty"`
	// VoiceTone is the tone to write in, free text such as "neutral".
	VoiceTone string `json:"voice_tone,omitempty"`
}

func (p ProductIntroParams) validate() error {
	return errors.Join(required("ProductIntroParams.Content", p.Content),
		nonNegative("ProductIntroParams.MaxLength", p.MaxLength))
}

// ProductIntroResult is a product's marketing introduction.
type ProductIntroResult struct {
	ProductIntro string `json:"product_intro"`
}

// ProductIntro writes a short marketing introduction of a product.
// POST /ecommerce/product_intro.
func (c *Client) ProductIntro(ctx context.Context, p ProductIntroParams, opts ...RequestOption) (*Job[ProductIntroResult], error) {
	return dispatchJSON[ProductIntroResult](ctx, c, "/ecommerce/product_intro", JobTypeEcommerceProductIntro, p, opts)
}

// ThankYouEmailParams are the parameters of ThankYouEmail.
type ThankYouEmailParams struct {
	// Content is the name of the product bought. Required.
	Content string `json:"content"`
	// Language is the language of the e-mail, an English name such as
	// "German"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
	// MaxLength is the length the e-mail should keep within: a strong hint
	// to the model, not a hard limit.
	MaxLength int `json:"max_length,omitempty"`
	// VoiceTone is the tone to write in, free text such as "neutral".
	VoiceTone string `json:"voice_tone,omitempty"`
	// Context is extra instructions for the model.
	Context string `json:"context,omitempty"`
}

func (p ThankYouEmailParams) validate() error {
	return errors.Join(required("ThankYouEmailParams.Content", p.Content),
		nonNegative("ThankYouEmailParams.MaxLength", p.MaxLength))
}

// ThankYouEmailResult is a thank-you e-mail.
type ThankYouEmailResult struct {
	// Email is the e-mail's body. It may open with a greeting and close
	// with a placeholder signature ("[Your Company Name]") to fill in.
	Email string `json:"email"`
}

// ThankYouEmail writes the e-mail that thanks a customer for a purchase.
// POST /ecommerce/thank_you_email.
func (c *Client) ThankYouEmail(ctx context.Context, p ThankYouEmailParams, opts ...RequestOption) (*Job[ThankYouEmailResult], error) {
	return dispatchJSON[ThankYouEmailResult](ctx, c, "/ecommerce/thank_you_email", JobTypeEcommerceThankYouEmail, p, opts)
}
