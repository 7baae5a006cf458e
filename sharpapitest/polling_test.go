package sharpapitest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// officialPoll is the polling loop of SharpAPI's PHP, Node and Python SDKs
// (reference §2.6), transcribed with nothing but net/http: GET the status
// URL until the status is success or failed, waiting Retry-After (integer
// seconds) when sent, else the interval, and giving up after maxWait.
// sleep is the only seam: the tests advance a manual clock instead of
// sleeping, which the loop cannot tell apart.
func officialPoll(t *testing.T, statusURL string, sleep func(time.Duration)) (body []byte, polls int) {
	t.Helper()
	const interval, maxWait = 10 * time.Second, 180 * time.Second
	waited := time.Duration(0)
	for {
		req, _ := http.NewRequest(http.MethodGet, statusURL, nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "SharpAPIPHPAgent/1.3.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		polls++
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("poll %d: %d %s", polls, resp.StatusCode, body)
		}
		var job struct {
			Data struct {
				Attributes struct{ Status string } `json:"attributes"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &job); err != nil {
			t.Fatal(err)
		}
		if s := job.Data.Attributes.Status; s == "success" || s == "failed" {
			return body, polls
		}
		delay := interval
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			delay = time.Duration(ra) * time.Second
		}
		waited += delay
		if waited >= maxWait {
			t.Fatalf("polling timed out after %d polls", polls)
		}
		sleep(delay)
	}
}

// TestOfficialPollingLoop runs the official SDKs' loop unchanged against
// the emulator: a JSON endpoint, a multipart endpoint, and the generic
// status URL whose result is a JSON-encoded string.
func TestOfficialPollingLoop(t *testing.T) {
	const ciao = `{"content": "[English] ciao", "to_language": "English", "from_language": "French"}`
	for _, tc := range []struct {
		name, path, jobType string
		generic             bool
		post                func(t *testing.T, url string) reply
		want                string // the result; the documented example if empty
	}{
		{"json", "/content/translate", "content_translate", false, func(t *testing.T, url string) reply {
			return postJSON(t, url, map[string]any{"content": "ciao", "language": "English", "voice_tone": nil, "context": nil})
		}, ciao},
		{"multipart", "/hr/parse_resume", "hr_parse_resume", false, func(t *testing.T, url string) reply {
			return postForm(t, url, map[string]string{"language": "English"}, map[string]string{"file": "resume.pdf"})
		}, ""},
		{"generic status URL", "/content/translate", "content_translate", true, func(t *testing.T, url string) reply {
			return postJSON(t, url, map[string]any{"content": "ciao", "language": "English"})
		}, ciao},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := sharpapitest.NewManualClock(epoch)
			opts := []sharpapitest.Option{sharpapitest.WithClock(clock), sharpapitest.WithJobDuration(3 * time.Second)}
			if tc.generic {
				opts = append(opts, sharpapitest.WithGenericStatusURL())
			}
			srv := newServer(t, opts...)

			r := tc.post(t, srv.URL+tc.path)
			if r.status != http.StatusAccepted {
				t.Fatalf("dispatch: %d %s", r.status, r.body)
			}
			d := decode[dispatched](t, r.body)
			wantURL := srv.URL + tc.path + "/job/status/" + d.JobID
			if tc.generic {
				wantURL = srv.URL + "/job/status/" + d.JobID
			}
			if d.StatusURL != wantURL || r.header.Get("Retry-After") != "3" {
				t.Fatalf("dispatch: status_url %q, Retry-After %q; want %q, 3", d.StatusURL, r.header.Get("Retry-After"), wantURL)
			}

			body, polls := officialPoll(t, d.StatusURL, clock.Advance)
			if polls != 2 {
				t.Errorf("polls = %d, want 2 (one at dispatch, one after Retry-After)", polls)
			}
			st := decode[statusBody](t, body)
			raw := st.Data.Attributes.Result
			if tc.generic {
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					t.Fatalf("generic result is not a JSON string: %s", raw)
				}
				raw = json.RawMessage(s)
			}
			want := []byte(tc.want)
			if tc.want == "" {
				want, _ = sharpapitest.ExampleResult(tc.jobType)
			}
			if diff := cmp.Diff(decode[any](t, want), decode[any](t, raw)); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if st.Data.Type != "api_job_result" || st.Data.ID != d.JobID || st.Data.Attributes.Type != tc.jobType {
				t.Errorf("envelope = %+v", st.Data)
			}
		})
	}
}

// TestPollingRealClock polls with real time and a short job, the way a
// user's test would without a manual clock.
func TestPollingRealClock(t *testing.T) {
	srv := newServer(t, sharpapitest.WithJobDuration(time.Millisecond), sharpapitest.WithRetryAfter(0))
	d := dispatch(t, srv.URL+"/content/summarize", map[string]string{"content": "A long text."})
	body, _ := officialPoll(t, d.StatusURL, func(time.Duration) {
		// Retry-After is 0: poll again at once, as the SDKs would.
	})
	if st := decode[statusBody](t, body); st.Data.Attributes.Status != "success" {
		t.Fatalf("status = %q", st.Data.Attributes.Status)
	}
}
