// Package progress shows how a run is going: a one-line bar redrawn in place on a terminal, or
// a log line every few seconds elsewhere (CI logs, files). It only reads counters; the engine
// never draws anything.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Snapshot is the state of a run at one moment.
type Snapshot struct {
	// Taken counts records taken from the catalog; Total is how many there are in all, when known
	// (0 = unknown: the catalog is streamed).
	Taken, Total int64
	Uploaded     int64
	Skipped      int64 // missing or invalid
	Failed       int64
	Bytes        int64 // bytes confirmed by S3
}

// Done is the number of records finished one way or another.
func (s Snapshot) Done() int64 { return s.Uploaded + s.Skipped + s.Failed }

// rate is a moving rate over the last samples, so the numbers follow the current speed rather
// than the whole run's average.
type rate struct {
	samples []sample
	window  time.Duration
}

type sample struct {
	at           time.Time
	files, bytes int64
}

func (r *rate) add(at time.Time, s Snapshot) (filesPerSec, bytesPerSec float64) {
	r.samples = append(r.samples, sample{at, s.Done(), s.Bytes})
	for len(r.samples) > 2 && at.Sub(r.samples[1].at) >= r.window {
		r.samples = r.samples[1:]
	}
	first := r.samples[0]
	secs := at.Sub(first.at).Seconds()
	if secs <= 0 {
		return 0, 0
	}
	return float64(s.Done()-first.files) / secs, float64(s.Bytes-first.bytes) / secs
}

// Line renders the status line for a terminal of the given width.
func Line(s Snapshot, elapsed time.Duration, filesPerSec, bytesPerSec float64, width int) string {
	var b strings.Builder
	if s.Total > 0 {
		const barWidth = 20
		frac := min(float64(s.Done())/float64(s.Total), 1)
		filled := int(frac * barWidth)
		b.WriteString("[" + strings.Repeat("=", filled) + strings.Repeat(" ", barWidth-filled) + "] ")
		fmt.Fprintf(&b, "%d/%d files", s.Done(), s.Total)
	} else {
		fmt.Fprintf(&b, "%d files", s.Done())
	}
	fmt.Fprintf(&b, " (%d uploaded", s.Uploaded)
	if s.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", s.Skipped)
	}
	if s.Failed > 0 {
		fmt.Fprintf(&b, ", %d failed", s.Failed)
	}
	fmt.Fprintf(&b, ")  %s  %.0f files/s  %s/s  %s", Bytes(s.Bytes), filesPerSec, Bytes(int64(bytesPerSec)), elapsed.Truncate(time.Second))
	if s.Total > 0 && filesPerSec > 0 && s.Done() < s.Total {
		eta := time.Duration(float64(s.Total-s.Done()) / filesPerSec * float64(time.Second))
		fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
	}
	line := b.String()
	if width > 1 && len(line) >= width {
		line = line[:width-1]
	}
	return line
}

// Bytes formats a byte count with binary units.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Terminal draws the bar on a terminal. It is also the io.Writer the logger writes through, so a
// log line clears the bar, is printed, and the bar is drawn again below it.
type Terminal struct {
	mu    sync.Mutex
	out   io.Writer
	width int
	line  string // the bar as last drawn ("" when none)
}

// NewTerminal returns a Terminal writing to out, a terminal of the given width (0 = unknown).
func NewTerminal(out io.Writer, width int) *Terminal {
	return &Terminal{out: out, width: width}
}

// Write prints p above the bar.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.line != "" {
		_, _ = io.WriteString(t.out, "\r\x1b[K")
	}
	n, err := t.out.Write(p)
	if t.line != "" {
		_, _ = io.WriteString(t.out, t.line)
	}
	return n, err
}

func (t *Terminal) draw(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.line = line
	_, _ = io.WriteString(t.out, "\r\x1b[K"+line)
}

// clear removes the bar for good (at the end of the run).
func (t *Terminal) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.line != "" {
		_, _ = io.WriteString(t.out, "\r\x1b[K")
		t.line = ""
	}
}

// Show redraws the bar every interval from read until stop is called; stop removes the bar (the
// run's summary is logged after it).
func (t *Terminal) Show(read func() Snapshot, interval time.Duration, now func() time.Time) (stop func()) {
	start := now()
	r := rate{window: 5 * time.Second}
	r.add(start, Snapshot{}) // the first redraw then shows the rate since the start
	render := func() {
		at := now()
		s := read()
		fps, bps := r.add(at, s)
		t.draw(Line(s, at.Sub(start), fps, bps, t.width))
	}
	return every(interval, render, t.clear)
}

// Log writes a progress log line every interval until stop is called.
func Log(log hclog.Logger, read func() Snapshot, interval time.Duration, now func() time.Time) (stop func()) {
	start := now()
	r := rate{window: interval * 3}
	r.add(start, Snapshot{})
	return every(interval, func() {
		at := now()
		s := read()
		fps, bps := r.add(at, s)
		args := []any{"files", s.Done(), "uploaded", s.Uploaded, "skipped", s.Skipped, "failed", s.Failed,
			"bytes", s.Bytes, "files_per_second", fmt.Sprintf("%.1f", fps), "bytes_per_second", int64(bps),
			"elapsed", at.Sub(start).Truncate(time.Second).String()}
		if s.Total > 0 {
			args = append(args, "total", s.Total)
		}
		log.Info("progress", args...)
	}, func() {})
}

// every calls fn every interval in its own goroutine; stop ends it, then calls final.
func every(interval time.Duration, fn, final func()) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fn()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
			final()
		})
	}
}
