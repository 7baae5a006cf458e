package sharpapi

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestErrorsSayItOnce drives every error path of the client and of a job
// and checks each message is one sentence: "sharpapi:" once, the job id at
// most once.
func TestErrorsSayItOnce(t *testing.T) {
	const id = waitJobID
	var mode atomic.Value
	var polls atomic.Int32
	storm, endStorm := context.WithCancel(context.Background())
	defer endStorm()
	evil := newElsewhere(t)
	c, srv := pipeClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := mode.Load().(string)
		switch {
		case m == "redirect" || (m == "poll redirect" && r.Method == http.MethodGet):
			http.Redirect(w, r, evil.URL, http.StatusFound)
		case m == "bad id":
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte(`{"job_id":"a b"}`))
		case r.Method == http.MethodPost && m != "422" && m != "429":
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte(`{"job_id":"` + id + `"}`))
		case m == "not json":
			w.Write([]byte(`<html>`))
		case m == "failed":
			w.Write([]byte(strings.ReplaceAll(failedBody, "%s", id)))
		case m == "bad result":
			w.Write([]byte(`{"data":{"id":"` + id + `","attributes":{"status":"success","result":[1]}}}`))
		case m == "pending":
			w.Write([]byte(strings.ReplaceAll(pendingBody, "%s", id)))
		case m == "503 storm":
			if polls.Add(1) == 3 {
				endStorm()
			}
			status(503, `{"message":"busy"}`)(w, r)
		default:
			code := map[string]int{"402": 402, "404": 404, "422": 422, "429": 429}[m]
			w.Header().Set("Retry-After", "0")
			w.Header().Set("SharpAPI-Job-Id", id)
			status(code, `{"code":"X","message":"no"}`)(w, r)
		}
	}), WithMaxRetries(1), WithMaxPollInterval(time.Millisecond))
	ctx := context.Background()
	var errs []error
	record := func(err error) { errs = append(errs, err) }
	var out any
	for _, m := range []string{"402", "429", "not json", "redirect"} {
		mode.Store(m)
		record(c.getJSON(ctx, "/quota", nil, &out))
	}
	for _, m := range []string{"422", "429", "redirect", "bad id"} {
		mode.Store(m)
		_, err := dispatchTranslation(t, c)
		record(err)
	}
	for _, m := range []string{"404", "402", "not json", "failed", "bad result", "poll redirect"} {
		mode.Store(m)
		job, err := dispatchTranslation(t, c)
		if err != nil {
			t.Fatal(err)
		}
		_, err = job.Wait(ctx)
		record(err)
		if m != "failed" && m != "bad result" { // a poll that saw them succeeded
			_, err = job.Status(ctx)
			record(err)
		}
	}
	mode.Store("pending")
	job, err := ResumeJob[translation](c, id, JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	short, stop := context.WithTimeout(ctx, time.Millisecond)
	_, err = job.Wait(short)
	stop()
	record(err)
	mode.Store("503 storm")
	_, err = job.Wait(storm)
	record(err)
	_, err = ResumeJob[translation](c, "a b", JobTypeContentTranslate)
	record(err)
	_, err = ResumeJob[translation](c, evil.URL+"/job/status/"+id, JobTypeContentTranslate)
	record(err)
	srv.Close()
	record(c.getJSON(ctx, "/quota", nil, &out))
	short, stop = context.WithTimeout(ctx, 20*time.Millisecond) // Wait outlasts a refused connection
	_, err = job.Wait(short)
	stop()
	record(err)

	for _, err := range errs {
		t.Log(err)
		if err == nil {
			t.Error("a failure path succeeded")
			continue
		}
		msg := err.Error()
		if strings.Count(msg, "sharpapi:") != 1 || strings.Count(msg, id) > 1 {
			t.Errorf("not said once: %s", msg)
		}
	}
}
