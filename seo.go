package sharpapi

import "context"

// GenerateSEOTagsParams are the parameters of GenerateSEOTags.
type GenerateSEOTagsParams struct {
	// Content is the page's text. Links to the site and to its pictures
	// let SharpAPI fill in more tags (og:url, og:image). Required.
	Content string `json:"content"`
	// Language is the language of the tags, an English name such as
	// "German"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
	// VoiceTone is the tone to write in, free text such as "neutral".
	VoiceTone string `json:"voice_tone,omitempty"`
}

func (p GenerateSEOTagsParams) validate() error {
	return required("GenerateSEOTagsParams.Content", p.Content)
}

// GenerateSEOTagsResult holds the meta tags of a page.
type GenerateSEOTagsResult struct {
	// MetaTags maps each tag's name ("description", "og:title",
	// "twitter:card") to its content; empty for tags SharpAPI could not
	// fill.
	MetaTags map[string]string `json:"meta_tags"`
}

// GenerateSEOTags writes a page's SEO meta tags: title, description,
// keywords, Open Graph and Twitter card. POST /seo/generate_tags.
func (c *Client) GenerateSEOTags(ctx context.Context, p GenerateSEOTagsParams, opts ...RequestOption) (*Job[GenerateSEOTagsResult], error) {
	return dispatchJSON[GenerateSEOTagsResult](ctx, c, "/seo/generate_tags", JobTypeSEOGenerateTags, p, opts)
}
