package migrate

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

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
		afterPut bool   // rewrite once MinIO stored the object, before the answer reaches the client
		checksum string // Config.Checksum
	}{
		{name: "before the body is read, small", size: 4096},
		{name: "before the body is read, 3 MiB", size: 3 << 20},
		{name: "after the object was stored", size: 4096, afterPut: true},
		{name: "before the body is read, 3 MiB, md5", size: 3 << 20, checksum: ChecksumMD5},
		{name: "after the object was stored, md5", size: 4096, afterPut: true, checksum: ChecksumMD5},
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
			cfg := Config{Bucket: b.bucket, Source: src, MultipartThreshold: 6 << 20, Checksum: tt.checksum}
			runSentAgain(t, cfg, Deps{S3: b.client(t, ClientConfig{}), Catalog: cat})
			if rewrites.Load() == 0 {
				t.Fatal("the file was never rewritten")
			}
			if n := b.proxy.Count(func(e testbed.Exchange) bool { return e.IsObjectPut() }); n != 2 {
				t.Errorf("%d PUTs reached the proxy, want 2: the one that met the rewrite and the one that sent the file again", n)
			}
			checkObjectsIdentical(t, b.admin, b.bucket, "", map[string][]byte{name: now})
		})
	}
}

// beforePut is the uploader's S3 client with a hook called as PutObject is called, after the
// checksum pass and before the SDK reads a byte of the body.
type beforePut struct {
	S3
	hook func(*s3.PutObjectInput)
}

// beforePart is the uploader's S3 client with a hook called as UploadPart is called, after the
// part's checksum pass and before the SDK reads a byte of its body.
type beforePart struct {
	S3
	hook func(*s3.UploadPartInput)
}

func (c beforePart) UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	c.hook(in)
	return c.S3.UploadPart(ctx, in, optFns...)
}

func (c beforePut) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.hook(in)
	return c.S3.PutObject(ctx, in, optFns...)
}

// TestRunResizedDuringPut truncates or grows a file between the checksum pass of its single PUT
// and the send, before the SDK reads a byte of the body. A body read from the file after it
// shrank ends early, and every retry of the SDK would meet the same end: the engine must not
// retry it for a minute of backoff, but notice the change and send the file again at once. A
// grown file's body is its old size: MinIO stores the old bytes, and the re-check after the PUT
// sends it again. Either way the file ends up flagged with what it holds now, and exactly two
// PUTs reach the proxy.
func TestRunResizedDuringPut(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	tests := []struct {
		name string
		size int
		now  func(old []byte) []byte
	}{
		{name: "truncated, 3 MiB", size: 3 << 20, now: func(old []byte) []byte { return old[:len(old)/2] }},
		{name: "truncated, small", size: 4096, now: func(old []byte) []byte { return old[:1000] }},
		{name: "grown, 3 MiB", size: 3 << 20, now: func(old []byte) []byte { return append(old, make([]byte, 4096)...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newFaultBed(t)
			const name = "photo.jpg"
			old := randomBytes(t, tt.size)
			src := tree(t, map[string][]byte{name: old})
			path := filepath.Join(src, name)
			now := tt.now(append([]byte(nil), old...))
			var resized atomic.Int32
			up := beforePut{S3: b.client(t, ClientConfig{}), hook: func(*s3.PutObjectInput) {
				if resized.Add(1) == 1 {
					if err := os.WriteFile(path, now, 0o644); err != nil {
						t.Error(err)
					}
				}
			}}
			cat := newMemCatalog(name)
			cfg := Config{Bucket: b.bucket, Source: src, MultipartThreshold: 6 << 20}
			runSentAgain(t, cfg, Deps{S3: up, Catalog: cat})
			if n := b.proxy.Count(func(e testbed.Exchange) bool { return e.IsObjectPut() }); n != 2 {
				t.Errorf("%d PUTs reached the proxy, want 2: the one that met the change and the one that sent the file again", n)
			}
			b.checkFlaggedWith(t, cat, name, now)
		})
	}
}

// TestRunTruncatedDuringPart truncates a multipart file inside its second part between the
// part's checksum pass and its send: the part's body ends early, the SDK does not retry it, and
// the file is sent again at once, with what it holds now.
func TestRunTruncatedDuringPart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	b := newFaultBed(t)
	const name = "video.mp4"
	old := randomBytes(t, 11<<20)
	src := tree(t, map[string][]byte{name: old})
	path := filepath.Join(src, name)
	now := old[:7<<20]
	var truncated atomic.Int32
	up := beforePart{S3: b.client(t, ClientConfig{}), hook: func(in *s3.UploadPartInput) {
		if *in.PartNumber == 2 && truncated.Add(1) == 1 {
			if err := os.Truncate(path, int64(len(now))); err != nil {
				t.Error(err)
			}
		}
	}}
	cat := newMemCatalog(name)
	cfg := Config{Bucket: b.bucket, Source: src, MultipartThreshold: 6 << 20, PartSize: 5 << 20, PartConcurrency: 1}
	runSentAgain(t, cfg, Deps{S3: up, Catalog: cat})
	part2 := b.proxy.Count(func(e testbed.Exchange) bool {
		q, _ := url.ParseQuery(e.Query)
		return e.Method == http.MethodPut && q.Get("partNumber") == "2"
	})
	if part2 != 2 {
		t.Errorf("part 2 reached the proxy %d times, want 2: the short one, not retried, and the one of the file sent again", part2)
	}
	checkObjectsIdentical(t, b.admin, b.bucket, "", map[string][]byte{name: now})
}

