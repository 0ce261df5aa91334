package migrate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
)

// faultBed is MinIO (which verifies checksums and Content-MD5) behind a fault-injecting proxy, with a bucket.
type faultBed struct {
	minio  *testbed.MinIO
	admin  *s3.Client // straight to MinIO, for reading back
	proxy  *testbed.FaultProxy
	bucket string
}

func newFaultBed(t *testing.T) *faultBed {
	t.Helper()
	const bucket = "media"
	m := testbed.StartMinIO(t)
	admin := m.Options().S3(m.Config(t))
	if _, err := admin.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return &faultBed{minio: m, admin: admin, proxy: testbed.StartFaultProxy(t, m.Endpoint, 0), bucket: bucket}
}

// client is the uploader's client, built as the cli builds it, talking to the proxy.
func (b *faultBed) client(t *testing.T, c ClientConfig) *s3.Client {
	t.Helper()
	c.Region, c.AccessKeyID, c.SecretAccessKey, c.Endpoint = b.minio.Region, b.minio.RootUser, b.minio.RootPassword, b.proxy.URL
	up, err := NewS3Client(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return up
}

// sizedFiles returns n files of 1 to 16 KiB under a few directories.
func sizedFiles(t *testing.T, n int) map[string][]byte {
	t.Helper()
	files := make(map[string][]byte, n)
	for i := range n {
		files[fmt.Sprintf("d%02d/f%04d.jpg", i%17, i)] = randomBytes(t, 1024+(i*977)%(15<<10))
	}
	return files
}

// openLedger opens a ledger for src in a fresh directory.
func openLedger(t *testing.T, src string) *catalog.Ledger {
	t.Helper()
	l, err := catalog.OpenLedger(context.Background(), catalog.LedgerConfig{Path: filepath.Join(t.TempDir(), "ledger.db"), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// pendingCount is how many files the catalog still lists: 0 once every file is recorded.
func pendingCount(t *testing.T, c Catalog) int {
	t.Helper()
	n := 0
	if err := c.Pending(context.Background(), 500, func(r []catalog.Record) error { n += len(r); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkObjectsIdentical reads every file's object back with the admin client, in parallel.
func checkObjectsIdentical(t *testing.T, admin *s3.Client, bucket, prefix string, files map[string][]byte) {
	t.Helper()
	var g errgroup.Group
	g.SetLimit(16)
	var mu sync.Mutex
	var bad []string
	for name, want := range files {
		g.Go(func() error {
			out, err := admin.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + name)}, quietGet)
			if err != nil {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("%s: %v", name, err))
				mu.Unlock()
				return nil
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(got, want) {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("%s: %d bytes read (%v), file has %d", name, len(got), err, len(want)))
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	for i, b := range bad {
		if i == 10 {
			t.Errorf("... and %d more", len(bad)-10)
			break
		}
		t.Errorf("object not identical to the file: %s", b)
	}
}

// quietGet keeps the SDK from logging, for every object read back, that MinIO sent no checksum
// to validate: the test compares the bytes itself.
func quietGet(o *s3.Options) {
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
}

// brief is a report's counters and its first errors, for failure messages.
func brief(r Report) string {
	s := fmt.Sprintf("uploaded %d, flagged %d, failed %d, missing %d, invalid %d, abandoned %d", r.Uploaded, r.Flagged, r.Failed, r.Missing, r.Invalid, r.Abandoned)
	for i, e := range r.Errors {
		if i == 3 {
			s += fmt.Sprintf("; and %d more", len(r.Errors)-3)
			break
		}
		s += fmt.Sprintf("; %s %s: %s", e.Op, e.Path, e.Message)
	}
	return s
}

// runBounded runs the engine and fails the test if it does not return within limit: a hung
// worker is one of the failures these tests look for.
func runBounded(t *testing.T, limit time.Duration, cfg Config, deps Deps) (Report, time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		rep Report
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		rep, err := Run(ctx, cfg, deps)
		done <- result{rep, err}
	}()
	select {
	case r := <-done:
		return r.rep, time.Since(start), r.err
	case <-time.After(limit):
		cancel()
		r := <-done
		t.Fatalf("the run did not finish within %s (stopped it: %s; %v)", limit, brief(r.rep), r.err)
		return Report{}, 0, nil
	}
}

// TestReliabilityTransientFaults proves that transient faults between the uploader and S3 cost
// time, never files: with 10% SlowDown answers, connections dropped before, during and after
// the engine handled the request, stalled connections and random delays on every upload
// request (single PUTs, multipart create, parts and complete), the run ends with 0 failed
// files, every file recorded and every object byte-identical.
func TestReliabilityTransientFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	t.Parallel()
	b := newFaultBed(t)
	files := sizedFiles(t, 500)
	files["big/video.mp4"] = randomBytes(t, 11<<20) // three parts of 5 MiB
	files["empty.gif"] = nil
	src := tree(t, files)
	ledger := openLedger(t, src)
	b.proxy.SetFaults(testbed.Faults{
		SlowDown:          0.10,
		DropBeforeForward: 0.03,
		DropMidRequest:    0.03,
		DropMidResponse:   0.03,
		Stall:             0.02,
		Delay:             2 * time.Millisecond,
	})
	up := b.client(t, ClientConfig{Concurrency: 16, StallTimeout: time.Second})
	cfg := Config{Bucket: b.bucket, Source: src, Concurrency: 16, MultipartThreshold: 6 << 20, PartSize: 5 << 20}
	rep, took, err := runBounded(t, 60*time.Second, cfg, Deps{S3: up, Catalog: ledger})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("%d files in %s", len(files), took.Round(time.Millisecond))
	if rep.Failed != 0 || rep.Uploaded != int64(len(files)) || rep.Flagged != int64(len(files)) {
		t.Fatalf("report: %s; want all %d files uploaded and flagged, none failed", brief(rep), len(files))
	}
	if n := pendingCount(t, ledger); n != 0 {
		t.Errorf("%d files still pending in the ledger", n)
	}
	checkObjectsIdentical(t, b.admin, b.bucket, "", files)

	// The faults really happened, of every kind. The proxy realizes the shares exactly per
	// block of 100 upload requests, and the run makes more than 500, so these minimums hold
	// for every seed.
	seen := map[string]int{}
	for _, e := range b.proxy.Exchanges() {
		seen[e.Fault]++
	}
	t.Logf("exchanges by fault: %v", seen)
	for fault, least := range map[string]int{
		testbed.FaultSlowDown: 20, testbed.FaultDropBeforeForward: 5, testbed.FaultDropMidRequest: 5,
		testbed.FaultDropMidResponse: 5, testbed.FaultStall: 1,
	} {
		if seen[fault] < least {
			t.Errorf("only %d %s faults were injected, want at least %d: the test proves less than it claims", seen[fault], fault, least)
		}
	}
}

// TestReliabilityThrottleStorm proves that the retryer's exponential backoff with jitter is the
// client-side rate adaptation a SlowDown storm needs: every upload request is throttled for
// three seconds, and the workers back off (few requests reach the server during the storm
// instead of thousands) and resume when it ends, with 0 failed files.
func TestReliabilityThrottleStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	t.Parallel()
	b := newFaultBed(t)
	files := sizedFiles(t, 400)
	src := tree(t, files)
	ledger := openLedger(t, src)
	const workers = 16
	b.proxy.SetFaults(testbed.Faults{Delay: 5 * time.Millisecond})
	var (
		mu                   sync.Mutex
		stormStart, stormEnd time.Time
		started              bool
	)
	// The storm starts after the 100th confirmed upload and lasts 3 s.
	b.proxy.OnExchange(func(e testbed.Exchange) {
		if e.Status != 200 || !e.IsObjectPut() {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if started || b.proxy.Count(func(e testbed.Exchange) bool { return e.Status == 200 && e.IsObjectPut() }) < 100 {
			return
		}
		started = true
		stormStart = time.Now()
		b.proxy.SetFaults(testbed.Faults{SlowDown: 1, Delay: 5 * time.Millisecond})
		time.AfterFunc(3*time.Second, func() {
			mu.Lock()
			stormEnd = time.Now()
			mu.Unlock()
			b.proxy.SetFaults(testbed.Faults{Delay: 5 * time.Millisecond})
		})
	})
	up := b.client(t, ClientConfig{Concurrency: workers})
	rep, took, err := runBounded(t, 60*time.Second, Config{Bucket: b.bucket, Source: src, Concurrency: workers}, Deps{S3: up, Catalog: ledger})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Failed != 0 || rep.Uploaded != int64(len(files)) {
		t.Fatalf("report: %s; want all %d files uploaded, none failed", brief(rep), len(files))
	}
	mu.Lock()
	start, end := stormStart, stormEnd
	mu.Unlock()
	if start.IsZero() || end.IsZero() {
		t.Fatal("the storm never happened")
	}
	throttled := b.proxy.Count(func(e testbed.Exchange) bool { return e.Fault == testbed.FaultSlowDown })
	during := b.proxy.Count(func(e testbed.Exchange) bool { return !e.Start.Before(start) && e.Start.Before(end) })
	t.Logf("%d files in %s; %d requests started during the 3 s storm, %d throttled answers in all", len(files), took.Round(time.Millisecond), during, throttled)
	// Without backoff each of the workers would retry every few milliseconds: thousands of
	// requests, and every file's 10 attempts spent within the storm. With throttling backoff
	// (up to 1 s, 2 s, 4 s... with full jitter) a worker makes about four attempts in 3 s.
	if during > 8*workers {
		t.Errorf("%d requests during the storm from %d workers: the client did not back off", during, workers)
	}
	if n := pendingCount(t, ledger); n != 0 {
		t.Errorf("%d files still pending in the ledger", n)
	}
	checkObjectsIdentical(t, b.admin, b.bucket, "", files)
}

// TestReliabilityRateLimit runs against a server that, like S3 on one prefix, accepts a fixed
// number of uploads per second and throttles the rest: the run slows to the server's rate and
// loses no file.
func TestReliabilityRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	t.Parallel()
	b := newFaultBed(t)
	files := sizedFiles(t, 450)
	src := tree(t, files)
	ledger := openLedger(t, src)
	const limit = 150.0
	b.proxy.SetFaults(testbed.Faults{RateLimit: limit})
	up := b.client(t, ClientConfig{Concurrency: 32})
	rep, took, err := runBounded(t, 60*time.Second, Config{Bucket: b.bucket, Source: src, Concurrency: 32}, Deps{S3: up, Catalog: ledger})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	throttled := b.proxy.Count(func(e testbed.Exchange) bool { return e.Fault == testbed.FaultRateLimited })
	rate := float64(len(files)) / took.Seconds()
	t.Logf("%d files in %s (%.0f/s against a limit of %.0f/s), %d throttled answers", len(files), took.Round(time.Millisecond), rate, limit, throttled)
	if rep.Failed != 0 || rep.Uploaded != int64(len(files)) {
		t.Fatalf("report: %s; want all %d files uploaded, none failed", brief(rep), len(files))
	}
	if throttled == 0 {
		t.Error("the server never throttled: the test proves nothing")
	}
	checkObjectsIdentical(t, b.admin, b.bucket, "", files)
}

// TestReliabilityCompleteAnswerLost covers the one multipart request that is not idempotent:
// CompleteMultipartUpload. When its answer is lost, the SDK retries it, and the engine answers
// NoSuchUpload because the first attempt already completed the upload. The file must still end
// up uploaded, verified and flagged.
func TestReliabilityCompleteAnswerLost(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	t.Parallel()
	b := newFaultBed(t)
	files := map[string][]byte{"big.bin": randomBytes(t, 11<<20)}
	src := tree(t, files)
	ledger := openLedger(t, src)
	var once sync.Once
	b.proxy.SetFaults(testbed.Faults{
		DropMidResponse: 1,
		Match: func(r *http.Request) bool {
			hit := false
			if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
				once.Do(func() { hit = true })
			}
			return hit
		},
	})
	up := b.client(t, ClientConfig{Concurrency: 2})
	rep, _, err := runBounded(t, 60*time.Second, Config{Bucket: b.bucket, Source: src, MultipartThreshold: 6 << 20, PartSize: 5 << 20}, Deps{S3: up, Catalog: ledger})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Failed != 0 || rep.Uploaded != 1 {
		t.Fatalf("report: %s; want the file uploaded", brief(rep))
	}
	if b.proxy.Count(func(e testbed.Exchange) bool { return e.Fault == testbed.FaultDropMidResponse }) != 1 {
		t.Fatal("the Complete answer was not dropped")
	}
	checkObjectsIdentical(t, b.admin, b.bucket, "", files)
}

// TestReliabilityChangedDuringComplete holds a multipart upload's CompleteMultipartUpload at the
// proxy until the test has rewritten the file (bigger, with other bytes): MinIO then assembles
// the parts of the old content. The file must be sent again and flagged with what it holds now,
// never with bytes it no longer has.
//
// The test guards the size/mtime re-check after the completion in uploader.multipart: the check
// before the completion passes (the file is changed only once the request is on the wire), so
// without the one after it the first attempt returns success, the record is flagged with the
// old size, and the object holds the old bytes: both assertions below fail.
func TestReliabilityChangedDuringComplete(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	t.Parallel()
	b := newFaultBed(t)
	const name = "video.mp4"
	src := tree(t, map[string][]byte{name: randomBytes(t, 11<<20)})
	now := randomBytes(t, 12<<20+7)
	var held atomic.Int32
	b.proxy.OnRequest(func(r *http.Request) {
		// The hook runs before the request is forwarded: the completion waits for the rewrite.
		if r.Method != http.MethodPost || !r.URL.Query().Has("uploadId") || held.Add(1) > 1 {
			return
		}
		if err := os.WriteFile(filepath.Join(src, name), now, 0o644); err != nil {
			t.Error(err)
		}
	})
	cat := newMemCatalog(name)
	cfg := Config{Bucket: b.bucket, Source: src, MultipartThreshold: 6 << 20, PartSize: 5 << 20}
	runSentAgain(t, cfg, Deps{S3: b.client(t, ClientConfig{}), Catalog: cat})
	if n := held.Load(); n != 2 {
		t.Fatalf("%d completions reached the proxy, want 2: the held one and the one of the upload sent again", n)
	}
	b.checkFlaggedWith(t, cat, name, now)
}

// TestReliabilityReplacedByRenameDuringPut holds a single PUT at the proxy until the test has
// replaced the file the way applications write files safely: a new file of the same size (and,
// here, the same mtime) renamed over the path. The open handle still reads the old file, whose
// size and mtime did not change, so the re-check after the PUT must also see that the path now
// names another file: the record is not flagged with the old bytes, and the next run sends the
// new ones.
func TestReliabilityReplacedByRenameDuringPut(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	t.Parallel()
	b := newFaultBed(t)
	const name = "photo.jpg"
	src := tree(t, map[string][]byte{name: randomBytes(t, 4096)})
	path := filepath.Join(src, name)
	old, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	now := randomBytes(t, 4096)
	var held atomic.Int32
	b.proxy.OnRequest(func(r *http.Request) {
		// The hook runs before the request is forwarded: the PUT waits for the replacement.
		if r.Method != http.MethodPut || held.Add(1) > 1 {
			return
		}
		tmp := filepath.Join(src, ".upload.tmp")
		if err := os.WriteFile(tmp, now, 0o644); err != nil {
			t.Error(err)
		}
		if err := os.Chtimes(tmp, old.ModTime(), old.ModTime()); err != nil {
			t.Error(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Error(err)
		}
	})
	b.runChangedThenResent(t, Config{Bucket: b.bucket, Source: src}, newMemCatalog(name), func() bool { return held.Load() > 0 }, name, now)
}

// runChangedThenResent runs cfg twice on cat: fired tells that the test's change reached the
// file during the first run, which must fail the file as changed rather than flag it; the
// second must upload and flag it, and the bucket must then hold want under name.
func (b *faultBed) runChangedThenResent(t *testing.T, cfg Config, cat Catalog, fired func() bool, name string, want []byte) {
	t.Helper()
	rep, _, err := runBounded(t, 60*time.Second, cfg, Deps{S3: b.client(t, ClientConfig{}), Catalog: cat})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !fired() {
		t.Fatal("no PUT reached the proxy")
	}
	if rep.Flagged != 0 || rep.Failed != 1 {
		t.Fatalf("first run: %s; want the file failed as changed, not flagged", brief(rep))
	}
	rep, _, err = runBounded(t, 60*time.Second, cfg, Deps{S3: b.client(t, ClientConfig{}), Catalog: cat})
	if err != nil || rep.Flagged != 1 {
		t.Fatalf("second run: %s, %v; want the file uploaded and flagged", brief(rep), err)
	}
	checkObjectsIdentical(t, b.admin, b.bucket, "", map[string][]byte{name: want})
}

// runSentAgain runs cfg once with deps: the one file, changed by the test during its upload,
// must have been sent again and uploaded, not failed.
func runSentAgain(t *testing.T, cfg Config, deps Deps) Report {
	t.Helper()
	rep, _, err := runBounded(t, 90*time.Second, cfg, deps)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Uploaded != 1 || rep.Failed != 0 {
		t.Fatalf("report: %s; want the file sent again and uploaded", brief(rep))
	}
	return rep
}

// checkFlaggedWith checks that the one record of cat was flagged with want's size and that the
// bucket holds want under name: the file was sent again with what it holds now.
func (b *faultBed) checkFlaggedWith(t *testing.T, cat *memCatalog, name string, want []byte) {
	t.Helper()
	cat.mu.Lock()
	d := cat.done["1"]
	cat.mu.Unlock()
	if d.Size != int64(len(want)) {
		t.Errorf("flagged with size %d, the file holds %d bytes now", d.Size, len(want))
	}
	checkObjectsIdentical(t, b.admin, b.bucket, "", map[string][]byte{name: want})
}
