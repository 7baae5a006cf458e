package sharpapitest_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// page is Laravel's pagination envelope, with items reduced to a name.
type page struct {
	Data []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		IATA string `json:"iata"`
	} `json:"data"`
	Links struct {
		First string  `json:"first"`
		Last  string  `json:"last"`
		Prev  *string `json:"prev"`
		Next  *string `json:"next"`
	} `json:"links"`
	Meta struct {
		CurrentPage int  `json:"current_page"`
		From        *int `json:"from"`
		LastPage    int  `json:"last_page"`
		Links       []struct {
			URL    *string `json:"url"`
			Label  string  `json:"label"`
			Active bool    `json:"active"`
		} `json:"links"`
		Path    string `json:"path"`
		PerPage int    `json:"per_page"`
		To      *int   `json:"to"`
		Total   int    `json:"total"`
	} `json:"meta"`
}

func (p page) names() []string {
	var n []string
	for _, d := range p.Data {
		n = append(n, d.Name)
	}
	return n
}

func ptr[T any](v T) *T { return &v }

func TestJobPositionsPagination(t *testing.T) {
	srv := newServer(t)
	base := srv.URL + "/utilities/job_positions_list"

	first := decode[page](t, get(t, base).body)
	if len(first.Data) != 15 || first.Meta.PerPage != 15 || first.Meta.Total != 30 || first.Meta.LastPage != 2 {
		t.Errorf("defaults: %d items, meta %+v", len(first.Data), first.Meta)
	}
	if first.Data[0].ID != "18f73cda-db62-454b-aa53-aa26acb196b7" || first.Data[0].Name != "Billing Manager" {
		t.Errorf("first item %+v", first.Data[0])
	}

	p := decode[page](t, get(t, base+"?page=2&per_page=12").body)
	if !cmp.Equal(p.Links.Prev, ptr(base+"?page=1")) || !cmp.Equal(p.Links.Next, ptr(base+"?page=3")) ||
		p.Links.First != base+"?page=1" || p.Links.Last != base+"?page=3" {
		t.Errorf("links %+v", p.Links)
	}
	if !cmp.Equal(p.Meta.From, ptr(13)) || !cmp.Equal(p.Meta.To, ptr(24)) || p.Meta.Path != base || p.Meta.CurrentPage != 2 {
		t.Errorf("meta %+v", p.Meta)
	}
	var labels []string
	for _, l := range p.Meta.Links {
		if l.Active {
			labels = append(labels, "*"+l.Label)
		} else {
			labels = append(labels, l.Label)
		}
	}
	if want := []string{"&laquo; Previous", "1", "*2", "3", "Next &raquo;"}; !cmp.Equal(want, labels) {
		t.Errorf("meta.links = %v, want %v", labels, want)
	}

	beyond := decode[page](t, get(t, base+"?page=9").body)
	if len(beyond.Data) != 0 || beyond.Meta.From != nil || beyond.Links.Next != nil {
		t.Errorf("past the end: %+v", beyond)
	}

	filtered := decode[page](t, get(t, base+"?name=billing").body)
	if want := []string{"Billing Manager", "Billing Coordinator", "Billing Supervisor"}; !cmp.Equal(want, filtered.names()) {
		t.Errorf("name=billing: %v", filtered.names())
	}
}

func TestJobPositionDetails(t *testing.T) {
	srv := newServer(t)
	r := get(t, srv.URL+"/utilities/job_positions_details/18f73cda-db62-454b-aa53-aa26acb196b7")
	// The example of SharpAPI's job positions README.
	want := map[string]any{"data": map[string]any{
		"id": "18f73cda-db62-454b-aa53-aa26acb196b7", "name": "Billing Manager", "slug": "billing-manager",
		"related_job_positions": []any{
			map[string]any{"id": "445b1023-2c3c-41c4-a986-08d8400e52a5", "name": "Accounts Receivable Manager", "slug": "accounts-receivable-manager", "weight": 9.0},
			map[string]any{"id": "f6749359-de3a-4c32-ac31-75e059197a0f", "name": "Billing Coordinator", "slug": "billing-coordinator", "weight": 8.0},
			map[string]any{"id": "bd8f8374-a717-4474-be41-5582a67b4ff9", "name": "Billing Supervisor", "slug": "billing-supervisor", "weight": 9.5},
		},
	}}
	if diff := cmp.Diff(want, decode[any](t, r.body)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r := get(t, srv.URL+"/utilities/job_positions_details/nope"); r.status != http.StatusNotFound {
		t.Errorf("unknown id: %d", r.status)
	}
}

func TestAirports(t *testing.T) {
	srv := newServer(t)
	base := srv.URL + "/airports"
	all := decode[page](t, get(t, base).body)
	if all.Meta.PerPage != 25 || all.Meta.Total != 25 || all.Data[0].Name != "Aero B Ranch Airport" {
		t.Errorf("defaults: %+v", all.Meta)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"country=gb&iata_assigned=true", []string{"London Heathrow Airport", "London Gatwick Airport", "London City Airport", "Manchester Airport"}},
		{"name=paris", []string{"Charles de Gaulle International Airport", "Paris-Orly Airport"}},
		{"iata_assigned=false&icao_assigned=true", []string{"Aero B Ranch Airport", "Lowell Field"}},
		{"lid_assigned=1&timezone=America/Chicago", []string{"Aero B Ranch Airport", "Chicago O'Hare International Airport"}},
		{"country=FR&per_page=1&page=2", []string{"Paris-Orly Airport"}},
	} {
		if got := decode[page](t, get(t, base+"?"+tc.query).body).names(); !cmp.Equal(tc.want, got) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}

	for _, path := range []string{"/iata/lhr", "/icao/EGLL"} {
		one := decode[struct {
			Data struct {
				ICAO string `json:"icao"`
				IATA string `json:"iata"`
			} `json:"data"`
		}](t, get(t, base+path).body)
		if one.Data.ICAO != "EGLL" || one.Data.IATA != "LHR" {
			t.Errorf("%s: %+v", path, one)
		}
	}
	for _, path := range []string{"/iata/XXX", "/icao/ZZZZ"} {
		if r := get(t, base+path); r.status != http.StatusNotFound {
			t.Errorf("%s: %d", path, r.status)
		}
	}
}

func TestScrapeURL(t *testing.T) {
	srv := newServer(t)
	r := get(t, srv.URL+"/utilities/scrape_url?url=example.com")
	got := decode[struct {
		URL         string `json:"url"`
		Timestamp   string `json:"timestamp"`
		ScrapedData struct {
			Title string `json:"title"`
		} `json:"scraped_data"`
	}](t, r.body)
	if got.URL != "example.com" || got.Timestamp == "" || got.ScrapedData.Title != "AI-powered Workflow Automation API" {
		t.Errorf("%s", r.body)
	}
	if r.header.Get("X-RateLimit-Limit") == "" {
		t.Error("utilities carry rate-limit headers")
	}
	r = get(t, srv.URL+"/utilities/scrape_url")
	if diff := cmp.Diff(map[string][]string{"url": {"The url field is required."}}, decode[validationBody](t, r.body).Errors); r.status != 422 || diff != "" {
		t.Errorf("no url: %d %s", r.status, diff)
	}
}
