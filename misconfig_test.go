package sharpapi

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// levelCounter counts log records by level and keeps their messages.
type levelCounter struct{ rec *logRecorder }

func (l levelCounter) lines(level slog.Level) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(l.rec.String()), "\n") {
		if strings.HasPrefix(line, level.String()+" ") {
			out = append(out, line)
		}
	}
	return out
}

// A client that dispatches jobs with a webhook URL but has no handler to
// hear it says so once, at Warn: its awaits poll.
func TestWarnsOnceWebhookWithoutHandler(t *testing.T) {
	emu := sharpapitest.NewServer(sharpapitest.WithJobDuration(time.Millisecond), sharpapitest.WithRetryAfter(time.Millisecond))
	defer emu.Close()
	logs := newLogRecorder()
	c, err := NewClient("k", WithBaseURL(emu.URL), WithLogger(slog.New(logs)), WithWebhook("http://127.0.0.1:1/hooks"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		job, err := c.Translate(context.Background(), TranslateParams{Content: "hi", Language: "Italian"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := job.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	warns := levelCounter{logs}.lines(slog.LevelWarn)
	if len(warns) != 1 || !strings.Contains(warns[0], "WithWebhookHandler") {
		t.Errorf("Warn lines = %q; want one naming WithWebhookHandler", warns)
	}
}

// A handler without a bus that keeps receiving events no await here claims
// (another replica's jobs) says once, at Warn, that replicas need a bus.
func TestWarnsOnceEventsForJobsAwaitedElsewhere(t *testing.T) {
	clk := newFakeClock()
	logs := newLogRecorder()
	h := newTestHandler(t, withClock(clk), WithLogger(slog.New(logs)))
	mustPost(t, h, eventJSON("job-1", JobStatusSuccess, "{}")) // early, as far as the handler knows
	clk.Advance(30 * time.Second)
	mustPost(t, h, eventJSON("job-2", JobStatusSuccess, "{}"))
	if warns := (levelCounter{logs}).lines(slog.LevelWarn); len(warns) != 0 {
		t.Fatalf("warned after 30 s: %q", warns)
	}
	clk.Advance(31 * time.Second)
	for i := range 5 {
		mustPost(t, h, eventJSON("job-x"+string(rune('a'+i)), JobStatusSuccess, "{}"))
	}
	warns := levelCounter{logs}.lines(slog.LevelWarn)
	if len(warns) != 1 || !strings.Contains(warns[0], "WithEventBus") {
		t.Errorf("Warn lines = %q; want one naming WithEventBus", warns)
	}
}

// Per-job traffic logs at Debug: a client and handler logging at Info stay
// silent through dispatches, deliveries and results.
func TestPerJobTrafficLogsAtDebug(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := newTestHandler(t, WithLogger(logger))
	recv := httptest.NewServer(h)
	defer recv.Close()
	emu := sharpapitest.NewServer(sharpapitest.WithWebhookSecret(testSecret), sharpapitest.WithJobDuration(time.Millisecond),
		sharpapitest.WithWebhookRetryDelay(time.Millisecond), sharpapitest.WithDuplicates(2))
	defer emu.Close()
	c, err := NewClient("k", WithBaseURL(emu.URL), WithLogger(logger), WithWebhookHandler(h), WithWebhook(recv.URL))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		job, err := c.Translate(context.Background(), TranslateParams{Content: "hi", Language: "Italian"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := job.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	emu.Close() // every delivery answered
	mu.Lock()
	defer mu.Unlock()
	if s := buf.String(); s != "" {
		t.Errorf("per-job traffic logged at Info or above:\n%s", s)
	}
}
