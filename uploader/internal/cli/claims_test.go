package cli

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// claimBound is catalog.claimChunk: the most rows, and advisory locks, one uploader claims at
// a time on PostgreSQL.
const claimBound = 500

// TestMigratePostgresClaimsBounded runs with --concurrency 4096 (a page of 32,768 rows) on more
// pending rows than the claim bound, holds one PUT, and counts the advisory locks the server
// holds at that moment: they stay within the bound (one lock per row of the page ran the
// server out of shared memory). A dry run beside it takes no claim, so it sees the rows the
// real run holds and leaves the real run's rows to it.
func TestMigratePostgresClaimsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs moto and PostgreSQL")
	}
	t.Parallel()
	pg := testbed.StartPostgres(t)
	site := newHeldSite(t, "claims")
	const rows = 2*claimBound + 100
	src := filepath.Join(t.TempDir(), "media")
	paths := make([]string, rows)
	for i := range paths {
		paths[i] = fmt.Sprintf("p/%04d.jpg", i+1)
		writeFile(t, filepath.Join(src, paths[i]), fmt.Sprint(i))
	}
	dsn := pg.CreateDatabase(t, "claims")
	db := postgresTable(t, dsn, `CREATE TABLE photos (id bigserial PRIMARY KEY, file text NOT NULL, on_s3 boolean NOT NULL DEFAULT false)`, "photos", paths)
	advisoryLocks := func() (n int) {
		t.Helper()
		if err := db.QueryRow(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	args := []string{"migrate", "--tf-output", site.tfOutput, "--source", src, "--db", dsn, "--table", "photos",
		"--path-column", "file", "--flag-column", "on_s3", "--progress", "never", "--log-level", "warn"}

	// The held file is past the first claimed chunk.
	held := site.hold(t, paths[claimBound+claimBound/2])
	report := filepath.Join(t.TempDir(), "report.json")
	done := runAsync(t, append(args, "--concurrency", "4096", "--report", report)...)
	held.wait(t)
	if n := advisoryLocks(); n == 0 || n > claimBound {
		t.Errorf("%d advisory locks held during the run, want between 1 and %d", n, claimBound)
	}
	dryReport := filepath.Join(t.TempDir(), "dry.json")
	if code, _, stderr := run(t, "", append(args, "--dry-run", "--report", dryReport)...); code != ExitOK {
		t.Errorf("dry run beside the run: exit %d; stderr:\n%s", code, tail(stderr, 3000))
	} else if r := readReport(t, dryReport); r.WouldUpload < 1 {
		// The run goes on past the held file (no page barrier), so only the held row is
		// surely still pending.
		t.Errorf("the dry run would upload %d files, want at least the held one: it must not skip rows the run claimed", r.WouldUpload)
	}
	held.let()

	res := <-done
	if res[0] != fmt.Sprint(ExitOK) {
		t.Fatalf("exit %s, want %d; stderr:\n%s", res[0], ExitOK, tail(res[1], 3000))
	}
	if r := readReport(t, report); r.Uploaded != rows || r.Flagged != rows {
		t.Errorf("report: uploaded %d, flagged %d; want all %d", r.Uploaded, r.Flagged, rows)
	}
	var flagged int
	if err := db.QueryRow(`SELECT count(*) FROM photos WHERE on_s3`).Scan(&flagged); err != nil {
		t.Fatal(err)
	}
	if flagged != rows {
		t.Errorf("%d rows flagged, want %d", flagged, rows)
	}
}
