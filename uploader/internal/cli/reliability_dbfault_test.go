package cli

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// postgresPhotos creates the application table photos(id, file, on_s3, etag) in a new database
// of pg with one pending row per path, and returns its DSN and a handle on it.
func postgresPhotos(t *testing.T, pg *testbed.Postgres, database string, paths []string) (string, *sql.DB) {
	t.Helper()
	dsn := pg.CreateDatabase(t, database)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE photos (id bigserial PRIMARY KEY, file text NOT NULL, on_s3 boolean NOT NULL DEFAULT false, etag text)`); err != nil {
		t.Fatal(err)
	}
	insertRows(t, db, `INSERT INTO photos (file) VALUES ($1)`, paths)
	return dsn, db
}

// pgBed is the set-up of the tests on PostgreSQL: n files, a table listing them in a new
// database, and a MinIO bucket behind a proxy.
type pgBed struct {
	pg    *testbed.Postgres
	site  *proxiedSite
	src   string
	files map[string][]byte
	dsn   string
	db    *sql.DB
}

func newPGBed(t *testing.T, n int, name string) pgBed {
	t.Helper()
	b := pgBed{pg: testbed.StartPostgres(t)}
	b.site = newProxiedSite(t, testbed.StartMinIO(t), name)
	b.src, b.files = mediaTree(t, n)
	b.dsn, b.db = postgresPhotos(t, b.pg, name, sortedNames(b.files))
	return b
}

// TestReliabilityDatabaseGone proves that the database going away mid-run ends the run cleanly
// and guesses no flag: PostgreSQL is shut down after 300 uploads; the uploader exits 3 within a
// bound, its report says how far it got (uploads confirmed, flags written), every flag in the
// table has its object and the table holds no more flags than uploads were confirmed. Once the
// database is back, a rerun finishes the work.
func TestReliabilityDatabaseGone(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and MinIO; runs the uploader binary")
	}
	t.Parallel()
	uploaderBinary(t)
	b := newPGBed(t, 1200, "dbgone")
	pg, site, src, files, dsn, db := b.pg, b.site, b.src, b.files, b.dsn, b.db
	site.proxy.SetFaults(testbed.Faults{Delay: 3 * time.Millisecond})
	report := filepath.Join(t.TempDir(), "report.json")
	args := []string{"migrate", "--tf-output", site.tfOutput, "--source", src, "--progress", "never", "--concurrency", "8",
		"--batch-size", "20", "--db", dsn, "--table", "photos", "--path-column", "file", "--flag-column", "on_s3",
		"--etag-column", "etag", "--report", report}
	flagged := func() []string { return flaggedPaths(t, db, "SELECT file FROM photos WHERE on_s3") }

	p := startUploader(t, args)
	reached := make(chan struct{})
	var once sync.Once
	site.onPut(func(n int) {
		if n >= 300 {
			once.Do(func() { close(reached) })
		}
	})
	select {
	case <-reached:
	case <-p.done:
		t.Fatalf("the run ended (exit %d) before the database was stopped; stderr:\n%s", p.code, tail(p.stderr.String(), 2000))
	case <-time.After(60 * time.Second):
		t.Fatal("300 uploads did not happen within 60 s")
	}
	db.Close() // our own session would delay the shutdown
	stopped := time.Now()
	pg.Stop(t)
	code := p.wait(t, 90*time.Second)
	site.proxy.OnExchange(nil)
	took := p.ended.Sub(stopped)
	stderr := p.stderr.String()
	rep := readReport(t, report)
	t.Logf("exit %d %s after the database stopped; report: %s", code, took.Round(time.Millisecond), reportBrief(rep))
	if code != ExitFatal {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, ExitFatal, tail(stderr, 3000))
	}
	if took > 30*time.Second {
		t.Errorf("the uploader took %s to notice the database was gone", took)
	}
	if rep.Uploaded < 300 || rep.Flagged == 0 || rep.Flagged > rep.Uploaded {
		t.Errorf("report: %s; want how far it got: at least 300 uploads, some of them flagged", reportBrief(rep))
	}
	if !strings.Contains(rep.Error, "catalog") {
		t.Errorf("the report's error %q does not say the catalog stopped the run", rep.Error)
	}
	for _, want := range []string{"catalog", "exit_code=3", fmt.Sprintf("flagged=%d", rep.Flagged)} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, tail(stderr, 2000))
		}
	}

	pg.Start(t)
	db = reopen(t, dsn)
	got := flagged()
	// A COMMIT whose answer was lost may have flagged a batch the report could not count;
	// nothing beyond the confirmed uploads can be flagged.
	if int64(len(got)) < rep.Flagged || int64(len(got)) > rep.Uploaded {
		t.Errorf("%d rows flagged; the report says %d flags written of %d uploads", len(got), rep.Flagged, rep.Uploaded)
	}
	checkFlaggedStored(t, site.admin, site.bucket, "", got, files)

	code, _, stderr = runUploader(t, 60*time.Second, args)
	rep = readReport(t, report)
	if code != ExitOK || rep.Uploaded != int64(len(files)-len(got)) {
		t.Fatalf("rerun: exit %d, %s; want the %d unflagged files; stderr:\n%s", code, reportBrief(rep), len(files)-len(got), tail(stderr, 2000))
	}
	if got = flagged(); len(got) != len(files) {
		t.Errorf("after the rerun %d of %d rows are flagged", len(got), len(files))
	}
	checkAllIdentical(t, site.admin, site.bucket, "", files)
}

func reopen(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
