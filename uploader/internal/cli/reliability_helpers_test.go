package cli

import (
	"bytes"
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/internal/migrate"
)

// builtBinary is the uploader built once for the tests that run it as a separate process
// (to kill it, signal it, or run two at once); TestMain removes it.
var builtBinary struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBinary.dir != "" {
		os.RemoveAll(builtBinary.dir)
	}
	os.Exit(code)
}

// uploaderBinary builds the uploader on first use. The directory is world-readable so that
// a test can run the binary as an unprivileged user.
func uploaderBinary(t *testing.T) string {
	t.Helper()
	root := testbed.RepoRoot(t)
	builtBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "uploader-bin-")
		if err != nil {
			builtBinary.err = err
			return
		}
		builtBinary.dir = dir
		if err := os.Chmod(dir, 0o755); err != nil {
			builtBinary.err = err
			return
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		path := filepath.Join(dir, "uploader")
		cmd := exec.Command(goBin, "build", "-o", path, "./uploader")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			builtBinary.err = fmt.Errorf("go build ./uploader: %w\n%s", err, out)
			return
		}
		builtBinary.path = path
	})
	if builtBinary.err != nil {
		t.Fatalf("building the uploader: %v", builtBinary.err)
	}
	return builtBinary.path
}

// lockedBuffer is a bytes.Buffer safe for a process writing while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// uploaderProc is one uploader process.
type uploaderProc struct {
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	started        time.Time
	done           chan struct{}
	ended          time.Time
	code           int // the exit code, -1 when killed by a signal
}

// procOption adjusts the command before it starts.
type procOption func(*exec.Cmd)

// withEnv adds environment variables.
func withEnv(kv ...string) procOption {
	return func(c *exec.Cmd) { c.Env = append(c.Env, kv...) }
}

