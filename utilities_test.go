package sharpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestUtilities(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	positionsLinks := PageLinks{
		First: "https://sharpapi.com/api/v1/utilities/job_positions_list?page=1",
		Last:  "https://sharpapi.com/api/v1/utilities/job_positions_list?page=1106",
		Next:  "https://sharpapi.com/api/v1/utilities/job_positions_list?page=2",
	}
	airport := Airport{
		ID: "1ef266de-5a6c-67d6-86a1-06bb2780ed98", ICAO: "00AA", LID: "00AA", Name: "Aero B Ranch Airport",
		City: "Leoti", Subdivision: "Kansas", Country: "US", Timezone: "America/Chicago",
		Elevation: 3435, Latitude: 38.7, Longitude: -101.47,
	}
	testSync(t, []syncCase{{
		name: "Ping", pattern: "/ping", fixture: "ping.json",
		call: func(ctx context.Context, c *Client) (any, error) { return some(c.Ping(ctx)) },
		want: &Pong{Ping: "pong", Timestamp: at("2024-03-12T08:50:11.188308Z")},
	}, {
		name: "Quota", pattern: "/quota", fixture: "quota.json",
		call: func(ctx context.Context, c *Client) (any, error) { return some(c.Quota(ctx)) },
		want: &Quota{
			Timestamp:                       at("2024-03-19T12:49:41.445736Z"),
			TrialEnds:                       at("2024-03-17T07:57:46Z"),
			Subscribed:                      true,
			CurrentSubscriptionStart:        at("2024-03-18T12:37:39Z"),
			CurrentSubscriptionEnd:          at("2024-04-18T12:37:39Z"),
			CurrentSubscriptionReset:        at("2024-04-18T12:37:39Z"),
			SubscriptionWordsQuota:          100000,
			SubscriptionWordsUsed:           9608,
			SubscriptionWordsUsedPercentage: 0.1,
			RequestsPerMinute:               60,
		},
	}, {
		name: "ScrapeURL", pattern: "/utilities/scrape_url", fixture: "scrape_url.json",
		query: url.Values{"url": {"https://sharpapi.com/?ref=go&x=1"}},
		call: func(ctx context.Context, c *Client) (any, error) {
			return some(c.ScrapeURL(ctx, "https://sharpapi.com/?ref=go&x=1"))
		},
		want: &ScrapedPage{
			URL:       "https://sharpapi.com/",
			Timestamp: at("2025-03-15T08:56:04.946195Z"),
			ScrapedData: ScrapedData{
				Title:            "AI-powered Workflow Automation API",
				DetectedLanguage: "en",
				Headers: ScrapedHeader{
					Charset:   "utf-8",
					Viewport:  []string{"width=device-width", "initial-scale=1"},
					Canonical: "https://sharpapi.com/",
					CSRFToken: "ju6SYrG2vXRDCBVCXYQ1RWH5dn1qxnFmHC7dqNc9",
				},
				MetaTags: ScrapedMeta{
					Keywords:    []string{"SharpAPI", "AI", "automation", "API"},
					Description: "Leverage AI API to streamline workflow in E-Commerce, Marketing, Content Management, HR Tech, Travel, and more.",
				},
				OpenGraph: map[string]string{
					"og:title":       "AI-powered Workflow Automation API",
					"og:type":        "website",
					"og:URL":         "https://sharpapi.com",
					"og:image":       "https://sharpapi.com/build/assets/sharpapi-website-preview-ARuIroBi.png",
					"og:description": "Leverage AI API to streamline workflow in E-Commerce, Marketing, Content Management, HR Tech, Travel, and more.",
				},
				TwitterCard: map[string]string{
					"twitter:card": "summary", "twitter:site": "@sharpapi", "twitter:creator": "@a2zwebltd",
				},
				ContentStructured: []ContentBlock{
					{Tag: "h1", Content: "Automate workflows with AI-powered API"},
					{Tag: "h2", Content: "Leverage AI API for automation in E-Commerce, Marketing, Content Management, HR Tech, Travel, and more."},
				},
				Links: ScrapedLinks{
					Internal: []string{"https://sharpapi.com/register", "https://sharpapi.com/en/catalog"},
					External: []string{"https://github.com/sharpapi/", "https://chatgpt.com/g/g-4P3SFFu6Q-sharpapi-com-automate-with-ai"},
				},
			},
		},
	}, {
		name: "JobPositions", pattern: "/utilities/job_positions_list", fixture: "job_positions_list.json",
		query: url.Values{"name": {"billing"}, "page": {"2"}, "per_page": {"15"}},
		call: func(ctx context.Context, c *Client) (any, error) {
			return some(c.JobPositions(ctx, JobPositionsParams{Name: "billing", Page: 2, PerPage: 15}))
		},
		want: &JobPositionsPage{
			Positions: []JobPosition{
				{ID: "18f73cda-db62-454b-aa53-aa26acb196b7", Name: "Billing Manager", Slug: "billing-manager"},
				{ID: "d766ba1d-c03a-4081-9cdf-75aa05de8b46", Name: "Accounts Payable Specialist", Slug: "accounts-payable-specialist"},
			},
			Links: positionsLinks,
			Meta: PageMeta{
				CurrentPage: 1, LastPage: 1106, PerPage: 15, From: 1, To: 15, Total: 16588,
				Path: "https://sharpapi.com/api/v1/utilities/job_positions_list",
				Links: []PageLink{
					{Label: "&laquo; Previous"},
					{URL: positionsLinks.First, Label: "1", Active: true},
					{URL: positionsLinks.Next, Label: "Next &raquo;"},
				},
			},
		},
	}, {
		name: "JobPositions/no filter", pattern: "/utilities/job_positions_list", fixture: "job_positions_list.json",
		call: func(ctx context.Context, c *Client) (any, error) {
			page, err := c.JobPositions(ctx, JobPositionsParams{})
			if err != nil {
				return nil, err
			}
			return len(page.Positions), nil
		},
		want: 2,
	}, {
		name: "JobPosition", pattern: "/utilities/job_positions_details/18f73cda-db62-454b-aa53-aa26acb196b7",
		fixture: "job_positions_details.json",
		call: func(ctx context.Context, c *Client) (any, error) {
			return some(c.JobPosition(ctx, "18f73cda-db62-454b-aa53-aa26acb196b7"))
		},
		want: &JobPosition{
			ID: "18f73cda-db62-454b-aa53-aa26acb196b7", Name: "Billing Manager", Slug: "billing-manager",
			RelatedJobPositions: []JobPosition{
				{ID: "445b1023-2c3c-41c4-a986-08d8400e52a5", Name: "Accounts Receivable Manager", Slug: "accounts-receivable-manager", Weight: 9},
				{ID: "f6749359-de3a-4c32-ac31-75e059197a0f", Name: "Billing Coordinator", Slug: "billing-coordinator", Weight: 8},
				{ID: "bd8f8374-a717-4474-be41-5582a67b4ff9", Name: "Billing Supervisor", Slug: "billing-supervisor", Weight: 9.5},
			},
		},
	}, {
		name: "Airports", pattern: "/airports", fixture: "airports.json",
		query: url.Values{
			"name": {"Ranch"}, "country": {"US"}, "timezone": {"America/Chicago"},
			"iata_assigned": {"0"}, "icao_assigned": {"1"}, "per_page": {"100"},
		},
		call: func(ctx context.Context, c *Client) (any, error) {
			return some(c.Airports(ctx, AirportsParams{
				Name: "Ranch", Country: "US", Timezone: "America/Chicago",
				IATAAssigned: ptr(false), ICAOAssigned: ptr(true), PerPage: MaxPerPage,
			}))
		},
		want: &AirportsPage{
			Airports: []Airport{airport},
			Links: PageLinks{
				First: "https://sharpapi.com/api/v1/airports?page=1",
				Last:  "https://sharpapi.com/api/v1/airports?page=1128",
				Next:  "https://sharpapi.com/api/v1/airports?page=2",
			},
			Meta: PageMeta{CurrentPage: 1, From: 1, LastPage: 1128, PerPage: 25, To: 25, Total: 28186},
		},
	}, {
		name: "AirportByIATA", pattern: "/airports/iata/LHR", fixture: "airport.json",
		call: func(ctx context.Context, c *Client) (any, error) { return some(c.AirportByIATA(ctx, "LHR")) },
		want: &airport,
	}, {
		name: "AirportByICAO", pattern: "/airports/icao/00AA", fixture: "airport.json",
		call: func(ctx context.Context, c *Client) (any, error) { return some(c.AirportByICAO(ctx, "00AA")) },
		want: &airport,
	}})
}