// TestRunPutRetriedFromFile makes the first two attempts of a single PUT fail (the connection
// dropped after half the body, a SlowDown answer after all of it) and checks that the SDK's
// retries send the file's bytes again from the start with the same checksum: the body is a
// section of the file that the SDK rewinds. The third attempt is stored and verified.
func TestRunPutRetriedFromFile(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	for _, checksum := range []string{ChecksumCRC32C, ChecksumMD5} {
		t.Run(checksum, func(t *testing.T) {
			t.Parallel()
			b := newFaultBed(t)
			const name = "photo.jpg"
			files := map[string][]byte{name: randomBytes(t, 3<<20+17)}
			var puts atomic.Int32
			b.proxy.SetFaults(testbed.Faults{
				DropMidRequest: 0.5,
				SlowDown:       0.5,
				Match: func(r *http.Request) bool {
					return r.Method == http.MethodPut && puts.Add(1) <= 2
				},
			})
			cat := newMemCatalog(name)
			cfg := Config{Bucket: b.bucket, Source: tree(t, files), MultipartThreshold: 6 << 20, Checksum: checksum}
			rep, _, err := runBounded(t, 90*time.Second, cfg, Deps{S3: b.client(t, ClientConfig{}), Catalog: cat})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if rep.Uploaded != 1 || rep.Failed != 0 {
				t.Fatalf("report: %s; want the file uploaded", brief(rep))
			}
			faults := b.proxy.Count(func(e testbed.Exchange) bool { return e.IsObjectPut() && e.Fault != testbed.FaultNone })
			stored := b.proxy.Count(func(e testbed.Exchange) bool { return e.IsObjectPut() && e.Status == http.StatusOK })
			if faults != 2 || stored != 1 {
				t.Errorf("%d attempts failed by the proxy and %d stored, want 2 and 1", faults, stored)
			}
			checkObjectsIdentical(t, b.admin, b.bucket, "", files)
		})
	}
}

// TestRunSymlinkRetargetedDuringPut: the record's path is a symlink, and while the file it led
// to is being sent, the symlink is pointed at another file (a new symlink renamed over it, as
// `ln -sfn` does). The handle and the file it reads did not change, so the re-checks on the
// handle see nothing, but the path now holds other bytes: the record must not be flagged with
// the old target's, and the next run sends the new target.
func TestRunSymlinkRetargetedDuringPut(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	b := newFaultBed(t)
	old, now := randomBytes(t, 4096), randomBytes(t, 4096)
	src := tree(t, map[string][]byte{"store/old.jpg": old, "store/new.jpg": now})
	const name = "photo.jpg"
	link := filepath.Join(src, name)
	if err := os.Symlink("store/old.jpg", link); err != nil {
		t.Fatal(err)
	}
	var retargeted atomic.Int32
	b.proxy.OnRequest(func(r *http.Request) {
		if r.Method != http.MethodPut || retargeted.Add(1) > 1 {
			return
		}
		tmp := filepath.Join(src, ".link.tmp")
		if err := os.Symlink("store/new.jpg", tmp); err != nil {
			t.Error(err)
		}
		if err := os.Rename(tmp, link); err != nil {
			t.Error(err)
		}
	})
	b.runChangedThenResent(t, Config{Bucket: b.bucket, Source: src}, newMemCatalog(name), func() bool { return retargeted.Load() > 0 }, name, now)
}
