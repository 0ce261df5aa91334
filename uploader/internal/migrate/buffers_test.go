package migrate

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestBufferPoolStaysWithinBudget asks a small budget for buffers of a mix of sizes from many
// goroutines at once: what the pool holds (in use and kept for reuse, by capacity) never
// exceeds the budget, and each buffer is sized for its request (under twice its class), not for
// the largest one seen.
func TestBufferPoolStaysWithinBudget(t *testing.T) {
	t.Parallel()
	const budget = 1 << 20
	p := newBufferPool(budget, nil)
	sizes := []int64{0, 1, 900, 4 << 10, 5000, 85 << 10, 100 << 10, 300 << 10, 512 << 10, 700 << 10, budget}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 200 {
				n := sizes[(w*7+i)%len(sizes)]
				b, err := p.get(context.Background(), n)
				if err != nil {
					t.Error(err)
					return
				}
				if int64(len(b)) != n {
					t.Errorf("get(%d) returned %d bytes", n, len(b))
				}
				// A new buffer is at most an eighth too large (TestBufferPoolSizeClasses); an
				// idle one is reused up to twice the class.
				if c := int64(cap(b)); n > 4<<10 && c >= 2*p.sizeClass(n) {
					t.Errorf("get(%d) returned a buffer of %d bytes, twice its class or more", n, c)
				}
				if n > 0 {
					b[n-1] = 1 // the whole length is usable
				}
				p.put(b)
			}
		})
	}
	wg.Wait()
	if hw := p.highWater(); hw > budget || hw == 0 {
		t.Errorf("high-water mark of buffers held = %d bytes, want between 1 and the budget %d", hw, budget)
	}
	if _, err := p.get(context.Background(), budget+1); err == nil {
		t.Error("a buffer larger than the budget was handed out")
	}
}

// TestBufferPoolSizeClasses: a small file gets a small buffer.
func TestBufferPoolSizeClasses(t *testing.T) {
	p := newBufferPool(256<<20, nil)
	for _, c := range []struct{ n, want int64 }{
		{0, 4 << 10}, {4 << 10, 4 << 10}, {4<<10 + 1, 4<<10 + 512}, {85 << 10, 88 << 10},
		{1 << 20, 1 << 20}, {1<<20 + 1, 1<<20 + 128<<10}, {16 << 20, 16 << 20},
	} {
		t.Run(fmt.Sprint(c.n), func(t *testing.T) {
			if got := p.sizeClass(c.n); got != c.want {
				t.Errorf("sizeClass(%d) = %d, want %d", c.n, got, c.want)
			}
		})
	}
}

// TestBufferPoolReuseSteps: the classes an idle buffer may serve are visited class by class, also for a
// buffer above the largest class within the budget (its file's exact size), which stepped one byte at a
// time before (about a million steps under the pool's lock for a 12 MiB file with a 20 MB budget).
func TestBufferPoolReuseSteps(t *testing.T) {
	for _, c := range []struct {
		name      string
		limit, n  int64
		wantSteps int
	}{
		{"small file", 256 << 20, 85 << 10, 8},
		{"at the threshold", 256 << 20, 16 << 20, 8},
		{"classes up to the budget", 20_000_000, 12 << 20, 6}, // 12..16 MiB, 18 MiB
		{"above the largest class within the budget", 20_000_000, 19_950_000, 1},
		{"class at the budget", 16 << 20, 15 << 20, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newBufferPool(c.limit, nil)
			steps := 0
			p.reuseSteps(p.sizeClass(c.n), func(int64) bool { steps++; return steps < 1000 })
			if steps != c.wantSteps {
				t.Errorf("%d steps, want %d", steps, c.wantSteps)
			}
		})
	}
}

// TestRunMemoryBudgetHeld runs a mix of small files, files just under the multipart threshold
// and multipart files, many at once, with a budget that holds only a few of them: the buffers
// held never exceed the budget, every file arrives intact, and multipart parts are sent from
// the file (a run of multipart files alone holds no buffer).
func TestRunMemoryBudgetHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const (
		bucket    = "media"
		budget    = 5 << 20
		threshold = 2 << 20
	)
	up, admin := minioBucket(t, bucket)
	files := map[string][]byte{}
	var paths []string
	add := func(name string, n int) {
		files[name] = randomBytes(t, n)
		paths = append(paths, name)
	}
	for i := range 40 {
		add(fmt.Sprintf("small/%02d.jpg", i), 1<<10+i*5<<10)
	}
	for i := range 6 {
		add(fmt.Sprintf("mid/%02d.jpg", i), threshold-i*1000)
	}
	var large []string
	for i := range 2 {
		add(fmt.Sprintf("large/%02d.mp4", i), 11<<20+i*777)
		large = append(large, paths[len(paths)-1])
	}
	src := tree(t, files)
	cfg := Config{Bucket: bucket, Source: src, Concurrency: 16, MemoryBudget: budget, MultipartThreshold: threshold, PartSize: 5 << 20}

	pool := newBufferPool(budget, nil)
	rep, err := Run(context.Background(), cfg, Deps{S3: up, Catalog: newMemCatalog(paths...), buffers: pool})
	if err != nil || rep.Uploaded != int64(len(paths)) || rep.Failed != 0 {
		t.Fatalf("Run = %s, %v; want all %d uploaded", brief(rep), err, len(paths))
	}
	if hw := pool.highWater(); hw > budget || hw == 0 {
		t.Errorf("high-water mark of buffers held = %d bytes, want between 1 and the budget %d", hw, budget)
	}
	checkObjectsIdentical(t, admin, bucket, "", files)

	pool = newBufferPool(budget, nil)
	cfg.KeyPrefix = "again/"
	rep, err = Run(context.Background(), cfg, Deps{S3: up, Catalog: newMemCatalog(large...), buffers: pool})
	if err != nil || rep.Uploaded != int64(len(large)) {
		t.Fatalf("multipart run = %s, %v; want %d uploaded", brief(rep), err, len(large))
	}
	if hw := pool.highWater(); hw != 0 {
		t.Errorf("multipart files held %d bytes of buffers, want none: parts are sent from the file", hw)
	}
}

// TestBufferPoolReportsHighWater: the pool tells its owner each time the bytes held grow by
// heldStep, and only then (the command raises Go's soft memory limit from it).
func TestBufferPoolReportsHighWater(t *testing.T) {
	var reports []int64
	p := newBufferPool(64<<20, func(peak int64) { reports = append(reports, peak) })
	var held [][]byte
	for range 10 {
		b, err := p.get(context.Background(), 1<<20) // a class of exactly 1 MiB
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, b)
	}
	for _, b := range held {
		p.put(b)
	}
	// Taken again from the idle buffers: nothing new is held.
	for range 10 {
		b, err := p.get(context.Background(), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		p.put(b)
	}
	if want := []int64{4 << 20, 8 << 20}; fmt.Sprint(reports) != fmt.Sprint(want) {
		t.Errorf("high-water marks reported = %v, want %v", reports, want)
	}
}