// startUploader starts the uploader binary with args. The process dies with the test binary
// (parent-death signal) and is killed by the test's cleanup if it is still running.
func startUploader(t *testing.T, args []string, opts ...procOption) *uploaderProc {
	t.Helper()
	cmd := exec.Command(uploaderBinary(t), args...)
	// The DSN and AWS settings come from the arguments only.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, dbEnv+"=") && !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_EC2_METADATA_DISABLED=true")
	for _, o := range opts {
		o(cmd)
	}
	p := &uploaderProc{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the uploader: %v", err)
	}
	go func() {
		_ = cmd.Wait()
		p.ended = time.Now()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// signal sends sig to the process (nothing if it has exited).
func (p *uploaderProc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

// wait returns the exit code, failing the test (after killing the process) when it does not
// exit within limit.
func (p *uploaderProc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("the uploader did not exit within %s; stderr:\n%s", limit, tail(p.stderr.String(), 3000))
		return 0
	}
}

func (p *uploaderProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// runUploader runs the binary to its end (at most limit) and returns the exit code and output.
func runUploader(t *testing.T, limit time.Duration, args []string, opts ...procOption) (int, string, string) {
	t.Helper()
	p := startUploader(t, args, opts...)
	code := p.wait(t, limit)
	return code, p.stdout.String(), p.stderr.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// proxiedSite is MinIO with a bucket, a fault proxy in front of it, and the Terraform output
// that points the uploader at the proxy.
type proxiedSite struct {
	minio    *testbed.MinIO
	admin    *s3.Client // straight to MinIO
	proxy    *testbed.FaultProxy
	bucket   string
	tfOutput string // file
}

func newProxiedSite(t *testing.T, m *testbed.MinIO, bucket string) *proxiedSite {
	t.Helper()
	admin := m.Options().S3(m.Config(t))
	if _, err := admin.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	p := testbed.StartFaultProxy(t, m.Endpoint, 0)
	out := writeFile(t, filepath.Join(t.TempDir(), "tf-output.json"), tfOutputJSON(t, map[string]any{
		"bucket": bucket, "region": m.Region, "access_key_id": m.RootUser, "secret_access_key": m.RootPassword,
		"endpoint": p.URL,
	}))
	return &proxiedSite{minio: m, admin: admin, proxy: p, bucket: bucket, tfOutput: out}
}

// putsDone counts the object uploads the engine confirmed through the proxy.
func (s *proxiedSite) putsDone() int {
	return s.proxy.Count(func(e testbed.Exchange) bool { return e.Status == 200 && e.IsObjectPut() })
}

// onPut calls fn with the running count of confirmed object uploads from now on.
func (s *proxiedSite) onPut(fn func(n int)) {
	var mu sync.Mutex
	n := 0
	s.proxy.OnExchange(func(e testbed.Exchange) {
		if e.Status != 200 || !e.IsObjectPut() {
			return
		}
		mu.Lock()
		n++
		c := n
		mu.Unlock()
		fn(c)
	})
}

// mediaTree writes n small files (1 to 8 KiB) under a new source directory.
func mediaTree(t *testing.T, n int) (src string, files map[string][]byte) {
	t.Helper()
	src = filepath.Join(t.TempDir(), "media")
	files = make(map[string][]byte, n)
	content := randomContent(t, 8<<10+n)
	for i := range n {
		name := fmt.Sprintf("u%02d/p%05d.jpg", i%23, i)
		size := 1024 + (i*733)%(7<<10)
		// Distinct contents, cheaply: a window of one random block, shifted per file.
		data := append([]byte(nil), content[i%(len(content)-size):][:size]...)
		copy(data, fmt.Sprintf("%05d", i))
		files[name] = data
	}
	for name, data := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src, files
}

// sortedNames returns the map's keys in order.
func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// photosTable creates the application table photos(id, file, on_s3, etag) in a new SQLite
// database with one pending row per path, in one transaction, and returns its DSN and a
// handle for reading it back.
func photosTable(t *testing.T, paths []string) (string, *sql.DB) {
	t.Helper()
	return photosTableAt(t, filepath.Join(t.TempDir(), "app.db"), paths)
}

// photosTableAt is photosTable with the database file at path.
func photosTableAt(t *testing.T, path string, paths []string) (string, *sql.DB) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE photos (id INTEGER PRIMARY KEY, file TEXT NOT NULL, on_s3 BOOLEAN NOT NULL DEFAULT FALSE, etag TEXT)`); err != nil {
		t.Fatal(err)
	}
	insertRows(t, db, `INSERT INTO photos (file) VALUES (?)`, paths)
	return "sqlite:" + path, db
}

func insertRows(t *testing.T, db *sql.DB, insert string, paths []string) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if _, err := tx.Exec(insert, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// flaggedPaths returns the paths whose row is flagged.
func flaggedPaths(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// storedObject is what a bucket listing says of an object.
type storedObject struct {
	size int64
	etag string
}

// listBucket lists every object under prefix with the admin client.
func listBucket(t *testing.T, admin *s3.Client, bucket, prefix string) map[string]storedObject {
	t.Helper()
	out := map[string]storedObject{}
	pages := s3.NewListObjectsV2Paginator(admin, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("listing the bucket: %v", err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = storedObject{size: aws.ToInt64(o.Size), etag: strings.Trim(aws.ToString(o.ETag), `"`)}
		}
	}
	return out
}

// checkFlaggedStored checks, from one bucket listing, that every flagged file has an object of
// its size whose ETag is its MD5 (MinIO's ETag of a single PUT): no flag without its bytes.
// It returns how many were checked.
func checkFlaggedStored(t *testing.T, admin *s3.Client, bucket, prefix string, flagged []string, files map[string][]byte) int {
	t.Helper()
	objects := listBucket(t, admin, bucket, prefix)
	bad := 0
	for _, p := range flagged {
		data, ok := files[p]
		if !ok {
			t.Errorf("flagged record %q is not one of the test's files", p)
			continue
		}
		sum := md5.Sum(data)
		o, ok := objects[prefix+p]
		switch {
		case !ok:
			t.Errorf("record %q is flagged but its object %q does not exist", p, prefix+p)
		case o.size != int64(len(data)) || o.etag != hex.EncodeToString(sum[:]):
			t.Errorf("record %q is flagged but its object has %d bytes, ETag %s; the file has %d bytes, MD5 %x", p, o.size, o.etag, len(data), sum)
		default:
			continue
		}
		if bad++; bad == 10 {
			t.Fatal("stopping after 10 flags without their object")
		}
	}
	return len(flagged)
}

// checkAllIdentical reads every file's object back (GET, admin credentials) and compares the
// bytes.
func checkAllIdentical(t *testing.T, admin *s3.Client, bucket, prefix string, files map[string][]byte) {
	t.Helper()
	var g errgroup.Group
	g.SetLimit(16)
	var mu sync.Mutex
	var bad []string
	for name, want := range files {
		g.Go(func() error {
			out, err := admin.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + name)},
				func(o *s3.Options) { o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired })
			var got []byte
			if err == nil {
				got, err = io.ReadAll(out.Body)
				out.Body.Close()
			}
			if err != nil || !bytes.Equal(got, want) {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("%s: %d bytes (%v), the file has %d", prefix+name, len(got), err, len(want)))
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	sort.Strings(bad)
	for i, b := range bad {
		if i == 10 {
			t.Errorf("... and %d more", len(bad)-10)
			break
		}
		t.Errorf("object differs from its file: %s", b)
	}
}

// reportBrief is a report's counters, for logs and failure messages.
func reportBrief(r migrate.Report) string {
	s := fmt.Sprintf("uploaded %d, flagged %d, failed %d, missing %d, invalid %d, abandoned %d, interrupted %v",
		r.Uploaded, r.Flagged, r.Failed, r.Missing, r.Invalid, r.Abandoned, r.Interrupted)
	for i, e := range r.Errors {
		if i == 3 {
			s += fmt.Sprintf("; and %d more", len(r.Errors)-3)
			break
		}
		s += fmt.Sprintf("; %s %s: %s", e.Op, e.Path, e.Message)
	}
	return s
}
