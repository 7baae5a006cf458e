package sharpapi

import (
	"context"
	"errors"
)

// TravelReviewSentimentParams are the parameters of TravelReviewSentiment.
type TravelReviewSentimentParams struct {
	// Content is the traveller's review. Required.
	Content string `json:"content"`
}

func (p TravelReviewSentimentParams) validate() error {
	return required("TravelReviewSentimentParams.Content", p.Content)
}

// TravelReviewSentimentResult is the sentiment of a travel review.
type TravelReviewSentimentResult = ReviewSentimentResult

// TravelReviewSentiment judges whether a review of a hotel, tour or other
// travel product is positive, negative or neutral. POST /tth/review_sentiment.
func (c *Client) TravelReviewSentiment(ctx context.Context, p TravelReviewSentimentParams, opts ...RequestOption) (*Job[TravelReviewSentimentResult], error) {
	return dispatchJSON[TravelReviewSentimentResult](ctx, c, "/tth/review_sentiment", JobTypeTTHReviewSentiment, p, opts)
}

// ToursActivitiesCategoriesParams are the parameters of
// ToursActivitiesCategories.
type ToursActivitiesCategoriesParams struct {
	// Content is the product's name ("Sunset boat tour of Sydney
	// Harbour"). Required.
	Content string `json:"content"`
	// City and Country are where the product is offered; they sharpen the
	// categories.
	City    string `json:"city,omitempty"`
	Country string `json:"country,omitempty"`
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

func (p ToursActivitiesCategoriesParams) validate() error {
	return p.check("ToursActivitiesCategoriesParams")
}

func (p ToursActivitiesCategoriesParams) check(typ string) error {
	return errors.Join(required(typ+".Content", p.Content), nonNegative(typ+".MaxQuantity", p.MaxQuantity))
}

// ToursActivitiesCategoriesResult lists the categories that suit a tour or
// activity.
type ToursActivitiesCategoriesResult = ProductCategoriesResult

// ToursActivitiesCategories suggests the categories a tour or activity
// belongs in, each weighted by how well it fits.
// POST /tth/ta_product_categories.
func (c *Client) ToursActivitiesCategories(ctx context.Context, p ToursActivitiesCategoriesParams, opts ...RequestOption) (*Job[ToursActivitiesCategoriesResult], error) {
	return dispatchJSON[ToursActivitiesCategoriesResult](ctx, c, "/tth/ta_product_categories", JobTypeTTHTAProductCategories, p, opts)
}

// HospitalityCategoriesParams are the parameters of HospitalityCategories:
// those of ToursActivitiesCategories, with Content the name of the hotel,
// apartment or other hospitality product. Like every endpoint type of the
// shape of another's, it is an alias (see params.go).
type HospitalityCategoriesParams = ToursActivitiesCategoriesParams

// HospitalityCategoriesResult lists the categories that suit a hospitality
// product.
type HospitalityCategoriesResult = ProductCategoriesResult

// HospitalityCategories suggests the categories a hotel or other
// hospitality product belongs in, each weighted by how well it fits.
// POST /tth/hospitality_product_categories.
func (c *Client) HospitalityCategories(ctx context.Context, p HospitalityCategoriesParams, opts ...RequestOption) (*Job[HospitalityCategoriesResult], error) {
	// Checked under the name the caller used first, so that an error
	// names HospitalityCategoriesParams.
	if err := p.check("HospitalityCategoriesParams"); err != nil {
		return nil, err
	}
	return dispatchJSON[HospitalityCategoriesResult](ctx, c, "/tth/hospitality_product_categories", JobTypeTTHHospitalityProductCategories, p, opts)
}
