package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/observe"
)

// progress shows a job while it is awaited: on a terminal, one status line
// on stderr redrawn in place; elsewhere one plain line when the wait
// begins, so that logs stay readable and scripts can read the job id. It
// is also the client's Observer, which is how it learns each status poll
// and the webhook's arrival without polling on its own.
type progress struct {
	w       io.Writer
	animate bool
	quiet   bool // --json: nothing on stderr but errors

	mu     sync.Mutex
	status sharpapi.JobStatus
	via    string // "webhook" or "polling"

	stop chan struct{}
	done chan struct{}
}

func newProgress(w io.Writer, animate, quiet bool) *progress {
	return &progress{w: w, animate: animate && !quiet, quiet: quiet}
}

// begin starts showing the wait for job h, which awaits by via.
func (p *progress) begin(h handle, via string, resume string) {
	p.mu.Lock()
	p.via = via
	if p.status == "" {
		p.status = sharpapi.JobStatusPending
	}
	p.mu.Unlock()
	if p.quiet {
		return
	}
	if !p.animate {
		fmt.Fprintf(p.w, "sharpapi: job %s%s: waiting (%s); Ctrl-C stops waiting, '%s' resumes\n", h.ID(), typeSuffix(h.Type()), via, resume)
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(p.done)
		frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			p.mu.Lock()
			line := fmt.Sprintf("%c job %s · %s · %s · %s", frames[i%len(frames)], h.ID(), p.status,
				time.Since(start).Round(100*time.Millisecond), p.via)
			p.mu.Unlock()
			// \r and "erase line" redraw in place; the cursor stays visible,
			// so nothing needs restoring when the process is killed.
			fmt.Fprintf(p.w, "\r\x1b[K%s", line)
			select {
			case <-p.stop:
				fmt.Fprint(p.w, "\r\x1b[K")
				return
			case <-tick.C:
			}
		}
	}()
}

// end erases the status line.
func (p *progress) end() {
	if p.stop != nil {
		close(p.stop)
		<-p.done
		p.stop = nil
	}
}

func typeSuffix(t sharpapi.JobType) string {
	if t == "" {
		return ""
	}
	return " (" + string(t) + ")"
}

// Observer makes the progress line its own observer (observe.Provider),
// for sharpapi.WithObserver.
func (p *progress) Observer() observe.Observer { return p }

// StartJob implements observe.Observer.
func (p *progress) StartJob(ctx context.Context, start observe.JobStart) (context.Context, observe.JobObservation) {
	return ctx, progressNotes{p}
}

// progressNotes records what the SDK tells of the job; it never blocks.
type progressNotes struct{ p *progress }

func (n progressNotes) Context(ctx context.Context) context.Context { return ctx }

func (n progressNotes) Note(note observe.JobNote) {
	n.p.mu.Lock()
	defer n.p.mu.Unlock()
	switch note.Kind {
	case observe.JobPolled:
		if note.Status != "" {
			n.p.status = sharpapi.JobStatus(note.Status)
		}
	case observe.JobWebhookReceived:
		n.p.status = sharpapi.JobStatus(note.Status)
	case observe.JobGraceExpired:
		n.p.via = "polling: no webhook yet"
	}
}

func (n progressNotes) End(observe.JobEnd) {}
