package sharpapitest

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// handlePing answers GET /ping.
func (e *Emulator) handlePing(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Ping      string `json:"ping"`
		Timestamp string `json:"timestamp"`
	}{"pong", timestamp(e.cfg.clock.Now())})
}

// handleQuota answers GET /quota with all eleven fields. The subscription
// starts when the emulator does and lasts a month; the used percentage is
// 0–100 with two decimals.
func (e *Emulator) handleQuota(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	used := e.wordsUsed
	e.mu.Unlock()
	start := e.started.Truncate(time.Second)
	end := start.AddDate(0, 1, 0)
	pct := 0.0
	if e.cfg.wordQuota > 0 {
		pct = math.Round(float64(used)*10000/float64(e.cfg.wordQuota)) / 100
	}
	writeJSON(w, http.StatusOK, struct {
		Timestamp                string  `json:"timestamp"`
		OnTrial                  bool    `json:"on_trial"`
		TrialEnds                string  `json:"trial_ends"`
		Subscribed               bool    `json:"subscribed"`
		CurrentSubscriptionStart string  `json:"current_subscription_start"`
		CurrentSubscriptionEnd   string  `json:"current_subscription_end"`
		CurrentSubscriptionReset string  `json:"current_subscription_reset"`
		WordsQuota               int     `json:"subscription_words_quota"`
		WordsUsed                int     `json:"subscription_words_used"`
		WordsUsedPercentage      float64 `json:"subscription_words_used_percentage"`
		RequestsPerMinute        int     `json:"requests_per_minute"`
	}{
		timestamp(e.cfg.clock.Now()), false, timestamp(start), true, timestamp(start), timestamp(end), timestamp(end),
		e.cfg.wordQuota, used, pct, e.cfg.rateLimit,
	})
}

// handleScrape answers GET /utilities/scrape_url?url= with a canned page.
func (e *Emulator) handleScrape(w http.ResponseWriter, r *http.Request) {
	target := strings.TrimSpace(r.URL.Query().Get("url"))
	if target == "" {
		fe := &fieldErrors{}
		fe.add("url", "The url field is required.")
		fe.write(w, "")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		URL         string          `json:"url"`
		Timestamp   string          `json:"timestamp"`
		ScrapedData json.RawMessage `json:"scraped_data"`
	}{target, timestamp(e.cfg.clock.Now()), data().scraped})
}

// handleJobPositions answers GET /utilities/job_positions_list (name, page, per_page).
func (e *Emulator) handleJobPositions(w http.ResponseWriter, r *http.Request) {
	type item struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Slug string `json:"slug"`
	}
	q := r.URL.Query()
	name := strings.ToLower(strings.TrimSpace(q.Get("name")))
	items := []item{}
	for _, p := range data().positions {
		if strings.Contains(strings.ToLower(p.Name), name) {
			items = append(items, item{p.ID, p.Name, p.Slug})
		}
	}
	writeJSON(w, http.StatusOK, paginate(items, q, 15, e.baseURL(r)+"/utilities/job_positions_list"))
}

// handleJobPosition answers GET /utilities/job_positions_details/{uuid}.
func (e *Emulator) handleJobPosition(w http.ResponseWriter, r *http.Request) {
	d := data()
	p, ok := d.position(r.PathValue("uuid"))
	if !ok {
		writeMessage(w, http.StatusNotFound, "Job position not found.")
		return
	}
	type related struct {
		ID     string  `json:"id"`
		Name   string  `json:"name"`
		Slug   string  `json:"slug"`
		Weight float64 `json:"weight"`
	}
	out := struct {
		ID      string    `json:"id"`
		Name    string    `json:"name"`
		Slug    string    `json:"slug"`
		Related []related `json:"related_job_positions"`
	}{ID: p.ID, Name: p.Name, Slug: p.Slug, Related: []related{}}
	for _, rel := range p.Related {
		if q, ok := d.position(rel.ID); ok {
			out.Related = append(out.Related, related{q.ID, q.Name, q.Slug, rel.Weight})
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Data any `json:"data"`
	}{out})
}

