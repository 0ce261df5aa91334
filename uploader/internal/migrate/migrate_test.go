package migrate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/go-hclog"

	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
)

// memCatalog is an in-memory catalog for engine tests. (The real ones are tested in the catalog
// package and, through the cli, end to end.)
type memCatalog struct {
	mu       sync.Mutex
	records  []catalog.Record
	done     map[string]catalog.Done
	calls    int   // MarkDone calls
	failFrom int   // MarkDone calls from this one on fail (0 = never)
	maxBatch int   // largest MarkDone batch seen
	pages    []int // page sizes handed out
}

func newMemCatalog(paths ...string) *memCatalog {
	c := &memCatalog{done: map[string]catalog.Done{}}
	for i, p := range paths {
		c.records = append(c.records, catalog.Record{ID: fmt.Sprint(i + 1), Path: p})
	}
	return c
}

func (c *memCatalog) Pending(ctx context.Context, batchSize int, fn func([]catalog.Record) error) error {
	c.mu.Lock()
	var todo []catalog.Record
	for _, r := range c.records {
		if _, ok := c.done[r.ID]; !ok {
			todo = append(todo, r)
		}
	}
	c.mu.Unlock()
	for len(todo) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(batchSize, len(todo))
		c.mu.Lock()
		c.pages = append(c.pages, n)
		c.mu.Unlock()
		if err := fn(slices.Clone(todo[:n])); err != nil {
			return err
		}
		todo = todo[n:]
	}
	return nil
}

func (c *memCatalog) MarkDone(ctx context.Context, done []catalog.Done) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.failFrom > 0 && c.calls >= c.failFrom {
		return 0, errors.New("connection refused")
	}
	c.maxBatch = max(c.maxBatch, len(done))
	for _, d := range done {
		c.done[d.ID] = d
	}
	return 0, nil
}

func (c *memCatalog) doneKeys() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]string{}
	for _, d := range c.done {
		out[d.Path] = d.Key
	}
	return out
}

// tree writes files under a new source directory and returns it.
func tree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// numberedFiles returns n small files named f00.jpg, f01.jpg, ... and their names in order.
func numberedFiles(t *testing.T, n int) (map[string][]byte, []string) {
	t.Helper()
	files := map[string][]byte{}
	var paths []string
	for i := range n {
		name := fmt.Sprintf("f%02d.jpg", i)
		files[name] = randomBytes(t, 100+i)
		paths = append(paths, name)
	}
	return files, paths
}

// getObject reads an object back with admin credentials.
func getObject(t *testing.T, c *s3.Client, bucket, key string) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %q: %v", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data, out
}

func objectExists(t *testing.T, c *s3.Client, bucket, key string) bool {
	t.Helper()
	_, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		return true
	}
	var nf *types.NotFound
	var apiErr smithy.APIError
	if errors.As(err, &nf) || (errors.As(err, &apiErr) && apiErr.ErrorCode() == "NotFound") {
		return false
	}
	t.Fatalf("HeadObject %q: %v", key, err)
	return false
}

