package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/internal/migrate"
)

// unprivileged returns the option that runs the uploader as "nobody" when the tests run as
// root (root reads a file whatever its mode, so "unreadable" needs another user), after giving
// that user the directories the run writes to. It is a no-op for other users.
func unprivileged(t *testing.T, writable ...string) procOption {
	t.Helper()
	if os.Geteuid() != 0 {
		return func(*exec.Cmd) {}
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("running as root and no user nobody to run the uploader as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, dir := range writable {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		})
		if err != nil {
			t.Fatal(err)
		}
		// Every ancestor must let nobody through (t.TempDir's parent is private to root).
		for d := filepath.Dir(dir); d != "/"; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
				if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return func(c *exec.Cmd) {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
		// The SDK reads ~/.aws; root's home is not nobody's to read.
		c.Env = append(c.Env, "HOME="+writable[0])
	}
}

// asJSON is s as it reads back from JSON, which turns each invalid UTF-8 byte into U+FFFD.
func asJSON(t *testing.T, s string) string {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// errorsByPath indexes a report's per-file errors by the record's path.
func errorsByPath(rep migrate.Report) map[string][]migrate.ReportError {
	out := map[string][]migrate.ReportError{}
	for _, e := range rep.Errors {
		out[e.Path] = append(out[e.Path], e)
	}
	return out
}

// outcome is the report entry one bad input must get.
type outcome struct {
	kind, op, message string
}

func checkOutcomes(t *testing.T, rep migrate.Report, want map[string]outcome) {
	t.Helper()
	got := errorsByPath(rep)
	for path, w := range want {
		short := path
		if len(short) > 40 {
			short = short[:20] + "..." + short[len(short)-20:]
		}
		es := got[asJSON(t, path)]
		if len(es) != 1 {
			t.Errorf("%q: %d report entries %+v, want one (%s)", short, len(es), es, w.kind)
			continue
		}
		e := es[0]
		if e.Kind != w.kind || (w.op != "" && e.Op != w.op) || !strings.Contains(e.Message, w.message) {
			t.Errorf("%q: reported %s/%s %q, want %s/%s containing %q", short, e.Kind, e.Op, e.Message, w.kind, w.op, w.message)
		}
	}
	if len(rep.Errors) != len(want) {
		t.Errorf("%d report entries, want %d: %+v", len(rep.Errors), len(want), rep.Errors)
	}
}

// TestReliabilityBadInput proves that bad input never stops the run and that each bad file gets
// its own clear outcome in the report: an unreadable file (and, in ledger mode, an unreadable
// directory), a file that vanished between the catalog read and its upload, a file that grew
// while its PUT was on the wire (sent again, and the object holds the final bytes) and one that
// kept growing (failed), a non-UTF-8 name, a key over 1,024 bytes next to one of exactly 1,024,
// a 0-byte file, a file large enough for multipart (threshold lowered by flag), a named pipe, a
// directory, a dangling symlink and a path escaping the source. The good files are uploaded and
// flagged, the bad ones never flagged, and the run exits 1 because some files failed.
func TestReliabilityBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO; runs the uploader binary")
	}
	t.Parallel()
	uploaderBinary(t)
	m := testbed.StartMinIO(t)

	// Names a single path segment can hold (255 bytes), adding up to keys of 1,024 and 1,100.
	seg := strings.Repeat("s", 200)
	exact := seg + "/" + seg + "/" + seg + "/" + seg + "/" + strings.Repeat("e", 1024-4*201-4) + ".jpg"
	tooLong := seg + "/" + seg + "/" + seg + "/" + seg + "/" + seg + "/" + strings.Repeat("l", 95) + ".jpg"
	if len(exact) != 1024 || len(tooLong) <= 1024 {
		t.Fatalf("key lengths %d and %d", len(exact), len(tooLong))
	}
	const nonUTF8 = "bad-\xff\xfe.jpg"

	// layout writes the tree both modes share and returns the work directory, the source and
	// the files that must upload.
	layout := func(t *testing.T) (work, src string, good map[string][]byte) {
		work, err := os.MkdirTemp("", "badinput-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(work) })
		src = filepath.Join(work, "media")
		good = map[string][]byte{
			"ok/normal.jpg": randomContent(t, 3000),
			"empty.gif":     {},
			"big.bin":       randomContent(t, 6<<20), // two parts of 5 MiB
			exact:           []byte("the longest key S3 accepts"),
		}
		for name, data := range good {
			writeFile(t, filepath.Join(src, filepath.FromSlash(name)), string(data))
		}
		writeFile(t, filepath.Join(src, "secret", "locked.jpg"), "mode 000")
		writeFile(t, filepath.Join(src, "vanished.jpg"), "deleted before its turn")
		writeFile(t, filepath.Join(src, "growing.jpg"), "grows once while it is sent")
		writeFile(t, filepath.Join(src, "always-growing.jpg"), "grows every time it is sent")
		writeFile(t, filepath.Join(src, filepath.FromSlash(tooLong)), "its key is too long")
		writeFile(t, filepath.Join(src, nonUTF8), "a Latin-1 name")
		writeFile(t, filepath.Join(work, "outside.jpg"), "outside the source")
		if err := os.Mkdir(filepath.Join(src, "adir"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(src, "pipe.jpg"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(src, "nowhere.jpg"), filepath.Join(src, "dangling.jpg")); err != nil {
			t.Fatal(err)
		}
		return work, src, good
	}

	// onRequest installs the proxy hook both modes use. On the first PUT it deletes
	// "vanished.jpg" (listed by then, and not yet reached by the single worker). When the PUT
	// of "growing.jpg" (its first only) or of "always-growing.jpg" (every one) reaches the
	// proxy, after the uploader read the file and before S3 confirmed it, it appends to the
	// file. It returns the final contents of the grown files.
	onRequest := func(t *testing.T, site *proxiedSite, src string) *sync.Map {
		var grown sync.Map // name -> final content
		var vanish sync.Once
		site.proxy.OnRequest(func(r *http.Request) {
			if r.Method != http.MethodPut {
				return
			}
			vanish.Do(func() { _ = os.Remove(filepath.Join(src, "vanished.jpg")) })
			for _, name := range []string{"growing.jpg", "always-growing.jpg"} {
				if r.URL.Path != "/"+site.bucket+"/"+name {
					continue
				}
				if _, done := grown.Load(name); done && name == "growing.jpg" {
					continue
				}
				f, err := os.OpenFile(filepath.Join(src, name), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = f.WriteString(" and more")
				f.Close()
				data, _ := os.ReadFile(filepath.Join(src, name))
				grown.Store(name, data)
			}
		})
		return &grown
	}

	// common are both modes' arguments; the Terraform output is copied where nobody can read it.
	common := func(t *testing.T, site *proxiedSite, work, src, report string) []string {
		data, err := os.ReadFile(site.tfOutput)
		if err != nil {
			t.Fatal(err)
		}
		out := writeFile(t, filepath.Join(work, "tf-output.json"), string(data))
		return []string{"migrate", "--tf-output", out, "--source", src, "--progress", "never",
			"--concurrency", "1", "--multipart-threshold", "5MiB", "--part-size", "5MiB", "--report", report}
	}

	t.Run("sqlite table", func(t *testing.T) {
		t.Parallel()
		work, src, good := layout(t)
		site := newProxiedSite(t, m, "badinput-table")
		// Rows in this order, one worker: "vanished.jpg" is deleted when the first PUT (of
		// ok/normal.jpg) arrives, after the page was read and before its turn.
		paths := []string{"ok/normal.jpg", "empty.gif", "big.bin", exact, "secret/locked.jpg", "vanished.jpg", "gone.jpg",
			"growing.jpg", "always-growing.jpg", tooLong, nonUTF8, "pipe.jpg", "adir", "dangling.jpg", "../outside.jpg"}
		dbDir := filepath.Join(work, "db")
		if err := os.Mkdir(dbDir, 0o755); err != nil {
			t.Fatal(err)
		}
		dsn, db := photosTableAt(t, filepath.Join(dbDir, "app.db"), paths)
		grown := onRequest(t, site, src)
		report := filepath.Join(work, "report.json")
		args := append(common(t, site, work, src, report), "--db", dsn, "--table", "photos", "--path-column", "file", "--flag-column", "on_s3")
		as := unprivileged(t, work)
		if err := os.Chmod(filepath.Join(src, "secret", "locked.jpg"), 0); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runUploader(t, 60*time.Second, args, as)
		rep := readReport(t, report)
		t.Logf("exit %d; %s", code, reportBrief(rep))
		if code != ExitFailed {
			t.Errorf("exit %d, want %d (some files failed); stderr:\n%s", code, ExitFailed, tail(stderr, 3000))
		}
		checkOutcomes(t, rep, map[string]outcome{
			"secret/locked.jpg":  {migrate.KindFailed, "open", "permission denied"},
			"vanished.jpg":       {migrate.KindMissing, "stat", "does not exist"},
			"gone.jpg":           {migrate.KindMissing, "stat", "does not exist"},
			"always-growing.jpg": {migrate.KindFailed, "put", "file changed while uploading"},
			tooLong:              {migrate.KindInvalid, "resolve", fmt.Sprintf("key is %d bytes, S3 allows 1024", len(tooLong))},
			nonUTF8:              {migrate.KindInvalid, "resolve", "not valid UTF-8"},
			"pipe.jpg":           {migrate.KindInvalid, "stat", "a named pipe"},
			"adir":               {migrate.KindInvalid, "stat", "a directory"},
			"dangling.jpg":       {migrate.KindMissing, "stat", "does not exist"},
			"../outside.jpg":     {migrate.KindInvalid, "resolve", "escapes the source"},
		})
		growingFinal, _ := grown.Load("growing.jpg")
		good["growing.jpg"], _ = growingFinal.([]byte)
		if rep.Uploaded != int64(len(good)) || rep.Failed != 2 || rep.Missing != 3 || rep.Invalid != 5 {
			t.Errorf("report: %s; want %d uploaded, 2 failed, 3 missing, 5 invalid", reportBrief(rep), len(good))
		}
		flagged := flaggedPaths(t, db, "SELECT file FROM photos WHERE on_s3")
		if len(flagged) != len(good) {
			t.Errorf("flagged %q, want exactly the %d good files", flagged, len(good))
		}
		for _, p := range flagged {
			if _, ok := good[p]; !ok {
				t.Errorf("bad input %q was flagged", p)
			}
		}
		checkAllIdentical(t, site.admin, site.bucket, "", good)
		checkMultipart(t, site, "big.bin")
	})

	t.Run("ledger", func(t *testing.T) {
		t.Parallel()
		work, src, good := layout(t)
		site := newProxiedSite(t, m, "badinput-ledger")
		grown := onRequest(t, site, src)
		// The walk lists every file before the first upload, in lexical order, so
		// "vanished.jpg" is listed and then not found. Like a table's rows, the entries that
		// are not regular files are records too, with the same outcomes: the FIFO is invalid,
		// the dangling symlink missing (the empty directory is walked into, and holds none).
		writeFile(t, filepath.Join(src, "closed", "inside.jpg"), "in a directory nobody may read")
		report := filepath.Join(work, "report.json")
		args := append(common(t, site, work, src, report), "--ledger", filepath.Join(work, "ledger.db"))
		as := unprivileged(t, work)
		for _, p := range []string{filepath.Join(src, "secret", "locked.jpg"), filepath.Join(src, "closed")} {
			if err := os.Chmod(p, 0); err != nil {
				t.Fatal(err)
			}
		}
		code, _, stderr := runUploader(t, 60*time.Second, args, as)
		rep := readReport(t, report)
		t.Logf("exit %d; %s", code, reportBrief(rep))
		if code != ExitFailed {
			t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitFailed, tail(stderr, 3000))
		}
		checkOutcomes(t, rep, map[string]outcome{
			"secret/locked.jpg":          {migrate.KindFailed, "open", "permission denied"},
			filepath.Join(src, "closed"): {migrate.KindFailed, "walk", "permission denied"},
			"vanished.jpg":               {migrate.KindMissing, "stat", "does not exist"},
			"always-growing.jpg":         {migrate.KindFailed, "put", "file changed while uploading"},
			filepath.FromSlash(tooLong):  {migrate.KindInvalid, "resolve", fmt.Sprintf("key is %d bytes", len(tooLong))},
			nonUTF8:                      {migrate.KindInvalid, "resolve", "not valid UTF-8"},
			"pipe.jpg":                   {migrate.KindInvalid, "stat", "not a regular file (a named pipe)"},
			"dangling.jpg":               {migrate.KindMissing, "", "does not exist"},
		})
		growingFinal, _ := grown.Load("growing.jpg")
		good["growing.jpg"], _ = growingFinal.([]byte)
		if rep.Uploaded != int64(len(good)) {
			t.Errorf("report: %s; want the %d good files uploaded", reportBrief(rep), len(good))
		}
		checkAllIdentical(t, site.admin, site.bucket, "", good)
	})
}

// checkMultipart checks that key went up in parts: its ETag is a multipart one ("-N").
func checkMultipart(t *testing.T, site *proxiedSite, key string) {
	t.Helper()
	out, err := site.admin.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(site.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(out.ETag); !strings.Contains(etag, "-") {
		t.Errorf("%s has ETag %s: it did not go up in parts", key, etag)
	}
}
