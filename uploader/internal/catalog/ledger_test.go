package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeTree creates files (slash-separated relative paths mapped to content) under root.
func makeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func openLedger(t *testing.T, cfg LedgerConfig) *Ledger {
	t.Helper()
	return mustOpen(t, func(ctx context.Context) (*Ledger, error) { return OpenLedger(ctx, cfg) })
}

// markAll records every record as uploaded with the size and mtime the walk saw.
func markAll(t *testing.T, c Catalog, recs []Record) {
	t.Helper()
	done := make([]Done, len(recs))
	for i, r := range recs {
		done[i] = Done{Record: r, Key: "media/" + r.ID, ETag: `"` + r.ID + `"`, Size: r.Size, ModTime: r.ModTime,
			ChangeTime: r.ChangeTime, Inode: r.Inode, UploadedAt: time.Now()}
	}
	if _, err := c.MarkDone(context.Background(), done); err != nil {
		t.Fatalf("MarkDone: %v", err)
	}
}

func flatten(batches [][]Record) []Record {
	var out []Record
	for _, b := range batches {
		out = append(out, b...)
	}
	return out
}

func TestLedger(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"top.png":              "png bytes",
		"empty.txt":            "",
		"a/b/c/deep.jpg":       "deep",
		"a/b/sibling.jpg":      "sibling",
		"a/one more file.webp": "spaces and all",
		"z/ünïcødé+#%.gif":     "unicode",
	}
	regular := []string{"a/b/c/deep.jpg", "a/b/sibling.jpg", "a/one more file.webp", "empty.txt", "top.png", "z/ünïcødé+#%.gif"}
	// Entries that are not regular files are records too, for the engine to upload (a symlink
	// inside the source) or report (the rest), as it does with a table's rows.
	others := []string{"link.png", "linkdir", "outside.png", "pipe"}
	all := slices.Sorted(slices.Values(append(slices.Clone(regular), others...)))

	tests := []struct {
		name string
		// ledger is the ledger path relative to a temp dir that holds "src".
		ledger string
	}{
		{"ledger outside the source", "state/ledger.db"},
		{"ledger inside the source", "src/ledger.db"},
		{"ledger deep inside the source", "src/a/.uploader/ledger.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			makeTree(t, src, files)
			// Things that are not regular files.
			for link, target := range map[string]string{"link.png": "top.png", "linkdir": "a", "outside.png": "/etc/passwd"} {
				if err := os.Symlink(target, filepath.Join(src, link)); err != nil {
					t.Fatal(err)
				}
			}
			if err := syscall.Mkfifo(filepath.Join(src, "pipe"), 0o644); err != nil {
				t.Fatal(err)
			}
			ledgerPath := filepath.Join(dir, filepath.FromSlash(tt.ledger))
			if err := os.MkdirAll(filepath.Dir(ledgerPath), 0o755); err != nil {
				t.Fatal(err)
			}
			l := openLedger(t, LedgerConfig{Path: ledgerPath, Source: src})

			// First run: every entry, in lexical order, with what the walk saw.
			first := flatten(collect(t, l, 4))
			if got := recordIDs(first); !slices.Equal(got, all) {
				t.Fatalf("first Pending = %q, want %q", got, all)
			}
			for _, r := range first {
				if slices.Contains(others, r.ID) {
					continue
				}
				fi, err := os.Lstat(filepath.Join(src, r.Path))
				if err != nil {
					t.Fatalf("record %s: %v", r.ID, err)
				}
				ctime, inode := FileIdentity(fi)
				if r.Size != fi.Size() || !r.ModTime.Equal(fi.ModTime()) || !r.ChangeTime.Equal(ctime) || r.Inode != inode || inode == 0 {
					t.Errorf("record %s: size %d mtime %v ctime %v inode %d, want %d %v %v %d", r.ID, r.Size, r.ModTime, r.ChangeTime, r.Inode,
						fi.Size(), fi.ModTime(), ctime, inode)
				}
				if r.ID != filepath.ToSlash(r.Path) {
					t.Errorf("record id %q is not the slash form of path %q", r.ID, r.Path)
				}
			}

			// The ledger's own files now exist (db, WAL, lock) and are still not pending.
			markAll(t, l, first)
			if got := recordIDs(flatten(collect(t, l, 4))); len(got) != 0 {
				t.Fatalf("Pending after MarkDone = %q, want none", got)
			}

			// Change one file's size, touch another's mtime: only those come back.
			if err := os.WriteFile(filepath.Join(src, "top.png"), []byte("new png bytes"), 0o644); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(filepath.Join(src, "a/b/sibling.jpg"), later, later); err != nil {
				t.Fatal(err)
			}
			changed := flatten(collect(t, l, 4))
			// link.png points to top.png: its target changed, so it is sent again too.
			if got, want := recordIDs(changed), []string{"a/b/sibling.jpg", "link.png", "top.png"}; !slices.Equal(got, want) {
				t.Fatalf("Pending after changes = %q, want %q", got, want)
			}

			// The engine records what it uploaded: if the file changed during the upload,
			// the recorded size differs from the file and it is sent again next time.
			markAll(t, l, changed[:2])
			stale := changed[2]
			stale.Size--
			markAll(t, l, []Record{stale})
			if got, want := recordIDs(flatten(collect(t, l, 4))), []string{"top.png"}; !slices.Equal(got, want) {
				t.Fatalf("Pending after recording a stale size = %q, want %q", got, want)
			}
		})
	}
}

