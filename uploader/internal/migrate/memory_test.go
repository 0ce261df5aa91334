package migrate

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// TestRunHoldsNoFileInMemory: single PUTs and multipart parts are sent from the file, so what a
// run allocates does not grow with the bytes it sends. Files just under the multipart threshold,
// multipart files and small ones go up many at once, every one arrives intact, and the run
// allocates less than a tenth of the bytes sent (reading whole files into buffers allocated at
// least one file's bytes per file in flight; this run allocates a few MiB of request state).
// The test is not parallel, so no other test allocates while it measures.
func TestRunHoldsNoFileInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const (
		bucket    = "media"
		threshold = 6 << 20
	)
	up, admin := minioBucket(t, bucket)
	files := map[string][]byte{}
	var paths []string
	var total int64
	add := func(name string, n int) {
		files[name] = randomBytes(t, n)
		paths = append(paths, name)
		total += int64(n)
	}
	for i := range 20 {
		add(fmt.Sprintf("small/%02d.jpg", i), 1<<10+i*5<<10)
	}
	for i := range 16 {
		add(fmt.Sprintf("mid/%02d.jpg", i), threshold-i*1000)
	}
	for i := range 2 {
		add(fmt.Sprintf("large/%02d.mp4", i), 11<<20+i*777)
	}
	src := tree(t, files)
	cfg := Config{Bucket: bucket, Source: src, Concurrency: 16, MultipartThreshold: threshold, PartSize: 5 << 20}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep, err := Run(context.Background(), cfg, Deps{S3: up, Catalog: newMemCatalog(paths...)})
	runtime.ReadMemStats(&after)
	if err != nil || rep.Uploaded != int64(len(paths)) || rep.Failed != 0 {
		t.Fatalf("Run = %s, %v; want all %d uploaded", brief(rep), err, len(paths))
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d bytes to send %d", alloc, total)
	if alloc > uint64(total)/10 {
		t.Errorf("the run allocated %d bytes to send %d: files are held in memory, want under a tenth", alloc, total)
	}
	checkObjectsIdentical(t, admin, bucket, "", files)
}