// minioBucket starts MinIO with a fresh bucket and returns an uploader client (built by
// NewS3Client, as the cli does) and an admin client for reading back.
func minioBucket(t *testing.T, bucket string) (up, admin *s3.Client) {
	t.Helper()
	m := testbed.StartMinIO(t)
	opts := m.Options()
	admin = opts.S3(m.Config(t))
	if _, err := admin.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	up, err := NewS3Client(context.Background(), ClientConfig{
		Region: m.Region, AccessKeyID: m.RootUser, SecretAccessKey: m.RootPassword, Endpoint: m.Endpoint, Concurrency: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	return up, admin
}

func TestRunMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, admin := minioBucket(t, bucket)
	ctx := context.Background()

	big := randomBytes(t, 13<<20+12345) // three parts of 5 MiB with the settings below
	files := map[string][]byte{
		"a/photo.jpg":       randomBytes(t, 85<<10),
		"a/b/c/deep.png":    randomBytes(t, 1000),
		"empty.gif":         {},
		"notes/readme":      []byte("plain text without an extension"),
		"sp ace/ü+#%.webp":  randomBytes(t, 10),
		"video/big.mp4":     big,
		"exactly-threshold": randomBytes(t, 6<<20),
	}
	src := tree(t, files)
	paths := []string{"a/photo.jpg", "a/b/c/deep.png", "empty.gif", "notes/readme", "sp ace/ü+#%.webp",
		"video/big.mp4", "exactly-threshold", "missing.jpg", "../escape.jpg"}
	cat := newMemCatalog(paths...)
	cfg := Config{
		Bucket: bucket, Source: src, KeyPrefix: "m/", CacheControl: DefaultCacheControl,
		Concurrency: 4, MultipartThreshold: 6 << 20, PartSize: 5 << 20, BatchSize: 2, PageSize: 4,
	}
	var progress Progress
	rep, err := Run(ctx, cfg, Deps{S3: up, Catalog: cat, Progress: &progress})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var wantBytes int64
	for _, b := range files {
		wantBytes += int64(len(b))
	}
	if rep.Uploaded != 7 || rep.Flagged != 7 || rep.Missing != 1 || rep.Invalid != 1 || rep.Failed != 0 || rep.Bytes != wantBytes {
		t.Fatalf("report = %+v", rep)
	}
	if got := progress.Bytes.Load(); got != wantBytes {
		t.Errorf("progress bytes = %d, want %d", got, wantBytes)
	}
	if progress.Taken.Load() != int64(len(paths)) || progress.Uploaded.Load() != 7 || progress.Skipped.Load() != 2 {
		t.Errorf("progress = taken %d uploaded %d skipped %d", progress.Taken.Load(), progress.Uploaded.Load(), progress.Skipped.Load())
	}
	if cat.maxBatch > cfg.BatchSize {
		t.Errorf("a MarkDone batch had %d records, more than --batch-size %d", cat.maxBatch, cfg.BatchSize)
	}
	wantTypes := map[string]string{
		"a/photo.jpg": "image/jpeg", "a/b/c/deep.png": "image/png", "empty.gif": "image/gif",
		"notes/readme": "application/octet-stream", "sp ace/ü+#%.webp": "image/webp",
		"video/big.mp4": "video/mp4", "exactly-threshold": "application/octet-stream",
	}
	done := cat.doneKeys()
	for name, data := range files {
		key := "m/" + name
		if done[name] != key {
			t.Errorf("record %q flagged with key %q, want %q", name, done[name], key)
		}
		got, out := getObject(t, admin, bucket, key)
		if !bytes.Equal(got, data) {
			t.Errorf("object %q: %d bytes differ from the file's %d", key, len(got), len(data))
		}
		if ct := aws.ToString(out.ContentType); ct != wantTypes[name] {
			t.Errorf("object %q Content-Type = %q, want %q", key, ct, wantTypes[name])
		}
		if cc := aws.ToString(out.CacheControl); cc != DefaultCacheControl {
			t.Errorf("object %q Cache-Control = %q", key, cc)
		}
	}
	if _, ok := done["missing.jpg"]; ok {
		t.Error("a missing file was flagged")
	}
	kinds := map[string]string{}
	for _, e := range rep.Errors {
		kinds[e.Path] = e.Kind
	}
	if kinds["missing.jpg"] != KindMissing || kinds["../escape.jpg"] != KindInvalid {
		t.Errorf("report errors = %+v", rep.Errors)
	}

	// A rerun finds nothing pending and uploads nothing.
	rep, err = Run(ctx, cfg, Deps{S3: up, Catalog: cat})
	if err != nil || rep.Uploaded != 0 || rep.Missing != 1 || rep.Invalid != 1 {
		t.Fatalf("rerun: report %+v, error %v", rep, err)
	}
}

func TestRunDryRunAndLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, admin := minioBucket(t, bucket)
	ctx := context.Background()
	files, paths := numberedFiles(t, 10)
	src := tree(t, files)
	cat := newMemCatalog(append(paths, "gone.jpg")...)

	// Files above a 104-byte threshold would go up as multipart uploads of one 8 MiB part:
	// create, part, complete.
	var logs syncBuffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	rep, err := Run(ctx, Config{Bucket: bucket, Source: src, DryRun: true, MultipartThreshold: 104}, Deps{S3: up, Catalog: cat, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || rep.WouldUpload != 10 || rep.Uploaded != 0 || rep.Missing != 1 || cat.calls != 0 {
		t.Fatalf("dry run: report %+v, MarkDone calls %d", rep, cat.calls)
	}
	// numberedFiles are 100 to 109 bytes: f00..f04 in one PUT each, f05..f09 in one part each.
	if rep.WouldPutObject != 5 || rep.WouldMultipart != 5 || rep.WouldUploadPart != 5 || rep.WouldRequests != 5+3*5 || rep.WouldUploadBytes != 1045 {
		t.Fatalf("dry run: would send %d bytes in %d PUTs, %d multipart uploads, %d parts, %d requests; want 1045 bytes, 5, 5, 5, 20",
			rep.WouldUploadBytes, rep.WouldPutObject, rep.WouldMultipart, rep.WouldUploadPart, rep.WouldRequests)
	}
	if want := "dry run: what the run would send: objects=10 bytes=1045 requests=20 put_object=5 multipart_uploads=5 upload_part=5"; !strings.Contains(logs.String(), want) {
		t.Errorf("the log does not say %q:\n%s", want, logs.String())
	}
	if objectExists(t, admin, bucket, "f00.jpg") {
		t.Fatal("dry run uploaded an object")
	}

	rep, err = Run(ctx, Config{Bucket: bucket, Source: src, Limit: 4, PageSize: 3, Concurrency: 2}, Deps{S3: up, Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Uploaded != 4 || !rep.LimitReached || len(cat.doneKeys()) != 4 {
		t.Fatalf("limit 4: report %+v, flagged %d", rep, len(cat.doneKeys()))
	}
	if objectExists(t, admin, bucket, "f05.jpg") {
		t.Fatal("the run went past --limit")
	}
}

func TestRunCatalogFailureIsFatal(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, _ := minioBucket(t, bucket)
	files, paths := numberedFiles(t, 30)
	cat := newMemCatalog(paths...)
	cat.failFrom = 2 // the first batch is written, then the database "goes away"
	rep, err := Run(context.Background(), Config{Bucket: bucket, Source: tree(t, files), BatchSize: 5, PageSize: 10, Concurrency: 2},
		Deps{S3: up, Catalog: cat})
	var ce *CatalogError
	if !errors.As(err, &ce) || ce.Op != "mark-done" {
		t.Fatalf("Run error = %v, want a mark-done CatalogError", err)
	}
	if rep.Flagged != 5 || len(cat.doneKeys()) != 5 {
		t.Errorf("flagged %d (catalog has %d), want the 5 of the first batch", rep.Flagged, len(cat.doneKeys()))
	}
	if rep.Uploaded >= 30 {
		t.Errorf("the run went on after the catalog failed: uploaded %d", rep.Uploaded)
	}
}

func TestRunInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, _ := minioBucket(t, bucket)
	files, paths := numberedFiles(t, 50)
	cat := newMemCatalog(paths...)
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel from inside the second page: the run must stop taking records, finish the page's
	// in-flight uploads and write their flags.
	stopping := &cancelAfterPages{memCatalog: cat, after: 1, cancel: cancel}
	rep, err := Run(ctx, Config{Bucket: bucket, Source: tree(t, files), PageSize: 10, Concurrency: 2}, Deps{S3: up, Catalog: stopping})
	if !errors.Is(err, ErrInterrupted) || !rep.Interrupted {
		t.Fatalf("Run = %+v, %v; want ErrInterrupted", rep, err)
	}
	if rep.Uploaded != 10 || rep.Flagged != 10 || len(cat.doneKeys()) != 10 {
		t.Errorf("uploaded %d flagged %d (catalog %d), want exactly the first page's 10", rep.Uploaded, rep.Flagged, len(cat.doneKeys()))
	}
}

// cancelAfterPages cancels the run's context when it hands out page number after+1.
type cancelAfterPages struct {
	*memCatalog
	after  int
	cancel context.CancelFunc
}

func (c *cancelAfterPages) Pending(ctx context.Context, batchSize int, fn func([]catalog.Record) error) error {
	n := 0
	return c.memCatalog.Pending(ctx, batchSize, func(recs []catalog.Record) error {
		n++
		if n > c.after {
			c.cancel()
		}
		return fn(recs)
	})
}

func TestPreflight(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	m := testbed.StartMinIO(t)
	admin := m.Options().S3(m.Config(t))
	ctx := context.Background()
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("media")}); err != nil {
		t.Fatal(err)
	}
	client := func(key, secret string) *s3.Client {
		c, err := NewS3Client(ctx, ClientConfig{Region: m.Region, AccessKeyID: key, SecretAccessKey: secret, Endpoint: m.Endpoint, MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name, bucket, key, secret string
		want                      string // "" = success
	}{
		{"ok", "media", m.RootUser, m.RootPassword, ""},
		{"wrong bucket", "medai", m.RootUser, m.RootPassword, "not among the buckets"},
		{"unknown key", "media", "AKIAUNKNOWN", m.RootPassword, "access key id is unknown"},
		{"wrong secret", "media", m.RootUser, "wrong-secret-0123456789", "secret access key does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Preflight(ctx, client(tt.key, tt.secret), tt.bucket)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *PreflightError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"`+tt.bucket+`"`) {
				t.Fatalf("Preflight error = %v, want a PreflightError naming %q and saying %q", err, tt.bucket, tt.want)
			}
			if strings.Contains(err.Error(), m.RootPassword) {
				t.Fatal("the error contains the secret")
			}
		})
	}
}

func TestReportJSONShape(t *testing.T) {
	t.Parallel()
	rep := Report{Uploaded: 3, Flagged: 3, Missing: 1, Invalid: 1, Failed: 1, Bytes: 42, DurationSeconds: 1.5,
		Errors: []ReportError{{Path: "a.jpg", Key: "m/a.jpg", Op: "put", Kind: KindFailed, Message: "boom"}}}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"uploaded": 3.0, "flagged": 3.0, "already_done": 0.0, "missing": 1.0, "invalid": 1.0, "failed": 1.0, "too_new": 0.0,
		"bytes": 42.0, "duration_seconds": 1.5,
		"errors": []any{map[string]any{"path": "a.jpg", "key": "m/a.jpg", "op": "put", "kind": "failed", "message": "boom"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("report JSON = %s\nwant the keys %v", data, want)
	}
	// An empty error list is [] rather than null, so consumers can iterate without a check.
	var empty tally
	data, _ = json.Marshal(empty.report())
	if !strings.Contains(string(data), `"errors":[]`) {
		t.Errorf("empty report JSON = %s, want \"errors\":[]", data)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	base := Config{Bucket: "media", Source: "/srv/media"}.WithDefaults()
	if err := base.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	tests := []struct {
		setting string
		mutate  func(*Config)
	}{
		{"bucket", func(c *Config) { c.Bucket = "" }},
		{"source", func(c *Config) { c.Source = "" }},
		{"concurrency", func(c *Config) { c.Concurrency = -1 }},
		{"multipart-threshold", func(c *Config) { c.MultipartThreshold = 6 << 30 }},
		{"part-size", func(c *Config) { c.PartSize = 1 << 20 }},
		{"batch-size", func(c *Config) { c.BatchSize = 0 }},
		{"limit", func(c *Config) { c.Limit = -2 }},
		{"key-prefix", func(c *Config) { c.KeyPrefix = strings.Repeat("p", 1024) }},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			t.Parallel()
			c := base
			tt.mutate(&c)
			var ce *ConfigError
			if err := c.Validate(); !errors.As(err, &ce) || ce.Setting != tt.setting {
				t.Errorf("Validate() = %v, want a ConfigError on %s", err, tt.setting)
			}
		})
	}
}

// recorder records the requests the engine sends (to a real server).
type recorder struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path, query string
	header              http.Header
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone()})
	r.mu.Unlock()
	return r.next.Do(req)
}

