package sharpapi

import (
	"context"
	"net/url"
	"time"
)

// MaxPerPage is the largest page SharpAPI serves of airports and of custom
// workflows.
const MaxPerPage = 100

// Pong is SharpAPI's answer to Ping.
type Pong struct {
	// Ping is "pong".
	Ping string `json:"ping"`
	// Timestamp is SharpAPI's clock when it answered.
	Timestamp time.Time `json:"timestamp"`
}

// Ping checks that SharpAPI is up and answering. GET /ping.
func (c *Client) Ping(ctx context.Context, opts ...RequestOption) (*Pong, error) {
	return get[Pong](ctx, c, "/ping", nil, withUnmetered(opts))
}

// Quota is the state of the account's subscription. Times are zero where
// SharpAPI sends none (TrialEnds of an account never on trial).
type Quota struct {
	// Timestamp is SharpAPI's clock when it answered.
	Timestamp time.Time `json:"timestamp"`
	OnTrial   bool      `json:"on_trial"`
	TrialEnds time.Time `json:"trial_ends"`
	// Subscribed says the account has a paid subscription.
	Subscribed               bool      `json:"subscribed"`
	CurrentSubscriptionStart time.Time `json:"current_subscription_start"`
	CurrentSubscriptionEnd   time.Time `json:"current_subscription_end"`
	// CurrentSubscriptionReset is when the word quota is next reset.
	CurrentSubscriptionReset time.Time `json:"current_subscription_reset"`
	// SubscriptionWordsQuota is the words the subscription allows per
	// period; SubscriptionWordsUsed, those used so far.
	SubscriptionWordsQuota int `json:"subscription_words_quota"`
	SubscriptionWordsUsed  int `json:"subscription_words_used"`
	// SubscriptionWordsUsedPercentage is the share used, in percent: 0.1
	// means a thousandth of the quota, not a tenth.
	SubscriptionWordsUsedPercentage float64 `json:"subscription_words_used_percentage"`
	// RequestsPerMinute is the account's rate limit.
	RequestsPerMinute int `json:"requests_per_minute"`
}

// Quota returns the state of the account's subscription: words allowed and
// used, the period, the rate limit. The client's rate limiter takes the
// plan's limit from it. GET /quota, which SharpAPI does not count against
// the limit.
func (c *Client) Quota(ctx context.Context, opts ...RequestOption) (*Quota, error) {
	q, err := get[Quota](ctx, c, "/quota", nil, withUnmetered(opts))
	if err != nil {
		return nil, err
	}
	c.limiter.learnLimit(q.RequestsPerMinute)
	return q, nil
}

// ScrapedPage is a web page as ScrapeURL read it.
type ScrapedPage struct {
	// URL is the page's URL, as SharpAPI normalised it.
	URL string `json:"url"`
	// Timestamp is when SharpAPI read the page.
	Timestamp   time.Time   `json:"timestamp"`
	ScrapedData ScrapedData `json:"scraped_data"`
}

// ScrapedData is what ScrapeURL extracted from a page.
type ScrapedData struct {
	Title string `json:"title"`
	// DetectedLanguage is an ISO 639-1 code ("en").
	DetectedLanguage string        `json:"detected_language"`
	Headers          ScrapedHeader `json:"headers"`
	MetaTags         ScrapedMeta   `json:"meta_tags"`
	// OpenGraph and TwitterCard map each og: and twitter: property to its
	// content, keyed as the page spells them.
	OpenGraph   map[string]string `json:"open_graph"`
	TwitterCard map[string]string `json:"twitter_card"`
	// ContentStructured is the page's headings and text blocks, in order.
	ContentStructured []ContentBlock `json:"content_structured"`
	Links             ScrapedLinks   `json:"links"`
}

// ScrapedHeader is what a page's HTML head says about the page.
type ScrapedHeader struct {
	Charset     string   `json:"charset"`
	ContentType string   `json:"contentType"`
	Viewport    []string `json:"viewport"`
	Canonical   string   `json:"canonical"`
	CSRFToken   string   `json:"csrfToken"`
}

// ScrapedMeta holds a page's classic meta tags.
type ScrapedMeta struct {
	Author      string   `json:"author"`
	Image       string   `json:"image"`
	Keywords    []string `json:"keywords"`
	Description string   `json:"description"`
}

