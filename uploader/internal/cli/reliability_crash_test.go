package cli

import (
	"database/sql"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// crashMode is one kind of catalog the crash and signal tests run on: the arguments that
// select it and a way to read which files it has recorded as uploaded.
type crashMode struct {
	name    string
	args    []string
	flagged func(t *testing.T) []string
}

// sqliteMode is an application table in SQLite with one pending row per name.
func sqliteMode(t *testing.T, names []string) crashMode {
	t.Helper()
	dsn, db := photosTable(t, names)
	return crashMode{
		name: "sqlite table",
		args: []string{"--db", dsn, "--table", "photos", "--path-column", "file", "--flag-column", "on_s3", "--etag-column", "etag"},
		flagged: func(t *testing.T) []string {
			return flaggedPaths(t, db, "SELECT file FROM photos WHERE on_s3")
		},
	}
}

// ledgerMode is a ledger in a fresh directory.
func ledgerMode(t *testing.T) crashMode {
	t.Helper()
	ledger := filepath.Join(t.TempDir(), "ledger.db")
	return crashMode{
		name: "ledger",
		args: []string{"--ledger", ledger},
		flagged: func(t *testing.T) []string {
			if _, err := os.Stat(ledger); os.IsNotExist(err) {
				return nil // killed before it was created
			}
			db, err := sql.Open("sqlite", ledger)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			return flaggedPaths(t, db, "SELECT path FROM files")
		},
	}
}

// TestReliabilityKill9 proves "never a lie": the uploader is killed with SIGKILL at several
// points of a 2,500-file run (right after the first confirmed upload, after a random delay that
// may fall before any upload, and after hundreds of uploads while flags are being written in
// batches of 7), in table mode (SQLite) and in ledger mode. After every kill, every record the
// catalog holds as uploaded has its object, of the file's size and MD5. A last run then finishes
// the work, re-sending exactly the files that were not flagged, and every object is read back
// and compared byte for byte.
func TestReliabilityKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO; runs the uploader binary")
	}
	t.Parallel()
	uploaderBinary(t) // build before the clocks start
	m := testbed.StartMinIO(t)
	src, files := mediaTree(t, 2500)
	names := sortedNames(files)

	for _, mode := range []func(t *testing.T) crashMode{
		func(t *testing.T) crashMode { return sqliteMode(t, names) },
		ledgerMode,
	} {
		mode := mode(t)
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			bucket := map[string]string{"sqlite table": "crash-table", "ledger": "crash-ledger"}[mode.name]
			site := newProxiedSite(t, m, bucket)
			report := filepath.Join(t.TempDir(), "report.json")
			args := append([]string{"migrate", "--tf-output", site.tfOutput, "--source", src, "--progress", "never",
				"--log-level", "warn", "--batch-size", "7", "--report", report}, mode.args...)

			// Kill points: after this many confirmed uploads of the run, or after a delay.
			kills := []struct {
				afterPuts  int
				afterDelay time.Duration
			}{
				{afterPuts: 1},
				{afterDelay: time.Duration(50+rand.IntN(350)) * time.Millisecond},
				{afterPuts: 150},
				{afterPuts: 500},
				{afterPuts: 900},
			}
			previous := 0
			for i, k := range kills {
				p := startUploader(t, args)
				var once sync.Once
				kill := func() { once.Do(func() { _ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL) }) }
				if k.afterPuts > 0 {
					site.onPut(func(n int) {
						if n >= k.afterPuts {
							kill()
						}
					})
				} else {
					time.AfterFunc(k.afterDelay, kill)
				}
				code := p.wait(t, 60*time.Second)
				site.proxy.OnExchange(nil)
				if code != -1 {
					t.Fatalf("kill %d: the uploader exited by itself (code %d) before the kill; stderr:\n%s", i+1, code, tail(p.stderr.String(), 2000))
				}
				flagged := mode.flagged(t)
				checkFlaggedStored(t, site.admin, site.bucket, "", flagged, files)
				t.Logf("kill %d (%+v): %d flagged, %d uploads confirmed so far", i+1, k, len(flagged), site.putsDone())
				if len(flagged) < previous {
					t.Fatalf("kill %d: %d records flagged, fewer than the %d before: a flag was lost", i+1, len(flagged), previous)
				}
				previous = len(flagged)
			}
			if previous == 0 || previous >= len(files) {
				t.Fatalf("%d of %d files flagged after the kills: the kills did not land mid-run", previous, len(files))
			}

			code, _, stderr := runUploader(t, 60*time.Second, args)
			rep := readReport(t, report)
			if code != ExitOK {
				t.Fatalf("final run: exit %d, report %s; stderr:\n%s", code, reportBrief(rep), tail(stderr, 2000))
			}
			if want := int64(len(files) - previous); rep.Uploaded != want || rep.Flagged != want || rep.Failed != 0 {
				t.Errorf("final run: %s; want the %d unflagged files uploaded and flagged", reportBrief(rep), want)
			}
			if flagged := mode.flagged(t); len(flagged) != len(files) {
				t.Errorf("%d of %d records flagged after the final run", len(flagged), len(files))
			}
			checkAllIdentical(t, site.admin, site.bucket, "", files)
		})
	}
}