// TestRunWireContract checks what goes on the wire: ListBuckets once, then only PUTs (single
// and parts) and the two multipart POSTs; every PUT with the CRC32C of its bytes in
// x-amz-checksum-crc32c and sent as UNSIGNED-PAYLOAD without the SDK's CRC32 trailer; no HEAD,
// no LIST, no ACL header.
func TestRunWireContract(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, _ := minioBucket(t, bucket)
	rec := &recorder{}
	client := s3.New(up.Options(), func(o *s3.Options) {
		rec.next = o.HTTPClient
		o.HTTPClient = rec
	})
	files := map[string][]byte{"a.jpg": randomBytes(t, 1000), "b/c.png": {}, "big.bin": randomBytes(t, 11<<20)}
	src := tree(t, files)
	rep, err := Run(context.Background(), Config{Bucket: bucket, Source: src, CacheControl: "max-age=60", MultipartThreshold: 6 << 20, PartSize: 5 << 20},
		Deps{S3: client, Catalog: newMemCatalog("a.jpg", "b/c.png", "big.bin")})
	if err != nil || rep.Uploaded != 3 {
		t.Fatalf("Run = %+v, %v", rep, err)
	}
	var lists, puts, parts, posts int
	for _, r := range rec.reqs {
		switch {
		case r.method == http.MethodGet && r.path == "/":
			lists++
			continue
		case r.method == http.MethodPut && strings.Contains(r.query, "partNumber="):
			parts++
		case r.method == http.MethodPut:
			puts++
		case r.method == http.MethodPost && (r.query == "uploads=" || strings.HasPrefix(r.query, "uploadId=")):
			posts++
			if got := r.header.Get("X-Amz-Checksum-Algorithm"); r.query == "uploads=" && got != "CRC32C" {
				t.Errorf("CreateMultipartUpload: x-amz-checksum-algorithm = %q, want CRC32C", got)
			}
			continue
		default:
			t.Errorf("unexpected request %s %s?%s", r.method, r.path, r.query)
			continue
		}
		// Every PUT, single or part, carries the CRC32C of its own bytes.
		body := files[strings.TrimPrefix(r.path, "/"+bucket+"/")]
		q, _ := url.ParseQuery(r.query)
		if n, err := strconv.Atoi(q.Get("partNumber")); err == nil {
			const partSize = 5 << 20
			body = body[(n-1)*partSize : min(n*partSize, len(body))]
		}
		if got, want := r.header.Get("X-Amz-Checksum-Crc32c"), crc32cEncode(crc32c(body)); got != want {
			t.Errorf("%s %s?%s: x-amz-checksum-crc32c = %q, want %q", r.method, r.path, r.query, got, want)
		}
		if got := r.header.Get("X-Amz-Sdk-Checksum-Algorithm"); got != "CRC32C" {
			t.Errorf("%s %s?%s: x-amz-sdk-checksum-algorithm = %q, want CRC32C", r.method, r.path, r.query, got)
		}
		if r.header.Get("Content-MD5") != "" {
			t.Errorf("%s %s?%s sends Content-MD5 as well as its CRC32C", r.method, r.path, r.query)
		}
		if got := r.header.Get("X-Amz-Content-Sha256"); got != "UNSIGNED-PAYLOAD" {
			t.Errorf("%s %s: x-amz-content-sha256 = %q, want UNSIGNED-PAYLOAD", r.method, r.path, got)
		}
		for name := range r.header {
			l := strings.ToLower(name)
			ours := l == "x-amz-checksum-crc32c" || l == "x-amz-sdk-checksum-algorithm"
			if !ours && (strings.HasPrefix(l, "x-amz-checksum") || strings.HasPrefix(l, "x-amz-sdk-checksum")) || l == "x-amz-trailer" || strings.HasPrefix(l, "x-amz-grant") || l == "x-amz-acl" {
				t.Errorf("%s %s sends header %s", r.method, r.path, name)
			}
		}
		if strings.Contains(r.header.Get("Content-Encoding"), "aws-chunked") {
			t.Errorf("%s %s uses aws-chunked encoding", r.method, r.path)
		}
	}
	if lists != 1 || puts != 2 || parts != 3 || posts != 2 {
		t.Errorf("requests: %d ListBuckets, %d PUT, %d parts, %d multipart POSTs; want 1, 2, 3, 2", lists, puts, parts, posts)
	}
}

