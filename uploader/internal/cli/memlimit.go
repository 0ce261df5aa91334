package cli

import (
	"sync"

	"github.com/hashicorp/go-hclog"
)

// memoryOverhead is the Go memory (heap, stacks, runtime) an upload run needs beyond its file
// buffers at the default concurrency: HTTP connections and their goroutines, the SDK's request
// state and the garbage the collector has not yet reclaimed. Measured on the bench's small
// images (uploader/bench/README.md, "Where peak RSS stands"); with it the default run stays
// within 64 MB of RSS.
const memoryOverhead int64 = 32 << 20

// memoryLimitStep is the headroom above the buffers held: the engine reports their high-water
// mark in steps of 4 MiB (migrate.Deps.BuffersHeld), so the limit stays a step ahead.
const memoryLimitStep int64 = 4 << 20

// softMemoryLimit is Go's soft memory limit for a run: the fixed overhead plus the file buffers
// it holds. The buffers are bounded by the memory budget, so the limit follows the run's real
// need instead of the budget's worst case: a run of small images holds a few MiB of buffers and
// the collector returns its garbage early, while a run of files near the multipart threshold
// raises the limit with its buffers and never makes the collector chase memory it cannot free.
// It is off (0) when the user set GOMEMLIMIT or GOGC: their setting wins.
type softMemoryLimit struct {
	budget int64
	set    func(limit int64) int64 // runtime/debug.SetMemoryLimit
	log    hclog.Logger

	mu   sync.Mutex
	held int64 // the highest high-water mark reported
}

// newSoftMemoryLimit returns the limit for a run with this memory budget, or nil when getenv
// says the user set GOMEMLIMIT or GOGC (the runtime applied theirs).
func newSoftMemoryLimit(getenv func(string) string, budget int64, set func(int64) int64, log hclog.Logger) *softMemoryLimit {
	if getenv("GOMEMLIMIT") != "" || getenv("GOGC") != "" {
		return nil
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &softMemoryLimit{budget: budget, set: set, log: log}
}

// limitFor is the soft limit while held bytes of file buffers are held.
func limitFor(held, budget int64) int64 {
	return memoryOverhead + min(held+memoryLimitStep, budget)
}

// start sets the limit for a run that holds no buffer yet and returns the function that puts
// back the limit found (the tests run several commands in one process).
func (m *softMemoryLimit) start() (restore func()) {
	if m == nil {
		return func() {}
	}
	prev := m.set(limitFor(0, m.budget))
	return func() { m.set(prev) }
}

// buffersHeld is migrate.Deps.BuffersHeld: it raises the limit with the buffers' high-water mark.
func (m *softMemoryLimit) buffersHeld(highWater int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if highWater <= m.held {
		return
	}
	limit := limitFor(highWater, m.budget)
	if limit == limitFor(m.held, m.budget) {
		m.held = highWater
		return
	}
	m.held = highWater
	m.set(limit)
	m.log.Debug("soft memory limit raised", "limit", limit, "buffers_held", highWater)
}

// hook is the value for migrate.Deps.BuffersHeld: nil when the limit is off.
func (m *softMemoryLimit) hook() func(int64) {
	if m == nil {
		return nil
	}
	return m.buffersHeld
}
