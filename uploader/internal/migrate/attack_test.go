package migrate

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
)

// pendingReturned is a memCatalog that says when Pending has returned: the last page was
// handed to the workers and the catalog is exhausted.
type pendingReturned struct {
	*memCatalog
	returned chan struct{}
}

func (c *pendingReturned) Pending(ctx context.Context, batchSize int, fn func([]catalog.Record) error) error {
	defer close(c.returned)
	return c.memCatalog.Pending(ctx, batchSize, fn)
}

// TestRunSignalAfterLastPageHandedOut stops a run after the catalog was exhausted (the last page
// handed out) while one file is still held at the proxy: its upload is abandoned once the stop
// grace is over. Without a page barrier the catalog is exhausted long before the last files
// finish, so a signal in that tail must still end the run as interrupted (exit 1, a rerun
// continues), never as a complete run (exit 0) that left a file unsent.
func TestRunSignalAfterLastPageHandedOut(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	bed := newFaultBed(t)
	holds := holdPuts(bed.proxy, bed.bucket)
	files := map[string][]byte{}
	var paths []string
	for i := range 3 {
		p := fmt.Sprintf("s/%d.jpg", i)
		paths = append(paths, p)
		files[p] = randomBytes(t, 1024)
	}
	cat := &pendingReturned{memCatalog: newMemCatalog(paths...), returned: make(chan struct{})}
	held := holds.hold(t, paths[0])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		rep Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := Run(ctx, Config{
			Bucket: bed.bucket, Source: tree(t, files), PageSize: 10, BatchSize: 1, Concurrency: 4,
			StopGrace: time.Millisecond,
		}, Deps{S3: bed.client(t, ClientConfig{}), Catalog: cat})
		done <- result{rep, err}
	}()
	<-held.arrived
	<-cat.returned
	waitFor(t, "the files not held flagged", func() bool { return len(cat.doneKeys()) == 2 })
	cancel()
	var res result
	select {
	case res = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not end after the stop grace")
	}
	held.let()
	if res.rep.Abandoned != 1 || res.rep.Flagged != 2 {
		t.Fatalf("Run = %s; want 1 abandoned, 2 flagged", brief(res.rep))
	}
	if !errors.Is(res.err, ErrInterrupted) || !res.rep.Interrupted {
		t.Errorf("Run = %s, %v (interrupted %v); want ErrInterrupted: a file was abandoned by the stop", brief(res.rep), res.err, res.rep.Interrupted)
	}
}