func TestNewS3ClientRetryer(t *testing.T) {
	t.Parallel()
	for _, adaptive := range []bool{false, true} {
		c, err := NewS3Client(context.Background(), ClientConfig{Region: "us-east-1", AccessKeyID: "AKIA", SecretAccessKey: "s", Endpoint: "http://127.0.0.1:1", AdaptiveRetry: adaptive})
		if err != nil {
			t.Fatal(err)
		}
		o := c.Options()
		if got := o.Retryer.MaxAttempts(); got != DefaultMaxAttempts {
			t.Errorf("adaptive=%v: MaxAttempts = %d, want %d", adaptive, got, DefaultMaxAttempts)
		}
		// No retry quota: a drained quota would fail the 11th..Nth retry of a storm untried.
		for range 1000 {
			if _, err := o.Retryer.GetRetryToken(context.Background(), errors.New("throttled")); err != nil {
				t.Fatalf("adaptive=%v: retry token refused after a burst: %v", adaptive, err)
			}
		}
		if o.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired {
			t.Errorf("adaptive=%v: request checksums %v, want only when required (the engine sends its own)", adaptive, o.RequestChecksumCalculation)
		}
	}
}

// tamper sits where the network is, between the engine and MinIO, and changes the requests that
// match on their way: their body before MinIO sees it, or MinIO's answer.
type tamper struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	match  func(*http.Request) bool
	body   func([]byte)
	answer func(*http.Response)
}