func recordIDs(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func TestLedgerBatches(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	files := map[string]string{}
	var all []string
	for i := range 30 {
		rel := fmt.Sprintf("d%d/f%02d.jpg", i%3, i)
		files[rel] = strings.Repeat("x", i)
		all = append(all, rel)
	}
	slices.Sort(all)
	makeTree(t, src, files)
	l := openLedger(t, LedgerConfig{Path: filepath.Join(t.TempDir(), "ledger.db"), Source: src})

	// Every third file is already recorded, so each walked chunk yields fewer records than
	// a batch: Pending still hands out full batches until the last one.
	var recorded []Record
	for _, r := range flatten(collect(t, l, 100)) {
		if strings.HasSuffix(r.ID, "0.jpg") || strings.HasSuffix(r.ID, "3.jpg") || strings.HasSuffix(r.ID, "6.jpg") {
			recorded = append(recorded, r)
		}
	}
	markAll(t, l, recorded)

	batches := collect(t, l, 4)
	var sizes []int
	for _, b := range batches {
		sizes = append(sizes, len(b))
	}
	want := len(all) - len(recorded)
	if wantSizes := append(slices.Repeat([]int{4}, want/4), want%4); !slices.Equal(sizes, slices.DeleteFunc(wantSizes, func(n int) bool { return n == 0 })) {
		t.Errorf("batch sizes = %v for %d pending files", sizes, want)
	}
	got := recordIDs(flatten(batches))
	if !slices.IsSorted(got) || len(got) != want {
		t.Errorf("pending = %q: want %d files in lexical order", got, want)
	}
}

func TestLedgerNonUTF8Names(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	name := "caf\xe9.jpg" // Latin-1, not UTF-8
	makeTree(t, src, map[string]string{name: "bytes"})
	l := openLedger(t, LedgerConfig{Path: filepath.Join(t.TempDir(), "ledger.db"), Source: src})
	first := flatten(collect(t, l, 10))
	if len(first) != 1 || first[0].ID != name {
		t.Fatalf("Pending = %q, want [%q]", recordIDs(first), name)
	}
	markAll(t, l, first)
	if got := recordIDs(flatten(collect(t, l, 10))); len(got) != 0 {
		t.Errorf("Pending after MarkDone = %q: the name did not round-trip through the ledger", got)
	}
}

func TestLedgerStops(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	makeTree(t, src, map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"})
	l := openLedger(t, LedgerConfig{Path: filepath.Join(t.TempDir(), "ledger.db"), Source: src})

	stop := errors.New("stop")
	calls := 0
	if err := l.Pending(context.Background(), 2, func([]Record) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Pending with failing fn = %v after %d calls, want %v after 1", err, calls, stop)
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	if err := l.Pending(ctx, 2, func([]Record) error { calls++; cancel(); return nil }); !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("Pending with cancelled ctx = %v after %d calls, want context.Canceled after 1", err, calls)
	}
}

func TestLedgerWalkError(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads unreadable directories; this test needs an ordinary user")
	}
	src := t.TempDir()
	makeTree(t, src, map[string]string{"a.jpg": "a", "locked/b.jpg": "b", "z.jpg": "z"})
	locked := filepath.Join(src, "locked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })

	l := openLedger(t, LedgerConfig{Path: filepath.Join(t.TempDir(), "ledger.db"), Source: src})
	if err := l.Pending(context.Background(), 10, func([]Record) error { return nil }); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("Pending without WalkError = %v, want an error naming the unreadable directory", err)
	}

	var reported []string
	l.walkError = func(path string, err error) { reported = append(reported, path) }
	got := recordIDs(flatten(collect(t, l, 10)))
	if !slices.Equal(got, []string{"a.jpg", "z.jpg"}) || !slices.Equal(reported, []string{locked}) {
		t.Errorf("Pending with WalkError = %q, reported %q; want a.jpg and z.jpg, and %s reported", got, reported, locked)
	}
}

func TestOpenLedgerErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	makeTree(t, dir, map[string]string{"file": "x"})
	tests := []struct {
		name    string
		cfg     LedgerConfig
		wantErr string
	}{
		{"no path", LedgerConfig{Source: dir}, "ledger path is empty"},
		{"no source", LedgerConfig{Path: filepath.Join(dir, "l.db")}, "source directory is empty"},
		{"missing source", LedgerConfig{Path: filepath.Join(dir, "l.db"), Source: filepath.Join(dir, "nope")}, "nope"},
		{"source is a file", LedgerConfig{Path: filepath.Join(dir, "l.db"), Source: file}, "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := OpenLedger(context.Background(), tt.cfg)
			if err == nil {
				l.Close()
				t.Fatal("OpenLedger succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

// TestLedgerReadOnly checks the dry run's ledger: a missing ledger reads as empty and is not
// created, an existing one is read but not changed, no lock is taken (a dry run does not wait
// for a running uploader) and MarkDone fails.
func TestLedgerReadOnly(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	makeTree(t, src, map[string]string{"a.jpg": "a", "b/c.png": "c", "d.gif": "d"})

	t.Run("missing ledger", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "ledger.db")
		l := openLedger(t, LedgerConfig{Path: path, Source: src, ReadOnly: true})
		if got := ids(collect(t, l, 2)); !slices.Equal(got, []string{"a.jpg", "b/c.png", "d.gif"}) {
			t.Errorf("pending = %v, want every file", got)
		}
		_, err := l.MarkDone(context.Background(), []Done{{Record: Record{ID: "a.jpg"}, Key: "a.jpg"}})
		if err == nil || !strings.Contains(err.Error(), "read-only, for a dry run") {
			t.Errorf("MarkDone: %v, want a read-only error", err)
		}
		if entries := readDir(t, dir); len(entries) != 0 {
			t.Errorf("a read-only open of a missing ledger created %v", entries)
		}
	})

	t.Run("existing ledger, locked by a running uploader", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "ledger.db")
		writer := openLedger(t, LedgerConfig{Path: path, Source: src})
		recs := flatten(collect(t, writer, 10))
		markAll(t, writer, recs[:1]) // a.jpg
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The writer still holds the lock: a read-only open neither waits nor fails.
		l := openLedger(t, LedgerConfig{Path: path, Source: src, ReadOnly: true})
		if got := ids(collect(t, l, 2)); !slices.Equal(got, []string{"b/c.png", "d.gif"}) {
			t.Errorf("pending = %v, want the two files not recorded", got)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(before, after) {
			t.Error("a read-only open changed the ledger file")
		}
	})
}

// TestLedgerSameSizeAndMtimeReplacement checks that a file replaced by one of the same size and
// mtime is pending again: its inode differs (a rename over it) or its ctime does.
func TestLedgerSameSizeAndMtimeReplacement(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	makeTree(t, src, map[string]string{"a.jpg": "original", "b.jpg": "original"})
	l := openLedger(t, LedgerConfig{Path: filepath.Join(dir, "ledger.db"), Source: src})
	first := flatten(collect(t, l, 10))
	markAll(t, l, first)
	if got := recordIDs(flatten(collect(t, l, 10))); len(got) != 0 {
		t.Fatalf("Pending after MarkDone = %q, want none", got)
	}

	// An editor or a sync tool writes a.jpg anew and renames it into place, keeping the size
	// and setting the old mtime back: only the inode tells.
	a := filepath.Join(src, "a.jpg")
	fi, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(src, ".a.jpg.tmp")
	if err := os.WriteFile(tmp, []byte("replaced"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, a); err != nil {
		t.Fatal(err)
	}
	if got, want := recordIDs(flatten(collect(t, l, 10))), []string{"a.jpg"}; !slices.Equal(got, want) {
		t.Fatalf("Pending after a same-size, same-mtime replacement = %q, want %q", got, want)
	}

	// Recorded with another ctime than the file has now (the file changed in place after the
	// stat the engine recorded), b.jpg is pending too.
	b := first[slices.IndexFunc(first, func(r Record) bool { return r.ID == "b.jpg" })]
	b.ChangeTime = b.ChangeTime.Add(-time.Second)
	markAll(t, l, []Record{b})
	if got, want := recordIDs(flatten(collect(t, l, 10))), []string{"a.jpg", "b.jpg"}; !slices.Equal(got, want) {
		t.Fatalf("Pending after recording another ctime = %q, want %q", got, want)
	}
}

// TestLedgerUpgrade opens a ledger written before ctime and inode were recorded: its rows are
// compared by size and mtime (nothing is uploaded again), and the columns are added.
func TestLedgerUpgrade(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	makeTree(t, src, map[string]string{"a.jpg": "a"})
	fi, err := os.Stat(filepath.Join(src, "a.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ledger.db")
	db, err := sql.Open("sqlite", sqliteDataSource(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, etag TEXT, key TEXT, uploaded_at TEXT)",
		fmt.Sprintf("INSERT INTO files VALUES ('a.jpg', 1, %d, '\"e\"', 'a.jpg', '2026-01-01T00:00:00Z')", fi.ModTime().UnixNano()),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	for _, readOnly := range []bool{true, false} {
		l := openLedger(t, LedgerConfig{Path: path, Source: src, ReadOnly: readOnly})
		if got := recordIDs(flatten(collect(t, l, 10))); len(got) != 0 {
			t.Errorf("read-only %v: Pending = %q, want none", readOnly, got)
		}
		l.Close()
	}
}
