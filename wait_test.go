package sharpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

const waitJobID = "5de4887a-0dfd-49b6-8edb-9280e468c210"

func answerSuccess(w http.ResponseWriter) {
	w.Write([]byte(strings.ReplaceAll(successBody, "%s", waitJobID)))
}

// TestFirstPollWithinMaxPollInterval: the dispatch's Retry-After, however
// far it points, is capped like every other wait between polls.
func TestFirstPollWithinMaxPollInterval(t *testing.T) {
	for _, retryAfter := range []string{"3600", "1e12", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				w.Header().Set("Retry-After", retryAfter)
				w.WriteHeader(http.StatusAccepted)
				w.Write([]byte(`{"job_id":"` + waitJobID + `"}`))
				return
			}
			answerSuccess(w)
		})
		c, _ := pipeClient(t, h, WithMaxPollInterval(time.Millisecond))
		job, err := dispatchTranslation(t, c)
		if err != nil {
			t.Fatal(err)
		}
		// Only a hang guard: with a 1 ms cap the first poll comes at once.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = job.Wait(ctx)
		cancel()
		if err != nil {
			t.Errorf("dispatch Retry-After %s: Wait = %v, want the result", retryAfter, err)
		}
	}
}
