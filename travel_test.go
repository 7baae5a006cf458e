package sharpapi

import (
	"context"
	"testing"
)

func TestTravel(t *testing.T) {
	testJobs(t, []jobCase{{
		name: "TravelReviewSentiment", path: "/tth/review_sentiment", typ: JobTypeTTHReviewSentiment,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.TravelReviewSentiment(ctx, TravelReviewSentimentParams{Content: "Lovely stay, great breakfast."}))
		},
		body: `{"content": "Lovely stay, great breakfast."}`,
		// Unlike the e-commerce example, this one sends the score as a number.
		want: TravelReviewSentimentResult{Opinion: OpinionPositive, Score: 95},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.TravelReviewSentiment(ctx, TravelReviewSentimentParams{}))
		},
		missing: "TravelReviewSentimentParams.Content",
	}, {
		name: "ToursActivitiesCategories", path: "/tth/ta_product_categories", typ: JobTypeTTHTAProductCategories,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.ToursActivitiesCategories(ctx, ToursActivitiesCategoriesParams{
				Content: "Sunset boat tour", City: "Sydney", Country: "Australia", MaxQuantity: 10,
			}))
		},
		body: `{"content": "Sunset boat tour", "city": "Sydney", "country": "Australia", "max_quantity": 10}`,
		want: ToursActivitiesCategoriesResult{Categories: []Category{
			{Name: "Boat Tours", Weight: 9.5},
			{Name: "Nature & Wildlife Tours", Weight: 8.7},
			{Name: "Water Sports", Weight: 7.8},
			{Name: "Sightseeing Cruises", Weight: 9.2},
			{Name: "Day Trips", Weight: 8},
			{Name: "Eco Tours", Weight: 7.5},
			{Name: "Adventure Tours", Weight: 6.8},
			{Name: "Cultural Tours", Weight: 6},
			{Name: "Multi-day Tours", Weight: 5.5},
			{Name: "Private Sightseeing Tours", Weight: 5.2},
		}},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.ToursActivitiesCategories(ctx, ToursActivitiesCategoriesParams{City: "Sydney"}))
		},
		missing: "ToursActivitiesCategoriesParams.Content",
	}, {
		name: "HospitalityCategories", path: "/tth/hospitality_product_categories", typ: JobTypeTTHHospitalityProductCategories,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.HospitalityCategories(ctx, HospitalityCategoriesParams{
				Content: "Hotel Lovers' Nest, adults only", Country: "Spain", Language: "English", Context: "Luxury Hotels",
			}))
		},
		body: `{"content": "Hotel Lovers' Nest, adults only", "country": "Spain", "language": "English", "context": "Luxury Hotels"}`,
		want: HospitalityCategoriesResult{Categories: []Category{
			{Name: "Adult Only Hotels", Weight: 10},
			{Name: "Luxury Hotels", Weight: 8.5},
			{Name: "Boutique Hotels", Weight: 7.5},
			{Name: "Romantic Getaways", Weight: 7},
			{Name: "City Hotels", Weight: 6.5},
			{Name: "Couples Retreats", Weight: 6},
		}},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.HospitalityCategories(ctx, HospitalityCategoriesParams{Content: "Hotel", MaxQuantity: -1}))
		},
		missing: "HospitalityCategoriesParams.MaxQuantity",
	}})
}
