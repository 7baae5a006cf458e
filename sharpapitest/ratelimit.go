package sharpapitest

import (
	"net/http"
	"strconv"
	"time"
)

// WithRateLimitWindow sets the length of the rate-limit window (a minute,
// as on SharpAPI), so that a test or a benchmark can exhaust and renew a
// plan's window in seconds: WithRateLimit(20) with WithRateLimitWindow(2 *
// time.Second) allows 20 requests per 2 s. With a window other than a whole
// minute, X-RateLimit-Reset and the Retry-After of a 429 carry milliseconds
// ("1764412800.250", "0.75"); SharpAPI sends whole seconds. A window
// that is not positive is an error.
func WithRateLimitWindow(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalid("WithRateLimitWindow", "window %v is not positive", d)
		}
		c.rateWindow = d
		return nil
	}
}

// rateWindow is the length of the rate-limit window.
func (e *Emulator) rateWindow() time.Duration {
	if e.cfg.rateWindow > 0 {
		return e.cfg.rateWindow
	}
	return time.Minute
}

// setWindowHeaders writes the X-RateLimit-* headers of an answer, and the
// Retry-After of a 429, to the precision the window needs.
func (e *Emulator) setWindowHeaders(h http.Header, remaining int, reset, now time.Time, limited bool) {
	if e.rateWindow()%time.Minute == 0 {
		setRateLimitHeaders(h, e.cfg.rateLimit, remaining, reset)
		if limited {
			h.Set("Retry-After", strconv.FormatInt(max(ceilSeconds(reset.Sub(now)), 1), 10))
		}
		return
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(e.cfg.rateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	// Rounded up, as whole seconds are: a client that waits until then
	// finds the new window open.
	ms := reset.UnixMilli()
	if reset.After(time.UnixMilli(ms)) {
		ms++
	}
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64))
	if limited {
		wait := max(time.UnixMilli(ms).Sub(now), time.Millisecond)
		h.Set("Retry-After", strconv.FormatFloat(wait.Seconds(), 'f', 3, 64))
	}
}
