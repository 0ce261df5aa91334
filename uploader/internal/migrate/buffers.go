package migrate

import (
	"context"
	"fmt"
	"math/bits"
	"sync"

	"golang.org/x/sync/semaphore"
)

// maxIdleBuffers bounds the bytes of returned buffers kept for reuse (within the budget): files
// of many sizes would otherwise fill the budget with idle buffers of sizes no longer asked for.
const maxIdleBuffers int64 = 16 << 20

// heldStep is how much the high-water mark of the bytes held must grow before onHigh hears of
// it again: at most budget/heldStep calls in a run (64 with the default budget).
const heldStep int64 = 4 << 20

// bufferPool hands out file buffers and charges the memory budget each buffer's real capacity,
// so the buffers held (in use and kept for reuse) never exceed it. A buffer has the smallest
// size class that fits the request, classes being 4 KiB and then steps of an eighth of a power
// of two, so a small file gets a small buffer (at most 12.5% larger) and buffers of a class are
// reused. A sync.Pool was used before: it handed any large enough buffer to any file, so small
// files held buffers sized for the multipart threshold (135 MiB held against a 5 MiB budget).
type bufferPool struct {
	limit int64
	inUse *semaphore.Weighted // charged by buffers handed out; waits when the budget is spent

	mu   sync.Mutex // guards the fields below
	used int64      // bytes of buffers handed out
	idle map[int64][][]byte
	// idleBytes is the capacity of the buffers in idle.
	idleBytes int64
	// peak is the most bytes ever held (used + idleBytes); the tests read it.
	peak int64
	// reported is the last peak passed to onHigh.
	reported int64
	// onHigh, when set, is called (outside the lock, possibly from several goroutines at once)
	// with the new peak each time it grows by heldStep or more.
	onHigh func(peak int64)
}

func newBufferPool(limit int64, onHigh func(peak int64)) *bufferPool {
	return &bufferPool{limit: limit, inUse: semaphore.NewWeighted(limit), idle: map[int64][][]byte{}, onHigh: onHigh}
}

// sizeClass is the capacity of the buffer that holds n bytes: n rounded up to a multiple of an
// eighth of the power of two below it (at least 4 KiB), or n itself when that would not fit
// the budget.
func (p *bufferPool) sizeClass(n int64) int64 {
	if c := classOf(n); c <= p.limit {
		return c
	}
	return n
}

// classOf is n rounded up to its size class, whatever the budget.
func classOf(n int64) int64 {
	const minClass = 4 << 10
	if n <= minClass {
		return minClass
	}
	step := int64(1) << (bits.Len64(uint64(n-1)) - 4)
	return (n + step - 1) / step * step
}

// reuseSteps calls visit with each class an idle buffer may have to serve a buffer of class c: c and
// the classes above it, up to twice c and within the budget, until visit returns false. The steps go
// class by class: a c above the largest class that fits the budget (a buffer of exactly its file's
// size) has no class to step to within it.
func (p *bufferPool) reuseSteps(c int64, visit func(k int64) bool) {
	for k := c; k < 2*c && k <= p.limit; k = classOf(k + 1) {
		if !visit(k) {
			return
		}
	}
}

// get returns a buffer of length n, waiting while the budget cannot hold it.
func (p *bufferPool) get(ctx context.Context, n int64) ([]byte, error) {
	if n > p.limit {
		return nil, fmt.Errorf("a buffer of %d bytes does not fit the memory budget of %d bytes", n, p.limit)
	}
	c := p.sizeClass(n)
	if err := p.inUse.Acquire(ctx, c); err != nil {
		return nil, err
	}
	b, high := p.take(n, c)
	if high > 0 && p.onHigh != nil {
		p.onHigh(high)
	}
	return b, nil
}

// take hands out a buffer of length n and class c, whose charge was acquired, and returns the
// new peak when onHigh should hear of it (else 0).
func (p *bufferPool) take(n, c int64) (b []byte, high int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// An idle buffer of this class, or of one up to twice as large, is reused: files of
	// similar sizes then share buffers instead of making garbage. A larger one is charged its
	// whole capacity.
	var reused []byte
	p.reuseSteps(c, func(k int64) bool {
		free := p.idle[k]
		if len(free) == 0 {
			return true
		}
		if k > c {
			if !p.inUse.TryAcquire(k - c) {
				return false
			}
			p.used += k - c
		}
		reused = free[len(free)-1]
		p.idle[k] = free[:len(free)-1]
		p.idleBytes -= k
		return false
	})
	if reused != nil {
		p.used += c
		return reused[:n], 0
	}
	p.used += c
	// Idle buffers of other classes make room: what is held stays within the budget.
	for class, free := range p.idle {
		for len(free) > 0 && p.used+p.idleBytes > p.limit {
			free = free[:len(free)-1]
			p.idleBytes -= class
		}
		p.idle[class] = free
	}
	p.peak = max(p.peak, p.used+p.idleBytes)
	if p.peak >= p.reported+heldStep {
		p.reported, high = p.peak, p.peak
	}
	return make([]byte, n, c), high
}

// put takes back a buffer of get and frees its share of the budget.
func (p *bufferPool) put(b []byte) {
	c := int64(cap(b))
	p.mu.Lock()
	p.used -= c
	if p.idleBytes+c <= maxIdleBuffers {
		p.idle[c] = append(p.idle[c], b[:0])
		p.idleBytes += c
	}
	p.mu.Unlock()
	p.inUse.Release(c)
}

// highWater is the most bytes of buffers ever held at once.
func (p *bufferPool) highWater() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}
