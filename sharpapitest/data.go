package sharpapitest

import (
	"bytes"
	"embed"
	"encoding/json"
	"path"
	"slices"
	"strings"
	"sync"
)

// The canned data: each job type's documented example result (from
// SharpAPI's READMEs, the shape of the default answers), a small airports table, a small job-positions table
// and a scraped page.
var (
	//go:embed testdata/results/*.json
	resultFiles embed.FS
	//go:embed testdata/airports.json
	airportsJSON []byte
	//go:embed testdata/job_positions.json
	jobPositionsJSON []byte
	//go:embed testdata/scrape_url.json
	scrapePageJSON []byte
)

type airport struct {
	ID          string  `json:"id"`
	ICAO        string  `json:"icao"`
	IATA        string  `json:"iata"`
	LID         string  `json:"lid"`
	Name        string  `json:"name"`
	City        string  `json:"city"`
	Subdivision string  `json:"subdivision"`
	Country     string  `json:"country"`
	Timezone    string  `json:"timezone"`
	Elevation   int     `json:"elevation"`
	Latitude    float64 `json:"latitude"`
	Longitude   float64 `json:"longitude"`
}

type jobPosition struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Slug    string `json:"slug"`
	Related []struct {
		ID     string  `json:"id"`
		Weight float64 `json:"weight"`
	} `json:"related"`
}

type dataset struct {
	results   map[string]json.RawMessage // compact, by job type
	airports  []airport
	positions []jobPosition
	scraped   json.RawMessage // scraped_data of the canned page
}

// data parses the embedded files once. They ship with the package and a
// test checks them, so a file that does not parse is left out rather than
// reported at run time.
var data = sync.OnceValue(func() *dataset {
	d := &dataset{results: map[string]json.RawMessage{}}
	entries, _ := resultFiles.ReadDir("testdata/results")
	for _, e := range entries {
		b, err := resultFiles.ReadFile("testdata/results/" + e.Name())
		var buf bytes.Buffer
		if err == nil && json.Compact(&buf, b) == nil {
			d.results[strings.TrimSuffix(e.Name(), path.Ext(e.Name()))] = buf.Bytes()
		}
	}
	_ = json.Unmarshal(airportsJSON, &d.airports)
	_ = json.Unmarshal(jobPositionsJSON, &d.positions)
	var page struct {
		ScrapedData json.RawMessage `json:"scraped_data"`
	}
	if json.Unmarshal(scrapePageJSON, &page) == nil {
		d.scraped = page.ScrapedData
	}
	return d
})

// ExampleResult returns the example SharpAPI's READMEs show for the result
// of jobType, as trimmed in their documentation: the shape of every result
// the emulator answers for that job type by default, and for verdicts and
// uploads the result itself (for the others, its values follow the
// request: see the package documentation, "Results"). SharpAPI documents
// no result for content_detect_address (the emulator answers a list of
// address strings) nor a full one for content_detect_profanities (the
// reason text is the emulator's). Custom workflow results are not included.
func ExampleResult(jobType string) (json.RawMessage, bool) {
	r, ok := data().results[jobType]
	return slices.Clone(r), ok
}

func (d *dataset) position(id string) (jobPosition, bool) {
	i := slices.IndexFunc(d.positions, func(p jobPosition) bool { return p.ID == id })
	if i < 0 {
		return jobPosition{}, false
	}
	return d.positions[i], true
}
