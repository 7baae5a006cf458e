package sharpapitest_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// TestOptionsRejectBadValues gives each option a value that makes no
// sense: New reports it, naming the option, and starts nothing.
func TestOptionsRejectBadValues(t *testing.T) {
	for _, tc := range []struct {
		opt  sharpapitest.Option
		want string // in the message
	}{
		{sharpapitest.WithAPIKey(""), "WithAPIKey: empty key"},
		{sharpapitest.WithBaseURL("/api/v1"), "WithBaseURL"},
		{sharpapitest.WithWebhookURL("ftp://user:pw@example.com/hook?token=t0k3n"), `WithWebhookURL: "ftp://example.com/hook" is not`},
		{sharpapitest.WithWebhookSecret(""), "WithWebhookSecret: empty secret"},
		{sharpapitest.WithWebhookRetryDelay(-time.Second), "WithWebhookRetryDelay: negative duration -1s"},
		{sharpapitest.WithWebhookTimeout(0), "WithWebhookTimeout"},
		{sharpapitest.WithWebhookClient(nil), "WithWebhookClient: nil client"},
		{sharpapitest.WithJobDuration(-time.Millisecond), "WithJobDuration: negative duration"},
		{sharpapitest.WithRateLimit(1, 0), "WithRateLimit: window 0s is not positive"},
		{sharpapitest.WithRetryAfter(-time.Second), "WithRetryAfter: negative duration"},
		{sharpapitest.WithClock(nil), "WithClock: nil clock"},
		{sharpapitest.WithResult("content_translate", nil), `WithResult: nil function for job type "content_translate"`},
		{sharpapitest.WithResult("", func(sharpapitest.JobRequest) (any, error) { return nil, nil }), "WithResult: empty job type"},
		{sharpapitest.WithWorkflow(sharpapitest.Workflow{Slug: "a/b"}), `WithWorkflow: slug "a/b"`},
		{sharpapitest.WithWorkflow(sharpapitest.Workflow{Slug: "ok", InputMode: "text/plain"}), `input mode "text/plain"`},
		{sharpapitest.WithWordQuota(-1), "WithWordQuota: negative quota -1"},
		{sharpapitest.WithRateLimit(0, time.Minute), "WithRateLimit: 0 requests per window is below 1"},
		{sharpapitest.WithRecordLimit(-1), "WithRecordLimit: negative limit -1"},
		{sharpapitest.WithDropRate(1.5), "DropRate 1.5 is not between 0 and 1"},
		{sharpapitest.WithFailRate(math.NaN()), "FailRate NaN is not between 0 and 1"},
		{sharpapitest.WithErrorRate(-0.1), "ErrorRate -0.1"},
		{sharpapitest.WithRateLimitRate(2), "RateLimitRate 2"},
		{sharpapitest.WithDropNext(-1), "DropNext -1 is negative"},
		{sharpapitest.WithDuplicates(-2), "Duplicates -2 is negative"},
		{sharpapitest.WithWebhookDelay(-time.Second), "WebhookDelay -1s is negative"},
		{sharpapitest.WithLatency(-time.Second), "Latency -1s is negative"},
		{sharpapitest.WithFaults(sharpapitest.Faults{DropRate: -1}), "DropRate -1"},
		{sharpapitest.WithFailJobTypes("content_translate", "content_translation"), `FailJobTypes: unknown job type "content_translation"; the job types are `},
	} {
		t.Run(tc.want, func(t *testing.T) {
			srv, err := sharpapitest.New(tc.opt)
			if srv != nil {
				srv.Close()
			}
			if !errors.Is(err, sharpapitest.ErrInvalidOption) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want ErrInvalidOption saying %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "sharpapitest: invalid option: ") || strings.Count(err.Error(), "sharpapitest:") != 1 {
				t.Errorf("message %q does not say its prefix exactly once", err)
			}
			for _, secret := range []string{"pw", "t0k3n"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("message %q carries the URL's credential %q", err, secret)
				}
			}
		})
	}
}

// TestNewReportsEveryBadOption checks that New names all the bad values at
// once, that NewServer panics with the same error, and that good options
// still make a working server.
func TestNewReportsEveryBadOption(t *testing.T) {
	bad := []sharpapitest.Option{sharpapitest.WithJobDuration(-1), nil, sharpapitest.WithRateLimit(0, time.Minute), sharpapitest.WithDropRate(2)}
	_, err := sharpapitest.New(bad...)
	for _, want := range []string{"WithJobDuration", "WithRateLimit", "DropRate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New: %v, want it to name %s", err, want)
		}
	}

	func() {
		defer func() {
			p := recover()
			perr, ok := p.(error)
			if !ok || !errors.Is(perr, sharpapitest.ErrInvalidOption) || perr.Error() != err.Error() {
				t.Errorf("NewServer panicked with %v, want New's error", p)
			}
		}()
		srv := sharpapitest.NewServer(bad...)
		srv.Close()
	}()

	srv, err := sharpapitest.New(sharpapitest.WithJobDuration(0), sharpapitest.WithWordQuota(0), sharpapitest.WithRateLimit(1, time.Minute))
	if err != nil {
		t.Fatalf("New with good options: %v", err)
	}
	defer srv.Close()
	get(t, srv.URL+"/ping")
}

// TestSetFaultsRejectsBadValues leaves the faults in force when the new
// ones make no sense.
func TestSetFaultsRejectsBadValues(t *testing.T) {
	srv := newServer(t, sharpapitest.WithDuplicates(2))
	err := srv.SetFaults(sharpapitest.Faults{ErrorRate: 3, Latency: -time.Second, FailJobTypes: []string{"nope"}})
	if !errors.Is(err, sharpapitest.ErrInvalidOption) || !strings.Contains(err.Error(), "ErrorRate 3") ||
		!strings.Contains(err.Error(), "Latency -1s") || !strings.Contains(err.Error(), `unknown job type "nope"`) {
		t.Errorf("SetFaults: %v", err)
	}
	if diff := cmp.Diff(sharpapitest.Faults{Duplicates: 2}, srv.Faults()); diff != "" {
		t.Errorf("faults changed (-want +got):\n%s", diff)
	}
	if err := srv.SetFaults(sharpapitest.Faults{ErrorRate: 1, FailJobTypes: []string{"custom_sentiment_analysis"}}); err != nil {
		t.Errorf("SetFaults with good faults: %v", err)
	}
}