// ContentBlock is one element of a page's text.
type ContentBlock struct {
	// Tag is the HTML element ("h1", "p").
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

// ScrapedLinks are the links on a page, split by whether they stay on its
// site.
type ScrapedLinks struct {
	Internal []string `json:"internal"`
	External []string `json:"external"`
}

// ScrapeURL reads a web page and returns its title, meta tags, text and
// links. The URL may omit its scheme ("example.com").
// GET /utilities/scrape_url.
func (c *Client) ScrapeURL(ctx context.Context, pageURL string, opts ...RequestOption) (*ScrapedPage, error) {
	if err := required("ScrapeURL url", pageURL); err != nil {
		return nil, err
	}
	return get[ScrapedPage](ctx, c, "/utilities/scrape_url", url.Values{"url": {pageURL}}, opts)
}

// PageLinks are the links of a page of results to its neighbours; Prev
// and Next are empty at the ends.
type PageLinks struct {
	First string `json:"first"`
	Last  string `json:"last"`
	Prev  string `json:"prev"`
	Next  string `json:"next"`
}

// PageMeta places a page of results in the whole list.
type PageMeta struct {
	CurrentPage int `json:"current_page"`
	LastPage    int `json:"last_page"`
	PerPage     int `json:"per_page"`
	// From and To number the first and last items of the page, from 1.
	From  int `json:"from"`
	To    int `json:"to"`
	Total int `json:"total"`
	// Path is the list's URL, without a page number.
	Path string `json:"path"`
	// Links are the links a pager would show (not always sent).
	Links []PageLink `json:"links"`
}

// PageLink is a link in a pager: a page number, or "« Previous" or
// "Next »" (labels HTML-escaped). URL is empty for a link that leads nowhere.
type PageLink struct {
	URL    string `json:"url"`
	Label  string `json:"label"`
	Active bool   `json:"active"`
}

// JobPositionsParams are the parameters of JobPositions.
type JobPositionsParams struct {
	// Name searches the job titles.
	Name string
	// Page and PerPage choose the page (from 1) and its size (SharpAPI's
	// default 15).
	Page, PerPage int
}

func (p JobPositionsParams) validate() error {
	return checkPage("JobPositionsParams", p.Page, p.PerPage, 0)
}

func (p JobPositionsParams) query() url.Values {
	q := url.Values{}
	setQuery(q, "name", p.Name)
	setPage(q, p.Page, p.PerPage)
	return q
}

// JobPositionsPage is a page of job positions.
type JobPositionsPage struct {
	Positions []JobPosition `json:"data"`
	Links     PageLinks     `json:"links"`
	Meta      PageMeta      `json:"meta"`
}

// JobPosition is a job title in SharpAPI's job positions database.
type JobPosition struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
	// Weight is set on a related position only: how close it is, 1 to 10.
	Weight float64 `json:"weight,omitempty"`
	// RelatedJobPositions is set by JobPosition only.
	RelatedJobPositions []JobPosition `json:"related_job_positions,omitempty"`
}

// JobPositions lists and searches SharpAPI's database of job titles, a
// page at a time. GET /utilities/job_positions_list.
func (c *Client) JobPositions(ctx context.Context, p JobPositionsParams, opts ...RequestOption) (*JobPositionsPage, error) {
	return getListed[JobPositionsPage](ctx, c, "/utilities/job_positions_list", p, opts)
}

// JobPosition returns a job position, by its ID, with the positions related
// to it. GET /utilities/job_positions_details/{id}.
func (c *Client) JobPosition(ctx context.Context, id string, opts ...RequestOption) (*JobPosition, error) {
	return getByKey[JobPosition](ctx, c, "/utilities/job_positions_details", "JobPosition id", id, opts)
}

// AirportsParams are the parameters of Airports. Zero fields do not filter.
type AirportsParams struct {
	// Name searches the airports' names and cities.
	Name string
	// Country is an ISO 3166-1 alpha-2 code ("US").
	Country string
	// Timezone is an IANA time zone ("America/Chicago").
	Timezone string
	// IATAAssigned, ICAOAssigned and LIDAssigned keep only the airports
	// that have (true) or lack (false) a code of that kind; nil does not
	// filter. Set one to the address of a bool variable (from Go 1.26,
	// new(true) also does).
	IATAAssigned, ICAOAssigned, LIDAssigned *bool
	// Page and PerPage choose the page (from 1) and its size (SharpAPI's
	// default 25, at most MaxPerPage).
	Page, PerPage int
}

func (p AirportsParams) validate() error {
	return checkPage("AirportsParams", p.Page, p.PerPage, MaxPerPage)
}

// AirportsPage is a page of airports.
type AirportsPage struct {
	Airports []Airport `json:"data"`
	Links    PageLinks `json:"links"`
	Meta     PageMeta  `json:"meta"`
}

// Airport is an airport in SharpAPI's airports database. Codes it lacks
// are empty.
type Airport struct {
	ID   string `json:"id"`
	ICAO string `json:"icao"`
	IATA string `json:"iata"`
	// LID is the local (national) identifier, such as an FAA code.
	LID  string `json:"lid"`
	Name string `json:"name"`
	City string `json:"city"`
	// Subdivision is the state or region.
	Subdivision string `json:"subdivision"`
	// Country is an ISO 3166-1 alpha-2 code.
	Country string `json:"country"`
	// Timezone is an IANA time zone.
	Timezone string `json:"timezone"`
	// Elevation is in feet above sea level.
	Elevation int     `json:"elevation"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

func (p AirportsParams) query() url.Values {
	q := url.Values{}
	setQuery(q, "name", p.Name)
	setQuery(q, "country", p.Country)
	setQuery(q, "timezone", p.Timezone)
	setFlag(q, "iata_assigned", p.IATAAssigned)
	setFlag(q, "icao_assigned", p.ICAOAssigned)
	setFlag(q, "lid_assigned", p.LIDAssigned)
	setPage(q, p.Page, p.PerPage)
	return q
}

// Airports lists and searches SharpAPI's database of airports, a page at a
// time. GET /airports.
func (c *Client) Airports(ctx context.Context, p AirportsParams, opts ...RequestOption) (*AirportsPage, error) {
	return getListed[AirportsPage](ctx, c, "/airports", p, opts)
}

// AirportByIATA returns the airport with a three-letter IATA code ("LHR").
// GET /airports/iata/{code}.
func (c *Client) AirportByIATA(ctx context.Context, code string, opts ...RequestOption) (*Airport, error) {
	return getByKey[Airport](ctx, c, "/airports/iata", "AirportByIATA code", code, opts)
}

// AirportByICAO returns the airport with a four-character ICAO code
// ("EGLL"). GET /airports/icao/{code}.
func (c *Client) AirportByICAO(ctx context.Context, code string, opts ...RequestOption) (*Airport, error) {
	return getByKey[Airport](ctx, c, "/airports/icao", "AirportByICAO code", code, opts)
}
