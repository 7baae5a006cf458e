package sharpapi

import (
	"context"
	"testing"
)

func TestEcommerce(t *testing.T) {
	testJobs(t, []jobCase{{
		name: "ReviewSentiment", path: "/ecommerce/review_sentiment", typ: JobTypeEcommerceReviewSentiment,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.ReviewSentiment(ctx, ReviewSentimentParams{Content: "The laptop died after a week."}))
		},
		body: `{"content": "The laptop died after a week."}`,
		// The example sends the score as the string "85".
		want: ReviewSentimentResult{Opinion: OpinionNegative, Score: 85},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.ReviewSentiment(ctx, ReviewSentimentParams{}))
		},
		missing: "ReviewSentimentParams.Content",
	}, {
		name: "ProductCategories", path: "/ecommerce/product_categories", typ: JobTypeEcommerceProductCategories,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.ProductCategories(ctx, ProductCategoriesParams{
				Content: "Razer Blade 16 Gaming Laptop", Language: "English", MaxQuantity: 100, VoiceTone: "neutral",
				Context: "Razer Laptops,Razer Gear",
			}))
		},
		body: `{"content": "Razer Blade 16 Gaming Laptop", "language": "English", "max_quantity": 100,
			"voice_tone": "neutral", "context": "Razer Laptops,Razer Gear"}`,
		want: ProductCategoriesResult{Categories: []Category{
			{Name: "Gaming Laptops", Weight: 10},
			{Name: "Razer Laptops", Weight: 10},
			{Name: "High-Performance Laptops", Weight: 9.5},
			{Name: "Laptops", Weight: 9},
			{Name: "Razer Gear", Weight: 8.5},
			{Name: "Electronics", Weight: 8},
			{Name: "Computers & Accessories", Weight: 7.5},
			{Name: "PC Gaming", Weight: 7},
			{Name: "Portable Computers", Weight: 6.5},
			{Name: "Tech Gadgets", Weight: 6},
		}},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.ProductCategories(ctx, ProductCategoriesParams{MaxQuantity: 100}))
		},
		missing: "ProductCategoriesParams.Content",
	}, {
		name: "ProductIntro", path: "/ecommerce/product_intro", typ: JobTypeEcommerceProductIntro,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.ProductIntro(ctx, ProductIntroParams{Content: "Razer Blade 16", MaxLength: 200}))
		},
		body:    `{"content": "Razer Blade 16", "max_length": 200}`,
		want:    ProductIntroResult{ProductIntro: "Experience unparalleled gaming with the Razer Blade 16, featuring NVIDIA RTX 4090, 13th Gen Intel i9, dual-mode 4K/FHD display, 32GB RAM, 2TB SSD, and a compact GaN charger."},
		invalid: func(ctx context.Context, c *Client) error { return errOf(c.ProductIntro(ctx, ProductIntroParams{})) },
		missing: "ProductIntroParams.Content",
	}, {
		name: "ThankYouEmail", path: "/ecommerce/thank_you_email", typ: JobTypeEcommerceThankYouEmail,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.ThankYouEmail(ctx, ThankYouEmailParams{Content: "Razer Blade 16 Gaming Laptop", Language: "English"}))
		},
		body: `{"content": "Razer Blade 16 Gaming Laptop", "language": "English"}`,
		want: ThankYouEmailResult{Email: "Dear Customer,\n\nThank you for your recent purchase of the Razer Blade 16 Gaming Laptop: NVIDIA GeForce RTX 4090-13th Gen Intel 24-Core i9 HX CPU. We appreciate your business and are confident that you will enjoy the high performance and advanced features of your new laptop.\n\nWe look forward to serving you again. Please visit our store soon for more exciting products and offers.\n\nBest regards,\n[Your Company Name]"},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.ThankYouEmail(ctx, ThankYouEmailParams{MaxLength: -5}))
		},
		missing: "ThankYouEmailParams.Content",
	}})
}
