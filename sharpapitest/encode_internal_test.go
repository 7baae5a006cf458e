package sharpapitest

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEncodeJSONLikePHP(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"a/b", `"a\/b"`},
		{"Bachelor’s ü 😀", `"Bachelor\u2019s \u00fc \ud83d\ude00"`},
		{"<&>", `"<&>"`},
		{json.RawMessage(`"already\/escaped"`), `"already\/escaped"`},
		{`back\slash/`, `"back\\slash\/"`},
	} {
		got, err := encodeJSON(tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("encodeJSON(%#v) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
		var back, orig any
		json.Unmarshal(got, &back)
		raw, _ := json.Marshal(tc.in)
		json.Unmarshal(raw, &orig)
		if diff := cmp.Diff(orig, back); diff != "" {
			t.Errorf("round trip of %#v (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestEmbeddedData(t *testing.T) {
	d := data()
	entries, _ := resultFiles.ReadDir("testdata/results")
	if len(d.results) != len(entries) || len(d.results) != len(endpoints) {
		t.Errorf("%d results parsed from %d files for %d endpoints", len(d.results), len(entries), len(endpoints))
	}
	for _, ep := range endpoints {
		if _, ok := d.results[ep.jobType]; !ok {
			t.Errorf("no result for %s", ep.jobType)
		}
	}
	if len(d.airports) == 0 || len(d.positions) == 0 || len(d.scraped) == 0 {
		t.Errorf("airports %d, positions %d, scraped %d bytes", len(d.airports), len(d.positions), len(d.scraped))
	}
	for _, p := range d.positions {
		for _, r := range p.Related {
			if _, ok := d.position(r.ID); !ok {
				t.Errorf("%s: related id %s unknown", p.Name, r.ID)
			}
		}
	}
}