func (tp *tamper) Do(req *http.Request) (*http.Response, error) {
	hit := tp.match(req)
	if hit && tp.body != nil && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		tp.body(b)
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := tp.next.Do(req)
	if err == nil && hit && tp.answer != nil {
		tp.answer(resp)
	}
	return resp, err
}

// replaceBody swaps a response's body for the result of edit.
func replaceBody(resp *http.Response, edit func([]byte) []byte) {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b = edit(b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
}

// TestRunChecksumNotConfirmed checks that a file is flagged only when S3 confirmed its CRC32C:
// MinIO refuses a body (or a part) damaged on the way, and an answer whose checksum is not the
// one sent (or has none, as from an endpoint that ignores checksums) fails the file.
func TestRunChecksumNotConfirmed(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	isPut := func(r *http.Request) bool { return r.Method == http.MethodPut && !r.URL.Query().Has("partNumber") }
	isPart2 := func(r *http.Request) bool {
		return r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == "2"
	}
	isComplete := func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Query().Has("uploadId") }
	composite := regexp.MustCompile(`<ChecksumCRC32C>[^<]*</ChecksumCRC32C>`)
	tests := []struct {
		name       string
		size       int // above 6 MiB: three parts of 5 MiB at most
		match      func(*http.Request) bool
		body       func([]byte)
		answer     func(*http.Response)
		wantOp     string
		wantStored bool // whether MinIO stored the object anyway
		wantMsg    string
	}{
		{
			name: "body damaged on the way", size: 4096, match: isPut,
			body:   func(b []byte) { b[len(b)/2] ^= 0x01 },
			wantOp: "put",
			// AWS answers BadDigest; MinIO names it XAmzContentChecksumMismatch.
			wantMsg: "XAmzContentChecksumMismatch",
		},
		{
			name: "answer with another checksum", size: 4096, match: isPut,
			answer:     func(r *http.Response) { r.Header.Set("X-Amz-Checksum-Crc32c", "AAAAAA==") },
			wantOp:     "put",
			wantStored: true,
			wantMsg:    "S3 stored CRC32C AAAAAA==",
		},
		{
			name: "answer without a checksum", size: 4096, match: isPut,
			answer:     func(r *http.Response) { r.Header.Del("X-Amz-Checksum-Crc32c") },
			wantOp:     "put",
			wantStored: true,
			wantMsg:    "the answer carries no CRC32C, so the endpoint did not check the one sent",
		},
		{
			name: "part damaged on the way", size: 11 << 20, match: isPart2,
			body:    func(b []byte) { b[0] ^= 0x80 },
			wantOp:  "upload-part",
			wantMsg: "part 2:",
		},
		{
			name: "part answer with another checksum", size: 11 << 20, match: isPart2,
			answer:  func(r *http.Response) { r.Header.Set("X-Amz-Checksum-Crc32c", "AAAAAA==") },
			wantOp:  "upload-part",
			wantMsg: "part 2: S3 did not confirm the checksum of the bytes sent: S3 stored CRC32C AAAAAA==",
		},
		{
			name: "completion with another composite checksum", size: 11 << 20, match: isComplete,
			answer: func(r *http.Response) {
				replaceBody(r, func(b []byte) []byte {
					return composite.ReplaceAll(b, []byte("<ChecksumCRC32C>AAAAAA==-3</ChecksumCRC32C>"))
				})
			},
			wantOp:     "complete-multipart",
			wantStored: true,
			wantMsg:    "S3 stored CRC32C AAAAAA==-3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const bucket, name = "media", "cat.jpg"
			up, admin := minioBucket(t, bucket)
			client := s3.New(up.Options(), func(o *s3.Options) {
				o.HTTPClient = &tamper{next: o.HTTPClient, match: tt.match, body: tt.body, answer: tt.answer}
			})
			src := tree(t, map[string][]byte{name: randomBytes(t, tt.size)})
			cat := newMemCatalog(name)
			cfg := Config{Bucket: bucket, Source: src, MultipartThreshold: 6 << 20, PartSize: 5 << 20}
			rep, err := Run(context.Background(), cfg, Deps{S3: client, Catalog: cat})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if rep.Uploaded != 0 || rep.Flagged != 0 || rep.Failed != 1 || len(cat.doneKeys()) != 0 {
				t.Fatalf("report %+v, flagged %v; want the file failed and not flagged", rep, cat.doneKeys())
			}
			if e := rep.Errors[0]; e.Op != tt.wantOp || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("error %+v, want op %s and a message with %q", e, tt.wantOp, tt.wantMsg)
			}
			if got := objectExists(t, admin, bucket, name); got != tt.wantStored {
				t.Errorf("object stored = %v, want %v", got, tt.wantStored)
			}
		})
	}
}
