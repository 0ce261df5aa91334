package migrate

import (
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
)

// rewriteKeepingTimes writes now over the file in place (same inode) and puts its mtime back,
// as `touch -r` does. Only the ctime can tell: the test waits until the system's clock has
// moved past the ctime the file had (the file system keeps it in coarse ticks), so the change
// is visible to a stat, as it is for any rewrite that is not in the same tick as the last one.
func rewriteKeepingTimes(t *testing.T, path string, now []byte) {
	before, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	ctime, _ := catalog.FileIdentity(before)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if err := f.Truncate(int64(len(now))); err != nil {
		t.Error(err)
	}
	if _, err := f.WriteAt(now, 0); err != nil {
		t.Error(err)
	}
	waitFor(t, "the file's ctime to change", func() bool {
		if err := os.Chtimes(path, before.ModTime(), before.ModTime()); err != nil {
			t.Error(err)
			return true
		}
		after, err := os.Stat(path)
		if err != nil {
			t.Error(err)
			return true
		}
		c, _ := catalog.FileIdentity(after)
		return !c.Equal(ctime)
	})
}

// TestRunRewrittenInPlaceDuringPut rewrites a file in place with other bytes of the same size and
// puts its mtime back (touch -r), while its single PUT is under way: before the proxy read the
// body (the body then no longer matches the checksum of the first pass, or, for a small body
// already on the wire, S3 stores the old bytes), and after MinIO stored the old bytes (the
// answer waits at the proxy until the rewrite is done). Size, mtime and inode say nothing; the
// ctime does. The file must never be flagged with the bytes it no longer has: it is sent again
// and flagged with what it holds now.
func TestRunRewrittenInPlaceDuringPut(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	tests := []struct {
		name     string
		size     int
		afterPut bool // rewrite once MinIO stored the object, before the answer reaches the client
		wantPuts int  // object PUTs that reach the proxy
	}{
		{name: "before the body is read, small", size: 4096, wantPuts: 2},
		{name: "before the body is read, 3 MiB", size: 3 << 20, wantPuts: 2},
		{name: "after the object was stored", size: 4096, afterPut: true, wantPuts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newFaultBed(t)
			const name = "photo.jpg"
			src := tree(t, map[string][]byte{name: randomBytes(t, tt.size)})
			path := filepath.Join(src, name)
			now := randomBytes(t, tt.size)
			var rewrites atomic.Int32
			if tt.afterPut {
				b.proxy.OnExchange(func(e testbed.Exchange) {
					// The hook runs before the handler returns: the client has no answer yet.
					if e.IsObjectPut() && e.Status == http.StatusOK && rewrites.Add(1) == 1 {
						rewriteKeepingTimes(t, path, now)
					}
				})
			} else {
				b.proxy.OnRequest(func(r *http.Request) {
					// The hook runs before the proxy reads the body.
					if r.Method == http.MethodPut && rewrites.Add(1) == 1 {
						rewriteKeepingTimes(t, path, now)
					}
				})
			}
			cat := newMemCatalog(name)
			cfg := Config{Bucket: b.bucket, Source: src, MultipartThreshold: 6 << 20}
			rep, _, err := runBounded(t, 90*time.Second, cfg, Deps{S3: b.client(t, ClientConfig{}), Catalog: cat})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if rewrites.Load() == 0 {
				t.Fatal("the file was never rewritten")
			}
			if rep.Uploaded != 1 || rep.Failed != 0 {
				t.Fatalf("report: %s; want the file sent again and uploaded", brief(rep))
			}
			if n := b.proxy.Count(func(e testbed.Exchange) bool { return e.IsObjectPut() }); n != tt.wantPuts {
				t.Errorf("%d PUTs reached the proxy, want %d", n, tt.wantPuts)
			}
			checkObjectsIdentical(t, b.admin, b.bucket, "", map[string][]byte{name: now})
		})
	}
}