// handleAirports answers GET /airports with SharpAPI's filters: name
// (airport name or city), country, timezone, and the *_assigned switches.
func (e *Emulator) handleAirports(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := strings.ToLower(strings.TrimSpace(q.Get("name")))
	items := []airport{}
	for _, a := range data().airports {
		switch {
		case name != "" && !strings.Contains(strings.ToLower(a.Name), name) && !strings.Contains(strings.ToLower(a.City), name):
		case q.Get("country") != "" && !strings.EqualFold(a.Country, q.Get("country")):
		case q.Get("timezone") != "" && a.Timezone != q.Get("timezone"):
		case !assigned(q, "iata_assigned", a.IATA), !assigned(q, "icao_assigned", a.ICAO), !assigned(q, "lid_assigned", a.LID):
		default:
			items = append(items, a)
		}
	}
	writeJSON(w, http.StatusOK, paginate(items, q, 25, e.baseURL(r)+"/airports"))
}

// assigned applies a *_assigned filter: true keeps airports with a code,
// false those without, anything else keeps all.
func assigned(q url.Values, key, code string) bool {
	want, err := strconv.ParseBool(q.Get(key))
	return err != nil || want == (code != "")
}

// handleAirport answers GET /airports/iata/{code} and /airports/icao/{code}.
func (e *Emulator) handleAirport(codeOf func(airport) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		code := r.PathValue("code")
		for _, a := range data().airports {
			if c := codeOf(a); c != "" && strings.EqualFold(c, code) {
				writeJSON(w, http.StatusOK, struct {
					Data airport `json:"data"`
				}{a})
				return
			}
		}
		writeMessage(w, http.StatusNotFound, "Airport not found.")
	}
}

// laravelPage is Laravel's paginated resource: data, links and meta.
type laravelPage[T any] struct {
	Data  []T `json:"data"`
	Links struct {
		First string  `json:"first"`
		Last  string  `json:"last"`
		Prev  *string `json:"prev"`
		Next  *string `json:"next"`
	} `json:"links"`
	Meta struct {
		CurrentPage int        `json:"current_page"`
		From        *int       `json:"from"`
		LastPage    int        `json:"last_page"`
		Links       []metaLink `json:"links"`
		Path        string     `json:"path"`
		PerPage     int        `json:"per_page"`
		To          *int       `json:"to"`
		Total       int        `json:"total"`
	} `json:"meta"`
}

type metaLink struct {
	URL    *string `json:"url"`
	Label  string  `json:"label"`
	Active bool    `json:"active"`
}

// paginate pages items by the query's page and per_page (at most 100).
// Links carry only the page number, as SharpAPI's do.
func paginate[T any](items []T, q url.Values, defaultPerPage int, path string) laravelPage[T] {
	page, perPage := queryInt(q, "page", 1, 1, 1<<20), queryInt(q, "per_page", defaultPerPage, 1, 100)
	last := lastPage(len(items), perPage)
	link := func(n int) *string {
		if n < 1 || n > last {
			return nil
		}
		s := path + "?page=" + strconv.Itoa(n)
		return &s
	}
	var p laravelPage[T]
	p.Data = append([]T{}, pageOf(items, page, perPage)...)
	p.Links.First, p.Links.Last = *link(1), *link(last)
	p.Links.Prev, p.Links.Next = link(page-1), link(page+1)
	m := &p.Meta
	m.CurrentPage, m.LastPage, m.Path, m.PerPage, m.Total = page, last, path, perPage, len(items)
	if len(p.Data) > 0 {
		from, to := (page-1)*perPage+1, (page-1)*perPage+len(p.Data)
		m.From, m.To = &from, &to
	}
	m.Links = append(m.Links, metaLink{link(page - 1), "&laquo; Previous", false})
	for n := 1; n <= last; n++ {
		m.Links = append(m.Links, metaLink{link(n), strconv.Itoa(n), n == page})
	}
	m.Links = append(m.Links, metaLink{link(page + 1), "Next &raquo;", false})
	return p
}

// pageOf returns page (from 1) of items, perPage to a page.
func pageOf[T any](items []T, page, perPage int) []T {
	start := min((page-1)*perPage, len(items))
	return items[start:min(start+perPage, len(items))]
}

func lastPage(total, perPage int) int {
	return max(1, (total+perPage-1)/perPage)
}

// queryInt reads an integer query parameter, falling back to def when it is
// absent or not a number, and clamps it to [lo, hi].
func queryInt(q url.Values, key string, def, lo, hi int) int {
	n, err := strconv.Atoi(strings.TrimSpace(q.Get(key)))
	if err != nil {
		n = def
	}
	return min(max(n, lo), hi)
}
