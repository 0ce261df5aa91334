package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultStallTimeout is how long one HTTP attempt may go without progress (no body byte
// taken for sending, no response yet, no response byte read) before it is abandoned and
// retried. S3 answers a PUT within seconds once the body is sent, so two minutes of silence
// means a dead connection, not a slow one.
const DefaultStallTimeout = 2 * time.Minute

// errStalled is the cause of an attempt cancelled by stallGuard.
var errStalled = errors.New("connection stalled")

// httpDoer is the SDK's HTTP client interface.
type httpDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// stallGuard ends an HTTP attempt that makes no progress for idle. The SDK sets no read or
// write timeout for S3 (large bodies take as long as they take), so without it a connection
// whose peer stopped reading or answering would hang its worker, and the whole scheduled run,
// forever. It measures progress rather than total time, so a slow but moving upload on a thin
// link is never cut. The error it returns is a connection error, which the retryer retries.
//
// Progress on a request body is seen when the transport takes bytes from it, so the last bytes,
// sitting in the kernel's send buffer until the peer takes them, count as silence: the idle
// time must exceed what the link needs to drain a socket buffer (a few MiB), which two minutes
// does down to a few hundred kbit/s.
type stallGuard struct {
	next httpDoer
	idle time.Duration
}

func (g *stallGuard) Do(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	w := newWatchdog(g.idle, func() { cancel(fmt.Errorf("%w: no progress for %s", errStalled, g.idle)) })
	req = req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = &progressBody{ReadCloser: req.Body, w: w}
		if getBody := req.GetBody; getBody != nil {
			req.GetBody = func() (io.ReadCloser, error) {
				b, err := getBody()
				if err != nil {
					return nil, err
				}
				return &progressBody{ReadCloser: b, w: w}, nil
			}
		}
	}
	resp, err := g.next.Do(req)
	if err != nil {
		w.stop()
		cause := context.Cause(ctx)
		cancel(nil)
		if errors.Is(cause, errStalled) {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), cause)
		}
		return nil, err
	}
	w.touch()
	resp.Body = &progressBody{ReadCloser: resp.Body, w: w, done: func() { w.stop(); cancel(nil) }, cause: func() error {
		if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
			return cause
		}
		return nil
	}}
	return resp, nil
}

// watchdog calls fire once when touch was not called for idle.
type watchdog struct {
	idle    time.Duration
	fire    func()
	last    atomic.Int64 // UnixNano of the last progress
	stopped atomic.Bool
	timer   *time.Timer
}

func newWatchdog(idle time.Duration, fire func()) *watchdog {
	w := &watchdog{idle: idle, fire: fire}
	w.touch()
	w.timer = time.AfterFunc(idle, w.check)
	return w
}

func (w *watchdog) touch() { w.last.Store(time.Now().UnixNano()) }

// check runs when the timer expires: it fires if nothing happened since, or sleeps again for
// the rest of the window. Touching never resets the timer, which keeps touch cheap.
func (w *watchdog) check() {
	if w.stopped.Load() {
		return
	}
	quiet := time.Since(time.Unix(0, w.last.Load()))
	if quiet >= w.idle {
		w.fire()
		return
	}
	w.timer.Reset(w.idle - quiet)
}

func (w *watchdog) stop() {
	w.stopped.Store(true)
	w.timer.Stop()
}

// progressBody reports every read to the watchdog; done, if set, runs once on Close; cause,
// if set, names the stall when a read fails because of it.
type progressBody struct {
	io.ReadCloser
	w     *watchdog
	done  func()
	cause func() error
	once  sync.Once
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.touch()
	}
	if err != nil && !errors.Is(err, io.EOF) && b.cause != nil {
		if stalled := b.cause(); stalled != nil {
			err = stalled
		}
	}
	return n, err
}

func (b *progressBody) Close() error {
	err := b.ReadCloser.Close()
	if b.done != nil {
		b.once.Do(b.done)
	}
	return err
}
