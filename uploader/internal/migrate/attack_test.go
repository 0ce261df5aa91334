package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed"
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

// TestRunPartChangedBetweenPasses rewrites bytes of a multipart part in place after its checksum
// was computed (the first pass over the file's section) and before its body is read for the send
// (the proxy holds the UploadPart until the rewrite is done), and puts the mtime back, so the
// size/mtime re-checks see nothing. The checksum sent no longer matches the body: S3 must refuse
// the part, and the upload is never completed with it. The ctime tells the file changed, so the
// file is sent again and flagged with the bytes it holds now.
func TestRunPartChangedBetweenPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	b := newFaultBed(t)
	const name = "video.mp4"
	src := tree(t, map[string][]byte{name: randomBytes(t, 11<<20)})
	path := filepath.Join(src, name)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var rewrites atomic.Int32
	b.proxy.OnRequest(func(r *http.Request) {
		// The hook runs before the proxy reads the body: the body's bytes are still in the file.
		if r.Method != http.MethodPut || r.URL.Query().Get("partNumber") != "1" || rewrites.Add(1) > 1 {
			return
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xAB}, 4096), 8<<20-4096); err != nil {
			t.Error(err)
		}
		if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
			t.Error(err)
		}
	})
	cat := newMemCatalog(name)
	cfg := Config{Bucket: b.bucket, Source: src, MultipartThreshold: 6 << 20, PartSize: 8 << 20}
	runSentAgain(t, cfg, Deps{S3: b.client(t, ClientConfig{}), Catalog: cat})
	if rewrites.Load() == 0 {
		t.Fatal("part 1 never reached the proxy")
	}
	refused := b.proxy.Count(func(e testbed.Exchange) bool {
		q, _ := url.ParseQuery(e.Query)
		return e.Method == http.MethodPut && q.Get("partNumber") == "1" && e.Status == http.StatusBadRequest
	})
	if refused != 1 {
		t.Errorf("%d answers refused part 1, want 1: its bytes changed after their checksum", refused)
	}
	if n := b.proxy.Count(func(e testbed.Exchange) bool {
		q, _ := url.ParseQuery(e.Query)
		return e.Method == http.MethodPost && q.Has("uploadId")
	}); n != 1 {
		t.Errorf("%d completions, want 1: the upload with the refused part must not be completed", n)
	}
	now, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkObjectsIdentical(t, b.admin, b.bucket, "", map[string][]byte{name: now})
}
