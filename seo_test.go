package sharpapi

import (
	"context"
	"testing"
)

func TestSEO(t *testing.T) {
	testJobs(t, []jobCase{{
		name: "GenerateSEOTags", path: "/seo/generate_tags", typ: JobTypeSEOGenerateTags,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.GenerateSEOTags(ctx, GenerateSEOTagsParams{Content: "Las Vegas Grand Prix...", VoiceTone: "neutral"}))
		},
		body: `{"content": "Las Vegas Grand Prix...", "voice_tone": "neutral"}`,
		want: GenerateSEOTagsResult{MetaTags: map[string]string{
			"title":               "Las Vegas Grand Prix: A Showstopper Event",
			"author":              "",
			"og:url":              "",
			"og:type":             "article",
			"keywords":            "Las Vegas Grand Prix, Max Verstappen, Formula 1, F1, Lewis Hamilton, Fernando Alonso",
			"og:image":            "",
			"og:title":            "Las Vegas Grand Prix: A Showstopper Event",
			"description":         "Max Verstappen and other F1 stars share their thoughts on the Las Vegas Grand Prix.",
			"og:site_name":        "",
			"twitter:card":        "summary",
			"twitter:image":       "",
			"twitter:title":       "Las Vegas Grand Prix: A Showstopper Event",
			"og:description":      "Max Verstappen and other F1 stars share their thoughts on the Las Vegas Grand Prix.",
			"twitter:creator":     "",
			"twitter:description": "Max Verstappen and other F1 stars share their thoughts on the Las Vegas Grand Prix.",
		}},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.GenerateSEOTags(ctx, GenerateSEOTagsParams{Language: "English"}))
		},
		missing: "GenerateSEOTagsParams.Content",
	}})
}
