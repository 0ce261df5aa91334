package migrate

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
)

// markDoneTimeout bounds one catalog transaction, so a database that stops answering ends the
// run instead of hanging it.
const markDoneTimeout = 60 * time.Second

// flusher collects the records S3 confirmed and writes their flags in batches: when at records
// are queued, on a timer, at the end of every page, and at the end of the run. Its context is not the
// run's, so a stop signal never loses a flag already earned. A failed write is fatal: onFatal
// stops the run and every later flush returns the same error.
type flusher struct {
	base    context.Context
	cat     Catalog
	batch   int
	at      int // queued flags that start a write (at most batch)
	tally   *tally
	log     hclog.Logger
	onFatal func()

	mu  sync.Mutex // guards buf
	buf []catalog.Done

	flushMu sync.Mutex // serialises writes; guards err
	err     error
}

func newFlusher(base context.Context, cat Catalog, batch int, t *tally, log hclog.Logger, onFatal func()) *flusher {
	return &flusher{base: base, cat: cat, batch: batch, at: batch, tally: t, log: log, onFatal: onFatal}
}

// add queues one earned flag and writes the queue when at flags wait. The worker that fills
// it writes it, which slows the workers down when the database is slower than S3.
func (f *flusher) add(d catalog.Done) {
	f.mu.Lock()
	f.buf = append(f.buf, d)
	full := len(f.buf) >= f.at
	f.mu.Unlock()
	if full {
		_ = f.flush() // a failure is fatal and reported by the run
	}
}

// flush writes every queued flag, in transactions of at most batch records.
func (f *flusher) flush() error {
	f.flushMu.Lock()
	defer f.flushMu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.mu.Lock()
	pending := f.buf
	f.buf = nil
	f.mu.Unlock()
	for len(pending) > 0 {
		n := min(f.batch, len(pending))
		ctx, cancel := context.WithTimeout(f.base, markDoneTimeout)
		changed, err := f.cat.MarkDone(ctx, pending[:n])
		cancel()
		if err != nil {
			f.err = &CatalogError{Op: "mark-done", Err: err}
			f.log.Error("catalog write failed: stopping", "records_not_flagged", len(pending), "error", err)
			f.onFatal()
			return f.err
		}
		if changed > 0 {
			f.log.Warn("records changed while their files were uploaded: not flagged, the next run reads them again", "records", changed)
		}
		f.tally.flagged(n-changed, changed)
		pending = pending[n:]
	}
	return nil
}

// every flushes on a timer until the returned stop function is called, so flags are not held
// in memory long when uploads are slow.
func (f *flusher) every(d time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = f.flush()
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