func TestPathSegmentEscaped(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /api/v1/custom/{slug}", func(w http.ResponseWriter, r *http.Request) {
		if got, want := r.PathValue("slug"), "a b?c#d%2F"; got != want {
			t.Errorf("slug = %q, want %q", got, want)
		}
		if r.URL.RawQuery != "" {
			t.Errorf("query = %q, want none", r.URL.RawQuery)
		}
		w.Write(readFile(t, "testdata/sync/custom_describe.json"))
	})
	if _, err := c.DescribeWorkflow(testContext(t), "a b?c#d%2F"); err != nil {
		t.Fatal(err)
	}
}

// TestSyncInvalid checks that values that cannot be sent are refused with
// ErrInvalidParams, naming the value, before any request.
func TestSyncInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		call        func(context.Context, *Client) error
	}{
		{"ScrapeURL", "ScrapeURL url", func(ctx context.Context, c *Client) error { return errOf(c.ScrapeURL(ctx, "")) }},
		{"JobPositions", "JobPositionsParams.Page", func(ctx context.Context, c *Client) error {
			return errOf(c.JobPositions(ctx, JobPositionsParams{Page: -1}))
		}},
		{"JobPosition/empty", "JobPosition id", func(ctx context.Context, c *Client) error { return errOf(c.JobPosition(ctx, " ")) }},
		{"JobPosition/dotdot", "JobPosition id", func(ctx context.Context, c *Client) error { return errOf(c.JobPosition(ctx, "..")) }},
		{"Airports", "AirportsParams.PerPage", func(ctx context.Context, c *Client) error {
			return errOf(c.Airports(ctx, AirportsParams{PerPage: MaxPerPage + 1}))
		}},
		{"AirportByIATA", "AirportByIATA code", func(ctx context.Context, c *Client) error {
			return errOf(c.AirportByIATA(ctx, "../../quota"))
		}},
		{"AirportByICAO", "AirportByICAO code", func(ctx context.Context, c *Client) error {
			return errOf(c.AirportByICAO(ctx, "EG\nLL"))
		}},
		{"ListWorkflows", "ListWorkflowsParams.PerPage", func(ctx context.Context, c *Client) error {
			return errOf(c.ListWorkflows(ctx, ListWorkflowsParams{PerPage: -3}))
		}},
		{"DescribeWorkflow", "workflow slug", func(ctx context.Context, c *Client) error {
			return errOf(c.DescribeWorkflow(ctx, "a/b"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := setup(t) // any request fails the test
			err := tc.call(testContext(t), c)
			if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %v, want ErrInvalidParams naming %s", err, tc.field)
			}
		})
	}
}

// TestGetByKeyNoData checks that an answer without "data" is an error, not
// a zero value taken for a real one.
func TestGetByKeyNoData(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /api/v1/airports/iata/LHR", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"message": "ok"})
	})
	if _, err := c.AirportByIATA(testContext(t), "LHR"); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("err = %v, want ErrMalformedResponse", err)
	}
}
