package migrate

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
)

// symlinkTree builds a source with a regular file, symlinks inward, outward, dangling and to a
// directory, and a FIFO.
func symlinkTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	src := filepath.Join(base, "src")
	for _, d := range []string{filepath.Join(src, "sub"), filepath.Join(base, "outside")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, data := range map[string]string{"src/a.jpg": "a", "src/sub/b.jpg": "bb", "outside/secret.jpg": "secret"} {
		if err := os.WriteFile(filepath.Join(base, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"inward.jpg": "a.jpg", "outward.jpg": "../outside/secret.jpg", "dangling.jpg": "nowhere.jpg", "subdir": "sub",
	} {
		if err := os.Symlink(target, filepath.Join(src, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(src, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

// outcomes maps each path of a report's run to "uploaded" or its error kind.
func outcomes(rep Report, done map[string]string) map[string]string {
	out := map[string]string{}
	for p := range done {
		out[p] = "uploaded"
	}
	for _, e := range rep.Errors {
		out[e.Path] = e.Kind
	}
	return out
}

// TestRunSymlinksSameRuleInBothModes runs the same tree through a table (a row per entry) and
// through the ledger: a symlink that stays inside the source is uploaded, outward links and
// non-regular files are invalid, a dangling link is missing, and nothing is left out.
func TestRunSymlinksSameRuleInBothModes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, _ := minioBucket(t, bucket)
	src := symlinkTree(t)
	want := map[string]string{
		"a.jpg": "uploaded", "sub/b.jpg": "uploaded", "inward.jpg": "uploaded",
		"outward.jpg": KindInvalid, "dangling.jpg": KindMissing, "subdir": KindInvalid, "pipe": KindInvalid,
	}
	table := newMemCatalog(slices.Sorted(maps.Keys(want))...)
	rep, err := Run(context.Background(), Config{Bucket: bucket, Source: src, KeyPrefix: "table/"}, Deps{S3: up, Catalog: table})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(rep, table.doneKeys()); !maps.Equal(got, want) {
		t.Errorf("table mode: %v, want %v", got, want)
	}

	ledger := openLedger(t, src)
	recorded := &recordingCatalog{Catalog: ledger}
	rep, err = Run(context.Background(), Config{Bucket: bucket, Source: src, KeyPrefix: "ledger/"}, Deps{S3: up, Catalog: recorded})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(rep, recorded.done); !maps.Equal(got, want) {
		t.Errorf("ledger mode: %v, want %v", got, want)
	}
	// What was uploaded is recorded by its target's stat: the next walk finds it done.
	recorded.done = map[string]string{}
	rep, err = Run(context.Background(), Config{Bucket: bucket, Source: src, KeyPrefix: "ledger/"}, Deps{S3: up, Catalog: recorded})
	if err != nil || rep.Uploaded != 0 || rep.Invalid != 3 || rep.Missing != 1 {
		t.Errorf("ledger rerun: %s, %v; want nothing uploaded, the 4 skipped entries reported again", brief(rep), err)
	}
}

// recordingCatalog notes the paths a catalog was told are done.
type recordingCatalog struct {
	Catalog
	done map[string]string
}

func (c *recordingCatalog) MarkDone(ctx context.Context, done []catalog.Done) (int, error) {
	if c.done == nil {
		c.done = map[string]string{}
	}
	for _, d := range done {
		c.done[d.Path] = d.Key
	}
	return c.Catalog.MarkDone(ctx, done)
}

// TestRunMinAge skips files modified less than --min-age ago (counted as too new, not flagged)
// and takes them once they are old enough.
func TestRunMinAge(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, _ := minioBucket(t, bucket)
	src := tree(t, map[string][]byte{"old.jpg": {1}, "fresh.jpg": {2}})
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for name, mtime := range map[string]time.Time{"old.jpg": now.Add(-time.Hour), "fresh.jpg": now.Add(-time.Minute)} {
		if err := os.Chtimes(filepath.Join(src, name), mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	for _, mode := range []string{"table", "ledger"} {
		var cat Catalog = newMemCatalog("fresh.jpg", "old.jpg")
		if mode == "ledger" {
			cat = openLedger(t, src)
		}
		cfg := Config{Bucket: bucket, Source: src, KeyPrefix: mode + "/", MinAge: 10 * time.Minute}
		rep, err := Run(context.Background(), cfg, Deps{S3: up, Catalog: cat, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Uploaded != 1 || rep.Flagged != 1 || rep.TooNew != 1 || len(rep.Errors) != 0 {
			t.Fatalf("%s: %s, too new %d; want old.jpg uploaded and fresh.jpg too new", mode, brief(rep), rep.TooNew)
		}
		if n := pendingCount(t, cat); n != 1 {
			t.Fatalf("%s: %d pending after the run, want fresh.jpg", mode, n)
		}
		later := func() time.Time { return now.Add(20 * time.Minute) }
		rep, err = Run(context.Background(), cfg, Deps{S3: up, Catalog: cat, Now: later})
		if err != nil || rep.Uploaded != 1 || rep.TooNew != 0 {
			t.Fatalf("%s, 20 minutes later: %s, too new %d, %v; want fresh.jpg uploaded", mode, brief(rep), rep.TooNew, err)
		}
	}
}

// TestRunFIFOSwappedIn is source.TestOpenSourceFIFOSwappedIn through a whole run: the run finishes,
// the swapped file is invalid and the others are uploaded.
func TestRunFIFOSwappedIn(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, _ := minioBucket(t, bucket)
	files, paths := numberedFiles(t, 3)
	src := tree(t, files)
	swap := func(path string) {
		if filepath.Base(path) != "f01.jpg" {
			return
		}
		if err := os.Remove(path); err != nil {
			t.Error(err)
		}
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Error(err)
		}
	}
	rep, _, err := runBounded(t, 60*time.Second, Config{Bucket: bucket, Source: src}, Deps{S3: up, Catalog: newMemCatalog(paths...), beforeOpen: swap})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Uploaded != 2 || rep.Invalid != 1 || rep.Errors[0].Path != "f01.jpg" || !strings.Contains(rep.Errors[0].Message, "named pipe") {
		t.Fatalf("report %s; want f01.jpg invalid (a named pipe) and the others uploaded", brief(rep))
	}
}
