package otelsharpapi

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestNoSecretInTelemetry runs a full scenario (a webhook job whose
// webhook URL has user info and a query, a duplicate delivery, a lost
// webhook completed by polling, a job resumed by a status URL with a query,
// a forged delivery) and looks through every exported span (name,
// attributes, events, links, status) and every metric's attributes for the
// API key, the webhook secret, the signatures, URL user info and query
// values, and the results' bodies. It also checks that no metric attribute
// carries a job id or a URL.
func TestNoSecretInTelemetry(t *testing.T) {
	const marker = "RESULT-BODY-MARKER-4242"
	r := newRig(t, time.Millisecond, nil,
		sharpapitest.WithResult("content_translate", func(sharpapitest.JobRequest) (any, error) {
			return map[string]string{"content": marker, "to_language": "Italian"}, nil
		}),
		sharpapitest.WithDuplicates(2))
	ctx := context.Background()
	u, err := url.Parse(r.hookURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("hookuser", "USERINFO-PASSWORD")
	u.RawQuery = "token=QUERY-TOKEN-VALUE"
	job, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(u.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	r.awaitAnswers(t, 2)
	// A lost webhook: polled.
	if err := r.emu.SetFaults(sharpapitest.Faults{DropNext: 1}); err != nil {
		t.Fatal(err)
	}
	polled, err := r.client.Translate(ctx, italian, sharpapi.WithWebhook(r.hookURL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := polled.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// A job resumed by a status URL with a query.
	resumed, err := sharpapi.ResumeJob[sharpapi.TranslateResult](r.client,
		r.emu.URL+"/content/translate/job/status/"+polled.ID()+"?sig=STATUS-QUERY-VALUE", sharpapi.JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resumed.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// A forged delivery.
	forged := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if code := deliverSigned(t, r.hookURL, `{"id":"forged-1","status":"success","result":{"c":"`+marker+`"}}`, forged); code != 401 {
		t.Fatalf("forged delivery answered %d", code)
	}
	r.awaitAnswers(t, 1)

	secrets := []string{testKey, testSecret, "USERINFO-PASSWORD", "hookuser", "QUERY-TOKEN-VALUE", "token=",
		"STATUS-QUERY-VALUE", "sig=", marker, forged, "Bearer"}
	for _, d := range r.emu.Deliveries() {
		secrets = append(secrets, d.Signature)
	}
	var texts []string
	for _, s := range r.sr.Ended() {
		texts = append(texts, spanTexts(s)...)
	}
	if len(r.sr.Ended()) < 10 {
		t.Fatalf("only %d spans ended: the scenario did not run", len(r.sr.Ended()))
	}
	for _, kv := range r.metricAttrs(t) {
		texts = append(texts, string(kv.Key)+"="+kv.Value.Emit())
	}
	for _, txt := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(txt, s) {
				t.Errorf("telemetry holds %q: %s", s, txt)
			}
		}
	}

	// Bounded cardinality: no metric attribute names a job or a URL.
	ids := map[string]bool{job.ID(): true, polled.ID(): true, "forged-1": true}
	for _, kv := range r.metricAttrs(t) {
		v := kv.Value.Emit()
		switch {
		case kv.Key == "sharpapi.job.id" || strings.HasPrefix(string(kv.Key), "url."):
			t.Errorf("metric attribute %s", kv.Key)
		case ids[v] || strings.Contains(v, "/") || strings.Contains(v, "://"):
			t.Errorf("metric attribute %s=%s names a job or a URL", kv.Key, v)
		}
	}
}

// spanTexts is everything a span exports as text.
func spanTexts(s sdktrace.ReadOnlySpan) []string {
	out := []string{s.Name(), s.Status().Description}
	kvs := func(attrs []attribute.KeyValue) {
		for _, kv := range attrs {
			out = append(out, string(kv.Key)+"="+kv.Value.Emit())
		}
	}
	kvs(s.Attributes())
	for _, e := range s.Events() {
		out = append(out, e.Name)
		kvs(e.Attributes)
	}
	for _, l := range s.Links() {
		kvs(l.Attributes)
	}
	return out
}

// TestErrorDescriptionLeavesOutTheFailedResult: a failed job's status
// description does not quote what SharpAPI sent for it.
func TestErrorDescriptionLeavesOutTheFailedResult(t *testing.T) {
	err := &sharpapi.JobFailedError{JobID: "job-1", Detail: []byte(`{"error":"the input text was: my secret"}`)}
	if got := errorDescription(err); strings.Contains(got, "secret") || got != "sharpapi: job job-1 failed" {
		t.Errorf("errorDescription = %q", got)
	}
	if got := errorType(errors.Join(errors.New("x"), err)); got != "job_failed" {
		t.Errorf("errorType = %q", got)
	}
}
